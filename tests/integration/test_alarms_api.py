"""Alarms over HTTP: the list ({items,total,limit,offset}) filtered by activity and site (code or id), one
alarm with its history, its next escalation from the site's own setting, site isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    page = r.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 100, 0)
    assert [(a["deviceId"], a["code"], a["severity"]) for a in page["items"]] == [
        ("elev-a1", "ELEVATOR_ENTRAPMENT", "critical")
    ]
    everything = (await client.get("/api/v1/alarms", params={"site": "demo"}, headers=headers)).json()
    assert {a["code"] for a in everything["items"]} == {"ELEVATOR_ENTRAPMENT", "WATER_LEAK"}
    assert everything["total"] == 2
    second = (await client.get("/api/v1/alarms", params={"limit": 1, "offset": 1}, headers=headers)).json()
    assert len(second["items"]) == 1 and second["total"] == 2

    alarm = page["items"][0]
    assert alarm["workOrderId"] is not None
    assert alarm["workOrder"]["id"] == alarm["workOrderId"] and alarm["workOrder"]["kind"] == "emergency"
    assert alarm["escalationLevel"] == 0 and alarm["escalatesTo"] == "supervisor"
    raised = datetime.fromisoformat(alarm["raisedAt"])
    assert datetime.fromisoformat(alarm["ackDueAt"]) - raised == timedelta(seconds=60)
    assert alarm["location"] and alarm["buildingName"]
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
    for ref in (str(other), "other"):
        r = await client.get("/api/v1/alarms", params={"site": ref}, headers=headers)
        assert r.status_code == 404 and r.json()["code"] == "site_not_found"
    assert (await client.get("/api/v1/alarms", headers=headers)).json()["items"] == []


async def test_ack_due_follows_the_sites_own_setting_and_stops_at_acknowledgement(
    db: asyncpg.Connection, client: AsyncTestClient, login_as: LoginAs
) -> None:
    await db.execute(
        """UPDATE sites SET settings = '{"alarmAckSupervisorSeconds": 25, "alarmAckManagerSeconds": 90}'
           WHERE code = 'demo'"""
    )
    await _raise(db, "elev-a1", "ELEVATOR_ENTRAPMENT", "s1")
    headers = await login_as("guard1")
    [alarm] = (await client.get("/api/v1/alarms", params={"site": "demo"}, headers=headers)).json()["items"]
    raised = datetime.fromisoformat(alarm["raisedAt"])
    assert datetime.fromisoformat(alarm["ackDueAt"]) - raised == timedelta(seconds=25)
    await db.execute("UPDATE alarms SET escalation_level = 1 WHERE id = $1", alarm["id"])
    detail = (await client.get(f"/api/v1/alarms/{alarm['id']}", headers=headers)).json()
    assert datetime.fromisoformat(detail["ackDueAt"]) - raised == timedelta(seconds=90)
    assert detail["escalatesTo"] == "manager"
    acked = await client.post(
        f"/api/v1/alarms/{alarm['id']}/ack", headers={**headers, "Idempotency-Key": "k1"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["ackDueAt"] is None and acked.json()["escalatesTo"] is None


async def test_resolving_with_an_open_emergency_needs_a_reason_and_leaves_the_job_open(
    db: asyncpg.Connection, client: AsyncTestClient, login_as: LoginAs
) -> None:
    await _raise(db, "elev-a1", "ELEVATOR_ENTRAPMENT", "r1")
    alarm_id, order_id = await db.fetchrow(
        """SELECT a.id, w.id FROM alarms a JOIN work_orders w ON w.alarm_id = a.id
           WHERE a.device_id = 'elev-a1'"""
    )
    headers = await login_as("guard1")
    url = f"/api/v1/alarms/{alarm_id}/resolve"
    refused = await client.post(url, headers={**headers, "Idempotency-Key": "r-1"}, json={})
    assert refused.status_code == 422 and refused.json()["code"] == "alarm_resolve_reason_required"
    blank = await client.post(url, headers={**headers, "Idempotency-Key": "r-2"}, json={"note": "  "})
    assert blank.status_code == 422
    status_before = await db.fetchval("SELECT status FROM work_orders WHERE id = $1", order_id)
    done = await client.post(
        url, headers={**headers, "Idempotency-Key": "r-3"}, json={"note": "误报，已到现场查看"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["open"] is False and done.json()["workOrder"]["done"] is False
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", order_id) == status_before
    resolved = await db.fetchval(
        "SELECT payload FROM alarm_events WHERE alarm_id = $1 AND action = 'resolved'", alarm_id
    )
    assert resolved["note"] == "误报，已到现场查看" and resolved["workOrderOpen"]["id"] == str(order_id)
