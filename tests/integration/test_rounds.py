"""Rounds: one round per schedule slot with two schedulers, scans flagged (never refused) and idempotent,
a missed point told to the supervisor within a minute of the slot's end, the shift report, the QR sheet."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext, generate_rounds, judge_ended_rounds

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_today_at(hour: int, minute: int = 0) -> datetime:
    """Today (in Shanghai) at a wall-clock time, as UTC: relative to now, so the test holds on any day."""
    return datetime.now(SHANGHAI).replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def points_of(db: asyncpg.Connection, route: str) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT c.id, c.name, c.token, rp.position FROM round_route_points rp
               JOIN round_routes r ON r.id = rp.route_id JOIN check_points c ON c.id = rp.check_point_id
               WHERE r.name = $1 ORDER BY rp.position""",
            route,
        )
    )


async def scan(
    client: AsyncTestClient,
    headers: dict[str, str],
    round_id: str,
    token: str,
    *,
    at: datetime,
    result: str = "normal",
    note: str = "",
    photo: bytes | None = None,
    key: str | None = None,
) -> Any:
    data = {"qr": f"caretaker:cp:{token}", "result": result, "note": note, "clientAt": at.isoformat()}
    files = {"file": ("p.jpg", photo, "image/jpeg")} if photo else None
    return await client.post(
        f"/api/v1/rounds/{round_id}/scans",
        data=data,
        files=files,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


async def test_one_round_per_slot_with_two_schedulers(db: asyncpg.Connection, db_url: str) -> None:
    assert (generate_rounds, 60.0) in JOBS
    clock = ManualClock(local_today_at(19))
    # the seeded night round: every 2 h from 20:00 to 06:00; put its next slot at tonight's 20:00
    schedule = await db.fetchrow(
        """SELECT s.id FROM round_schedules s JOIN round_routes r ON r.id = s.route_id
           WHERE r.name = '夜间巡逻'"""
    )
    await db.execute("UPDATE round_schedules SET active = (id = $1)", schedule["id"])
    await db.execute(
        "UPDATE round_schedules SET next_slot_at = $2 WHERE id = $1", schedule["id"], local_today_at(20)
    )
    pools = [await create_pool(db_url, min_size=2, max_size=4) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]
    try:

        async def both() -> int:
            return sum(await asyncio.gather(*(generate_rounds(c) for c in contexts for _ in range(2))))

        # 19:00: nothing starts within half an hour
        assert await both() == 0
        clock.set(local_today_at(19, 45))
        assert await both() == 1
        assert await both() == 0
        clock.advance(timedelta(hours=4))  # 23:45: the 22:00 and 00:00 rounds
        assert await both() == 2
        assert await both() == 0
    finally:
        for p in pools:
            await p.close()
    starts = [r["slot_start"] for r in await db.fetch("SELECT slot_start FROM rounds ORDER BY slot_start")]
    assert starts == [local_today_at(20), local_today_at(22), local_today_at(20) + timedelta(hours=4)]
    assert await db.fetchval("SELECT next_slot_at FROM round_schedules WHERE id = $1", schedule["id"]) == (
        local_today_at(20) + timedelta(hours=6)
    )


async def _only_the_night_round_at_eight(db: asyncpg.Connection) -> None:
    """Every schedule off but the night patrol's, whose next round starts at 20:00 today."""
    await db.execute("UPDATE round_schedules SET active = false")
    night = await db.fetchval(
        """SELECT s.id FROM round_schedules s JOIN round_routes r ON r.id = s.route_id
           WHERE r.name = '夜间巡逻'"""
    )
    await db.execute(
        "UPDATE round_schedules SET active = true, next_slot_at = $2 WHERE id = $1", night, local_today_at(20)
    )


async def test_a_missed_point_tells_the_supervisor_within_a_minute(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    assert dict((job, s) for job, s in JOBS)[judge_ended_rounds] <= 30.0  # runs at least twice a minute
    clock.set(local_today_at(19, 45))
    await _only_the_night_round_at_eight(db)
    pools = [await create_pool(db_url, min_size=2, max_size=4) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]
    try:
        assert await generate_rounds(contexts[0]) == 1
        round_id = str(await db.fetchval("SELECT id FROM rounds"))
        guard = await login_as("guard1")
        points = await points_of(db, "夜间巡逻")
        clock.set(local_today_at(20, 5))
        r = await client.post(
            f"/api/v1/rounds/{round_id}/start", json={}, headers={**guard, "Idempotency-Key": "s1"}
        )
        assert r.status_code == 200, r.text
        for i, p in enumerate(points[:5]):
            at = local_today_at(20, 10 + i * 9)
            clock.set(at + timedelta(seconds=5))
            assert (await scan(client, guard, round_id, p["token"], at=at)).status_code == 201
        # 20:59:59 — the slot (60 min) has not ended: nobody is told
        clock.set(local_today_at(20, 59) + timedelta(seconds=59))
        assert sum(await asyncio.gather(*(judge_ended_rounds(c) for c in contexts))) == 0
        # half a minute after the end, both schedulers run: the supervisor is told once
        clock.set(local_today_at(21) + timedelta(seconds=30))
        assert sum(await asyncio.gather(*(judge_ended_rounds(c) for c in contexts))) == 1
        assert sum(await asyncio.gather(*(judge_ended_rounds(c) for c in contexts))) == 0
    finally:
        for p in pools:
            await p.close()
    told = await db.fetch(
        """SELECT n.title, n.body, u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'round_missed'"""
    )
    assert [(t["username"], t["title"]) for t in told] == [("supervisor", "夜间巡逻 漏巡 2 个点")]
    assert told[0]["body"] == f"漏巡：{points[5]['name']}、{points[6]['name']}"
    assert await db.fetchval("SELECT status FROM rounds") == "incomplete"
    # the last two points scanned after the end are late, and still recorded
    clock.set(local_today_at(21, 5))
    r = await scan(client, guard, round_id, points[5]["token"], at=local_today_at(21, 2))
    assert r.status_code == 201 and "late" in r.json()["scans"][-1]["flags"]


async def test_late_points_are_told_as_late_in_the_readers_language(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    clock.set(local_today_at(19, 45))
    await _only_the_night_round_at_eight(db)
    # a second supervisor of the site reads English
    await db.execute(
        """INSERT INTO users (username, display_name, role, locale, password_hash)
           SELECT 'supervisor_en', 'Night Supervisor', 'supervisor', 'en', password_hash
           FROM users WHERE username = 'supervisor'"""
    )
    await db.execute(
        """INSERT INTO user_sites (user_id, site_id)
           SELECT u.id, us.site_id FROM users u, user_sites us
           JOIN users s ON s.id = us.user_id AND s.username = 'supervisor'
           WHERE u.username = 'supervisor_en'"""
    )
    pool = await create_pool(db_url, min_size=1, max_size=2)
    ctx = JobContext(pool=pool, clock=clock)
    assert await generate_rounds(ctx) == 1
    round_id = str(await db.fetchval("SELECT id FROM rounds"))
    guard = await login_as("guard1")
    points = await points_of(db, "夜间巡逻")
    for i, p in enumerate(points):
        # the first five inside the hour, the last two just after 21:00, before the round is judged
        at = local_today_at(20, 10 + i * 9) if i < 5 else local_today_at(21) + timedelta(seconds=5 + i)
        clock.set(at + timedelta(seconds=2))
        assert (await scan(client, guard, round_id, p["token"], at=at)).status_code == 201
    clock.set(local_today_at(21) + timedelta(seconds=30))
    try:
        assert await judge_ended_rounds(ctx) == 1
    finally:
        await pool.close()
    told = {
        t["username"]: (t["kind"], t["title"], t["body"])
        for t in await db.fetch(
            """SELECT n.kind, n.title, n.body, u.username FROM notifications n
               JOIN users u ON u.id = n.recipient_id WHERE n.kind LIKE 'round_%'"""
        )
    }
    late = f"{points[5]['name']}、{points[6]['name']}"
    assert told["supervisor"] == ("round_late", "夜间巡逻 迟巡 2 个点", f"迟巡：{late}")
    assert told["supervisor_en"][:2] == ("round_late", "夜间巡逻: 2 late points")
    assert "漏巡" not in told["supervisor"][1]


async def test_scans_are_flagged_never_refused_and_land_once(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    guard = await login_as("guard1")
    route = await db.fetchval("SELECT id FROM round_routes WHERE name = '夜间巡逻'")
    points = await points_of(db, "夜间巡逻")
    start = clock.now()
    round_id = str(uuid.uuid4())  # made on the phone, so an offline phone can scan into it
    body = {"id": round_id, "routeId": str(route), "clientAt": start.isoformat()}
    r = await client.post("/api/v1/rounds", json=body, headers={**guard, "Idempotency-Key": "walk"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_progress" and len(r.json()["points"]) == 7
    clock.advance(timedelta(minutes=30))
    # point 1 at +1 min, point 3 at +10 (out of order), point 2 at +10:30 (too fast: a leg is 10 min)
    first = await scan(client, guard, round_id, points[0]["token"], at=start + timedelta(minutes=1), key="k1")
    assert first.status_code == 201 and first.json()["scans"][0]["flags"] == []
    r = await scan(
        client,
        guard,
        round_id,
        points[2]["token"],
        at=start + timedelta(minutes=10),
        result="abnormal",
        note="泵房门锁损坏",
        photo=jpeg(),
    )
    assert r.status_code == 201, r.text
    third = r.json()["scans"][-1]
    assert third["flags"] == ["out_of_order"] and third["result"] == "abnormal" and third["hasPhoto"]
    r = await scan(client, guard, round_id, points[1]["token"], at=start + timedelta(minutes=10, seconds=30))
    assert r.json()["scans"][-1]["flags"] == ["too_fast"]
    # a replay of the first scan (same key) answers the same; the same point again under a new key is a 409
    replay = await scan(
        client, guard, round_id, points[0]["token"], at=start + timedelta(minutes=1), key="k1"
    )
    assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
    again = await scan(client, guard, round_id, points[0]["token"], at=start + timedelta(minutes=12))
    assert again.status_code == 409 and again.json()["code"] == "point_already_scanned"
    # a code that is no point of this route (or a guessed id) is refused, naming the field
    wrong = await scan(client, guard, round_id, str(points[0]["id"]), at=start + timedelta(minutes=13))
    assert wrong.status_code == 422 and wrong.json()["code"] == "point_not_on_route"
    assert await db.fetchval("SELECT count(*) FROM round_scans") == 3
    # the abnormal finding reached the supervisor, and its photo is served to staff of the site
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'hazard_registered'") == 1
    hazard = await db.fetchrow("SELECT * FROM hazards")
    assert (hazard["source"], hazard["status"], hazard["description"]) == (
        "round",
        "registered",
        "泵房门锁损坏",
    )
    assert hazard["photo_sha256"] is not None and str(hazard["round_scan_id"]) == third["id"]
    photo = await client.get(f"/api/v1/round-scans/{third['id']}/photo", headers=guard)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    # the phone's times are kept; the server's receipt time too
    stored = await db.fetchrow("SELECT scanned_at, received_at FROM round_scans WHERE note = '泵房门锁损坏'")
    assert stored["scanned_at"] == start + timedelta(minutes=10) and stored["received_at"] == clock.now()
    # the rest of the route done: the round is done
    for i, p in enumerate(points[3:]):
        r = await scan(client, guard, round_id, p["token"], at=start + timedelta(minutes=20 + 10 * i))
        assert r.status_code == 201
    assert r.json()["status"] == "done"


async def test_shift_report_and_qr_sheet(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    supervisor = await login_as("supervisor")
    guard = await login_as("guard1")
    route = await db.fetchval("SELECT id FROM round_routes WHERE name = '夜间巡逻'")
    points = await points_of(db, "夜间巡逻")
    start = local_today_at(21)
    clock.set(start)
    round_id = str(uuid.uuid4())
    r = await client.post(
        "/api/v1/rounds",
        json={"id": round_id, "routeId": str(route)},
        headers={**guard, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201
    for i, p in enumerate(points[:3]):
        clock.set(start + timedelta(minutes=10 * (i + 1)))
        result = "abnormal" if i == 1 else "normal"
        assert (
            await scan(client, guard, round_id, p["token"], at=clock.now(), result=result)
        ).status_code == 201
    day = start.astimezone(SHANGHAI).date().isoformat()
    report = await client.get(f"/api/v1/rounds/report?day={day}&shift=night", headers=supervisor)
    assert report.status_code == 200, report.text
    line = report.json()["rounds"][0]
    assert (line["points"], line["done"], line["missed"], line["abnormal"], line["late"]) == (7, 3, 4, 1, 0)
    assert line["walkedBy"] == "孙保安"
    assert (await client.get(f"/api/v1/rounds/report?day={day}", headers=guard)).status_code == 403
    sheet = await client.get(f"/api/v1/round-routes/{route}/qr-sheet", headers=supervisor)
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/html")
    assert sheet.text.count("<svg") == 7 and "南门岗亭" in sheet.text
    assert "style-src 'sha256-" in sheet.headers["content-security-policy"]
    # tokens are random and long, not the point's id
    assert all(len(p["token"]) >= 20 and p["token"] != str(p["id"]) for p in points)


async def test_planning_rounds_over_http(client: AsyncTestClient, db: asyncpg.Connection, login_as) -> None:
    supervisor = await login_as("supervisor")
    guard = await login_as("guard1")
    pump = await db.fetchval("SELECT id FROM assets WHERE code = 'PUMP-2'")
    made = []
    for name, asset in (("2号泵房", str(pump)), ("北门", None)):
        r = await client.post(
            "/api/v1/check-points",
            json={"site": "demo", "name": name, "place": name, "assetId": asset},
            headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        assert r.json()["qr"].startswith("caretaker:cp:")
        made.append(r.json()["id"])
    denied = await client.post(
        "/api/v1/check-points",
        json={"site": "demo", "name": "x"},
        headers={**guard, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert denied.status_code == 403
    r = await client.post(
        "/api/v1/round-routes",
        json={"name": "北区巡查", "expectedMinutes": 20, "checkPointIds": made},
        headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201 and [p["name"] for p in r.json()["points"]] == ["2号泵房", "北门"]
    route_id = r.json()["id"]
    bad = await client.post(
        f"/api/v1/round-routes/{route_id}/schedules",
        json={"everyHours": 2},
        headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "windowStart"
    r = await client.post(
        f"/api/v1/round-routes/{route_id}/schedules",
        json={"fixedTimes": ["09:00", "15:00"]},
        headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["nextSlotAt"]).astimezone(SHANGHAI).hour in (9, 15)
    assert r.json()["fixedTimes"] == ["09:00", "15:00"]
    bad_time = await client.post(
        f"/api/v1/round-routes/{route_id}/schedules",
        json={"fixedTimes": ["25:00"]},
        headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad_time.status_code == 400
    listed = (await client.get("/api/v1/round-routes", headers=guard)).json()
    assert {"夜间巡逻", "经理巡视", "北区巡查"} <= {x["name"] for x in listed}
