"""Laying out rounds over the API as the set-up screen does: points renamed or switched off (their QR code
unchanged), routes renamed or switched off, schedules switched off and on again from the next slot, and the
site's printable QR sheet of every active point."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock


async def send(client: AsyncTestClient, headers: dict[str, str], method: str, path: str, body: dict) -> Any:
    return await client.request(
        method, f"/api/v1{path}", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )


async def test_points_routes_and_schedules_are_edited(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    supervisor = await login_as("supervisor")
    made = await send(
        client, supervisor, "POST", "/check-points", {"site": "demo", "name": "4栋大堂", "place": "4栋一层"}
    )
    assert made.status_code == 201, made.text
    point = made.json()
    renamed = await send(client, supervisor, "PATCH", f"/check-points/{point['id']}", {"name": "4栋北大堂"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["place"], renamed.json()["qr"]) == (
        "4栋北大堂",
        "4栋一层",
        point["qr"],
    )
    taken = await send(client, supervisor, "PATCH", f"/check-points/{point['id']}", {"name": "1栋大堂"})
    assert taken.status_code == 409 and taken.json()["code"] == "name_taken"
    unknown = await send(client, supervisor, "PATCH", f"/check-points/{point['id']}", {"colour": "red"})
    assert unknown.status_code in (400, 422) and "colour" in unknown.text
    off = await send(client, supervisor, "PATCH", f"/check-points/{point['id']}", {"active": False})
    assert off.json()["active"] is False

    route = await db.fetchrow("SELECT id, name FROM round_routes WHERE name = '经理巡视'")
    changed = await send(client, supervisor, "PATCH", f"/round-routes/{route['id']}", {"expectedMinutes": 50})
    assert changed.status_code == 200 and changed.json()["expectedMinutes"] == 50
    assert changed.json()["name"] == "经理巡视" and len(changed.json()["points"]) > 0
    clash = await send(client, supervisor, "PATCH", f"/round-routes/{route['id']}", {"name": "夜间巡逻"})
    assert clash.status_code == 409

    schedule = await db.fetchrow(
        "SELECT id, next_slot_at FROM round_schedules WHERE route_id = $1", route["id"]
    )
    stopped = await send(client, supervisor, "PATCH", f"/round-schedules/{schedule['id']}", {"active": False})
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    # three days later it is switched on again: its next round is the next slot from then, not the gap
    clock.advance(timedelta(days=3))
    started = await send(client, supervisor, "PATCH", f"/round-schedules/{schedule['id']}", {"active": True})
    assert started.status_code == 200 and started.json()["active"] is True
    next_slot = await db.fetchval("SELECT next_slot_at FROM round_schedules WHERE id = $1", schedule["id"])
    assert clock.now() < next_slot <= clock.now() + timedelta(days=1)

    guard = await login_as("guard1")
    assert (
        await send(client, guard, "PATCH", f"/check-points/{point['id']}", {"active": True})
    ).status_code == 403
    assert (
        await send(client, guard, "PATCH", f"/round-schedules/{schedule['id']}", {"active": True})
    ).status_code == 403


async def test_the_sites_qr_sheet_prints_every_active_point(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    supervisor = await login_as("supervisor")
    off = await db.fetchval("UPDATE check_points SET active = false WHERE name = '3栋大堂' RETURNING id")
    assert off is not None
    r = await client.get("/api/v1/check-points/qr-sheet", params={"site": "demo"}, headers=supervisor)
    assert r.status_code == 200, r.text
    page = r.text
    active = await db.fetchval("SELECT count(*) FROM check_points WHERE active")
    assert page.count("<svg") == active and "3栋大堂" not in page and "南门岗亭" in page
    assert "@page { size: A4" in page
    assert "style-src 'sha256-" in r.headers["content-security-policy"]
    guard = await login_as("guard1")
    assert (await client.get("/api/v1/check-points/qr-sheet", headers=guard)).status_code == 403
