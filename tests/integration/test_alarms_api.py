"""Alarms over HTTP: the list filtered by activity and site, one alarm with its history, site isolation."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.queries.alarms import devices_by_id
from backend.services.alarms import record_device_event
from tests.conftest import LoginAs


async def _raise(
    db: asyncpg.Connection, device_id: str, code: str, event_id: str, state: str = "raised"
) -> None:
    now = datetime.now(UTC)
    device = (await devices_by_id(db, [device_id]))[device_id]
    async with db.transaction():
        await record_device_event(
            db, device, event_id=event_id, code=code, state=state, ts=now, detail={"floor": 7}, now=now
        )


async def test_guard_lists_active_alarms_and_reads_one_with_its_history(
    db: asyncpg.Connection, client: AsyncTestClient, login_as: LoginAs
) -> None:
    await _raise(db, "elev-a1", "ELEVATOR_ENTRAPMENT", "e1")
    await _raise(db, "leak-1", "WATER_LEAK", "e2")
    await _raise(db, "leak-1", "WATER_LEAK", "e3", "cleared")
    headers = await login_as("guard1")

    r = await client.get("/api/v1/alarms", params={"active": "true"}, headers=headers)
    assert r.status_code == 200, r.text
    assert [(a["deviceId"], a["code"], a["severity"]) for a in r.json()] == [
        ("elev-a1", "ELEVATOR_ENTRAPMENT", "critical")
    ]
    everything = (await client.get("/api/v1/alarms", headers=headers)).json()
    assert {a["code"] for a in everything} == {"ELEVATOR_ENTRAPMENT", "WATER_LEAK"}

    alarm = r.json()[0]
    assert alarm["workOrderId"] is not None
    detail = await client.get(f"/api/v1/alarms/{alarm['id']}", headers=headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["detail"] == {"floor": 7}
    assert [e["action"] for e in body["events"]] == ["raised"]


async def test_another_sites_alarm_is_not_found(
    db: asyncpg.Connection, client: AsyncTestClient, login_as: LoginAs
) -> None:
    other = await db.fetchval("INSERT INTO sites (code, name) VALUES ('other', '别的小区') RETURNING id")
    await db.execute(
        "INSERT INTO devices (id, site_id, kind, name) VALUES ('elev-x1', $1, 'elevator', '别处电梯')", other
    )
    await _raise(db, "elev-x1", "ELEVATOR_STOPPED", "x1")
    alarm_id = await db.fetchval("SELECT id FROM alarms WHERE device_id = 'elev-x1'")
    headers = await login_as("guard1")
    assert (await client.get(f"/api/v1/alarms/{alarm_id}", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/alarms", params={"site": str(other)}, headers=headers)).json() == []
    assert (await client.get("/api/v1/alarms", headers=headers)).json() == []
