"""Planned maintenance: default elevator plans, work orders lead days ahead, exactly once per period even
when several schedulers run at once, and plans over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext
from backend.services.maintenance import generate_planned_maintenance, next_period
from tests.integration.work_order_evidence import API, MAINTENANCE_CHECKLIST, act, add_photo

# Yesterday 10:00 in Shanghai (02:00 UTC, so the site's day is UTC's day): relative to now, because the
# plans and their work orders are dated from the clock and the test must hold on any day.
START = (datetime.now(UTC) - timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
FIRST_DUE = START.date() + timedelta(days=15)  # the default elevator plan: every 15 days


async def test_elevators_get_a_plan_and_one_work_order_per_period(
    db: asyncpg.Connection, db_url: str
) -> None:
    assert (generate_planned_maintenance, 600.0) in JOBS
    # this test follows the elevators; every other kind is in test_every_asset_kind_with_an_interval
    await db.execute("UPDATE assets SET maintenance_days = NULL WHERE kind <> 'elevator'")
    clock = ManualClock(START)
    pool = await create_pool(db_url, min_size=4, max_size=8)
    ctx = JobContext(pool=pool, clock=clock)
    try:
        results = await asyncio.gather(*(generate_planned_maintenance(ctx) for _ in range(3)))
        assert results == [0, 0, 0]
        plans = await db.fetch("SELECT * FROM maintenance_plans ORDER BY title")
        assert len(plans) == 6 and {p["interval_days"] for p in plans} == {15}
        assert {p["next_due_on"] for p in plans} == {FIRST_DUE}
        clock.advance(timedelta(days=12))  # the first period is three days off, the lead is two
        assert sum(await asyncio.gather(*(generate_planned_maintenance(ctx) for _ in range(3)))) == 0
        clock.advance(timedelta(days=1))  # within the lead days
        made = await asyncio.gather(*(generate_planned_maintenance(ctx) for _ in range(3)))
        assert sum(made) == 6
        assert sum(await asyncio.gather(*(generate_planned_maintenance(ctx) for _ in range(3)))) == 0
    finally:
        await pool.close()
    orders = await db.fetch("SELECT * FROM work_orders ORDER BY title")
    assert len(orders) == 6
    assert {(o["kind"], o["channel"], o["category"], o["resolution"]["periodDue"]) for o in orders} == {
        ("maintenance", "schedule", "elevator", FIRST_DUE.isoformat())
    }
    assert all(o["status"] == "assigned" for o in orders)  # given to the on-duty elevator technician
    assert {p["next_due_on"] for p in await db.fetch("SELECT next_due_on FROM maintenance_plans")} == {
        FIRST_DUE + timedelta(days=15)
    }


async def test_every_asset_kind_with_an_interval_gets_one_job_per_period_with_two_schedulers(
    db: asyncpg.Connection, db_url: str
) -> None:
    # the demo estate: elevators every 15 days, pumps and the generator 30, switchgear 90, water tanks 180
    intervals = {
        r["kind"]: r["days"]
        for r in await db.fetch("SELECT DISTINCT kind, maintenance_days AS days FROM assets")
    }
    assert intervals == {"elevator": 15, "pump": 30, "generator": 30, "switchgear": 90, "water_tank": 180}
    clock = ManualClock(START)
    pools = [await create_pool(db_url, min_size=2, max_size=4) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]

    async def both() -> int:
        return sum(
            await asyncio.gather(*(generate_planned_maintenance(c) for c in contexts for _ in range(2)))
        )

    try:
        assert await both() == 0
        plans = await db.fetch(
            "SELECT a.kind, p.interval_days FROM maintenance_plans p JOIN assets a ON a.id = p.asset_id"
        )
        assert len(plans) == 13 and all(p["interval_days"] == intervals[p["kind"]] for p in plans)
        made = {}
        # day by day over 200 days: each plan's periods come due one after another
        for _ in range(200):
            clock.advance(timedelta(days=1))
            await both()
        for r in await db.fetch(
            """SELECT a.kind, count(*) AS n,
                      count(DISTINCT (w.asset_id, w.resolution->>'periodDue')) AS periods
               FROM work_orders w JOIN assets a ON a.id = w.asset_id WHERE w.plan_id IS NOT NULL
               GROUP BY a.kind"""
        ):
            made[r["kind"]] = (r["n"], r["periods"])
    finally:
        for p in pools:
            await p.close()
    # one job per period and asset, no more: (200 + lead 2) days from a first period one interval out
    per_asset = {kind: (200 + 2) // days for kind, days in intervals.items()}
    counts = {"elevator": 6, "pump": 2, "generator": 1, "switchgear": 2, "water_tank": 2}
    assert made == {kind: (per_asset[kind] * counts[kind],) * 2 for kind in counts}
    checks = await db.fetchval(
        """SELECT w.resolution->'checks' FROM work_orders w JOIN assets a ON a.id = w.asset_id
           WHERE a.kind = 'generator' LIMIT 1"""
    )
    assert "空载试运行 15 分钟" in checks


async def test_the_database_refuses_a_second_order_for_one_period(
    db: asyncpg.Connection, db_url: str
) -> None:
    clock = ManualClock(START)
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        await generate_planned_maintenance(JobContext(pool=pool, clock=clock))
        plan = await db.fetchrow("SELECT * FROM maintenance_plans LIMIT 1")
        # another process made this period's order and the plan was rolled back to the same period
        await db.execute("UPDATE maintenance_plans SET active = (id = $1)", plan["id"])
        clock.advance(timedelta(days=14))
        assert await generate_planned_maintenance(JobContext(pool=pool, clock=clock)) == 1
        await db.execute(
            "UPDATE maintenance_plans SET next_due_on = $2 WHERE id = $1", plan["id"], plan["next_due_on"]
        )
        assert await generate_planned_maintenance(JobContext(pool=pool, clock=clock)) == 0
    finally:
        await pool.close()
    assert await db.fetchval("SELECT count(*) FROM work_orders WHERE plan_id = $1", plan["id"]) == 1


def test_cron_and_interval_periods() -> None:
    # Pure calendar arithmetic on fixed days, chosen to cross the end of a month and of a year.
    dec_1 = date(2026, 12, 1)  # fixed-date: a pure function's input, no clock involved
    dec_8 = date(2026, 12, 8)  # fixed-date: a pure function's input, no clock involved
    dec_15 = date(2026, 12, 15)  # fixed-date: a pure function's input, no clock involved
    dec_23 = date(2026, 12, 23)  # fixed-date: a pure function's input, no clock involved
    jan_1 = date(2027, 1, 1)  # fixed-date: a pure function's input, no clock involved
    assert next_period(dec_8, interval_days=15, cron=None, timezone="Asia/Shanghai") == dec_23
    # the 1st and 15th of every month
    monthly = "0 8 1,15 * *"
    assert next_period(dec_1, interval_days=None, cron=monthly, timezone="Asia/Shanghai") == dec_15
    assert next_period(dec_15, interval_days=None, cron=monthly, timezone="Asia/Shanghai") == jan_1


async def test_plans_over_http(client: AsyncTestClient, db: asyncpg.Connection, login_as) -> None:
    supervisor = await login_as("supervisor")
    pump = await db.fetchval("SELECT id FROM assets WHERE kind = 'pump' ORDER BY code LIMIT 1")
    body = {"assetId": str(pump), "title": "水泵月度保养", "cron": "0 9 1 * *", "leadDays": 3}
    r = await client.post(
        "/api/v1/maintenance-plans", json=body, headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert r.status_code == 201, r.text
    assert r.json()["cron"] == "0 9 1 * *" and r.json()["nextDueOn"].endswith("-01")
    bad = {**body, "cron": "every day"}
    r = await client.post(
        "/api/v1/maintenance-plans", json=bad, headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert r.status_code == 422 and r.json()["field"] == "cron"
    both = {**body, "intervalDays": 30}
    r = await client.post(
        "/api/v1/maintenance-plans", json=both, headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert r.status_code == 422
    listed = (await client.get("/api/v1/maintenance-plans", headers=supervisor)).json()
    assert [p["title"] for p in listed["items"]] == ["水泵月度保养"]
    pump_row = await db.fetchrow("SELECT name, location FROM assets WHERE id = $1", pump)
    [plan] = listed["items"]
    assert (plan["assetName"], plan["assetLocation"]) == (pump_row["name"], pump_row["location"])
    # what its work interrupts for the building: nothing until a supervisor says so
    assert (plan["noticeKind"], plan["noticeLeadHours"], plan["noticeWindowHours"]) == (None, 24, 4)
    assert (listed["total"], listed["limit"], listed["offset"]) == (1, 50, 0)
    beyond = (await client.get("/api/v1/maintenance-plans?offset=1", headers=supervisor)).json()
    assert (beyond["items"], beyond["total"]) == ([], 1)
    too_many = await client.get("/api/v1/maintenance-plans?limit=201", headers=supervisor)
    assert too_many.status_code == 400, too_many.text
    assert (await client.get("/api/v1/maintenance-plans", headers=await login_as("agent"))).status_code == 403


async def test_a_planned_job_is_completed_against_its_asset_kinds_checks(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, login_as
) -> None:
    # the generator (and the elevators, always planned): its job checks what a generator visit checks
    await db.execute("UPDATE assets SET maintenance_days = NULL WHERE kind <> 'generator'")
    clock = ManualClock(START)
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        await generate_planned_maintenance(JobContext(pool=pool, clock=clock))
        clock.advance(timedelta(days=29))
        assert await generate_planned_maintenance(JobContext(pool=pool, clock=clock)) == 7
    finally:
        await pool.close()
    job = await db.fetchrow(
        """SELECT w.id, w.assignee_id FROM work_orders w JOIN assets a ON a.id = w.asset_id
           WHERE w.plan_id IS NOT NULL AND a.kind = 'generator'"""
    )
    username = await db.fetchval("SELECT username FROM users WHERE id = $1", job["assignee_id"])
    tech = await login_as(username)
    wo_id = str(job["id"])
    seen = (await client.get(f"{API}/{wo_id}", headers=tech)).json()
    codes = ["gen_run", "gen_fluids", "gen_battery"]
    assert seen["requirements"]["checklist"] == codes
    assert [(i["code"], i["labelZh"], i["required"]) for i in seen["checklist"]] == [
        ("gen_run", "空载试运行 15 分钟", True),
        ("gen_fluids", "检查燃油、机油与冷却液", True),
        ("gen_battery", "检查蓄电池电压", True),
    ]
    assert seen["checklist"][0]["labelEn"] == "Run unloaded for 15 minutes"
    for action in ("accept", "depart", "arrive"):
        assert (await act(client, tech, wo_id, action)).status_code == 200
    await add_photo(db, wo_id, "after")
    # the work-order kind's general list is not what this job asks for
    general = {"checklist": MAINTENANCE_CHECKLIST, "workDone": "保养完成"}
    r = await act(client, tech, wo_id, "complete", general)
    assert r.status_code == 422 and r.json()["code"] == "checklist_incomplete", r.text
    assert "gen_run" in r.json()["detail"]
    one_short = {"checklist": {"gen_run": True, "gen_fluids": True}, "workDone": "保养完成"}
    assert (await act(client, tech, wo_id, "complete", one_short)).json()["code"] == "checklist_incomplete"
    done = {"checklist": dict.fromkeys(codes, True), "workDone": "保养完成，试运行正常"}
    r = await act(client, tech, wo_id, "complete", done)
    assert r.status_code == 200, r.text
    assert r.json()["resolution"]["checklist"] == dict.fromkeys(codes, True)
