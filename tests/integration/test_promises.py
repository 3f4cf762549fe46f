"""Promises made to an owner on a case (DOMAIN.md "Complaint": the owner is told when they will hear back,
and is): recorded with text, due time and maker, shown on the case, kept once; the maker reminded 15 min
before due and, when it passes unkept, the maker and the supervisor told — each exactly once, even with two
schedulers; the kept-on-time rate checked against hand-worked numbers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext, remind_promises, report_broken_promises
from tests.abuse.estate import raise_alarm
from tests.integration.work_order_evidence import create

SITE_ZONE = ZoneInfo("Asia/Shanghai")


async def promise(client: AsyncTestClient, headers: dict[str, str], wo_id: str, text: str, due: datetime):
    return await client.post(
        f"/api/v1/work-orders/{wo_id}/promises",
        json={"text": text, "dueAt": due.isoformat()},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def keep(client: AsyncTestClient, headers: dict[str, str], promise_id: str, note: str = ""):
    return await client.post(
        f"/api/v1/promises/{promise_id}/keep",
        json={"note": note},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def told(db: asyncpg.Connection, kind: str, promise_id: str) -> list[str]:
    rows = await db.fetch(
        """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = $1 AND n.data->>'promiseId' = $2 ORDER BY u.username""",
        kind,
        promise_id,
    )
    return [r["username"] for r in rows]


async def test_a_promise_reminds_its_maker_then_reports_it_broken_exactly_once_with_two_schedulers(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    """ "回复您在下午 3 点前": made at 14:00 in Shanghai, due 15:00. Reminder from 14:45 (15 min before),
    once; at 15:00 not kept: broken, the maker and the supervisor told, once."""
    assert (remind_promises, 30.0) in JOBS and (report_broken_promises, 30.0) in JOBS
    local_today = clock.now().astimezone(SITE_ZONE).date()
    t0 = datetime.combine(local_today, time(14, 0), tzinfo=SITE_ZONE)
    clock.set(t0)
    agent = await login_as("agent")
    wo = await create(client, agent, kind="complaint", category="repair_delay", title="报修三天没人来",
                      building="A", unitNumber="304")  # fmt: skip
    r = await promise(client, agent, wo["id"], "下午 3 点前回复维修安排", t0 + timedelta(hours=1))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["state"] == "open" and made["madeByName"]
    detail = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=agent)).json()
    assert [p["text"] for p in detail["promises"]] == ["下午 3 点前回复维修安排"]
    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]

    async def both(job) -> int:
        return sum(await asyncio.gather(*(job(c) for c in contexts)))

    try:
        clock.set(t0 + timedelta(minutes=44))
        assert (await both(remind_promises), await both(report_broken_promises)) == (0, 0)
        clock.set(t0 + timedelta(minutes=45))
        assert await both(remind_promises) == 1
        assert await both(remind_promises) == 0
        assert await both(report_broken_promises) == 0
        clock.set(t0 + timedelta(hours=1))
        assert await both(report_broken_promises) == 1
        assert await both(report_broken_promises) == 0
        assert await both(remind_promises) == 0
    finally:
        for p in pools:
            await p.close()
    assert await told(db, "promise_due", made["id"]) == ["agent"]
    assert await told(db, "promise_broken", made["id"]) == ["agent", "supervisor"]
    detail = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=agent)).json()
    assert detail["promises"][0]["state"] == "broken"


async def test_a_promise_kept_before_due_is_kept_once_and_never_reminded(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    """Kept at 14:30 for 15:00: kept on time; keeping it again is a 409; no reminder and no broken notice
    follow. A promise due in the past, or from a guard, is refused."""
    agent, guard = await login_as("agent"), await login_as("guard1")
    t0 = clock.now()
    wo = await create(client, agent, building="A", unitNumber="303")
    made = (
        await promise(client, agent, wo["id"], "今天下班前告知师傅到达时间", t0 + timedelta(hours=1))
    ).json()
    clock.advance(timedelta(minutes=30))
    r = await keep(client, agent, made["id"], "已电话告知 16:00 到达")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["keptOnTime"], r.json()["keptNote"]) == (
        "kept",
        True,
        "已电话告知 16:00 到达",
    )
    again = await keep(client, agent, made["id"], "second")
    assert (again.status_code, again.json()["code"]) == (409, "promise_already_kept")
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        ctx = JobContext(pool=pool, clock=clock)
        clock.advance(timedelta(minutes=20))
        assert await remind_promises(ctx) == 0
        clock.advance(timedelta(hours=2))
        assert await report_broken_promises(ctx) == 0
    finally:
        await pool.close()
    assert await told(db, "promise_due", made["id"]) == []
    past = await promise(client, agent, wo["id"], "昨天", clock.now() - timedelta(minutes=1))
    assert (past.status_code, past.json()["code"], past.json()["field"]) == (422, "promise_refused", "dueAt")
    by_guard = await promise(client, guard, wo["id"], "guard", clock.now() + timedelta(hours=1))
    assert by_guard.status_code == 403


async def test_promises_kept_on_time_rate_hand_worked(
    client: AsyncTestClient, clock: ManualClock, login_as
) -> None:
    """t0 = today 09:00 in Shanghai, report at t0 + 4 h. P1 due t0+1h kept t0+30m (on time); P2 due t0+2h
    kept t0+2h30 (late); P3 due t0+3h never kept (broken); P4 due t0+5h open (not decided).
    Due 3, kept on time 1, kept late 1, broken 1, rate 1/3 = 0.3333."""
    local_today = clock.now().astimezone(SITE_ZONE).date()
    t0 = datetime.combine(local_today, time(9, 0), tzinfo=SITE_ZONE)
    clock.set(t0)
    agent, manager = await login_as("agent"), await login_as("manager")
    wo = await create(client, agent, building="A", unitNumber="302")
    ids = {}
    for name, hours in (("P1", 1), ("P2", 2), ("P3", 3), ("P4", 5)):
        ids[name] = (await promise(client, agent, wo["id"], name, t0 + timedelta(hours=hours))).json()["id"]
    clock.set(t0 + timedelta(minutes=30))
    await keep(client, agent, ids["P1"])
    clock.set(t0 + timedelta(hours=2, minutes=30))
    late = await keep(client, agent, ids["P2"])
    assert (late.json()["state"], late.json()["keptOnTime"]) == ("kept", False)
    clock.set(t0 + timedelta(hours=4))
    r = await client.get(
        "/api/v1/reports/kpis",
        params={"site": "demo", "from": local_today.isoformat(), "to": local_today.isoformat()},
        headers=manager,
    )
    assert r.json()["promises"] == {"due": 3, "keptOnTime": 1, "keptLate": 1, "broken": 1, "rate": 0.3333}


async def test_a_promise_needs_someone_to_promise_to(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    """A promise is made to the owner who reported the case (DOMAIN.md "Callbacks": only work with a person
    behind it): a sensor-raised emergency has nobody to promise to, so the server offers no promise there and
    refuses one; a reported repair offers it to the desk, not to a guard."""
    alarm_id = await raise_alarm(db, "elev-a1", "ELEVATOR_ENTRAPMENT", clock.now())
    sensor_job = str(await db.fetchval("SELECT id FROM work_orders WHERE alarm_id = $1", alarm_id))
    agent = await login_as("agent")
    detail = (await client.get(f"/api/v1/work-orders/{sensor_job}", headers=agent)).json()
    assert detail["mayPromise"] is False
    r = await promise(client, agent, sensor_job, "半小时内回复", clock.now() + timedelta(hours=1))
    assert r.status_code == 409 and r.json()["code"] == "no_one_to_promise", r.text

    reported = await create(client, agent, reporterName="王女士", reporterPhone="13800000001")
    assert (await client.get(f"/api/v1/work-orders/{reported['id']}", headers=agent)).json()[
        "mayPromise"
    ] is True
    guard = await login_as("guard1")
    as_guard = await client.get(f"/api/v1/work-orders/{reported['id']}", headers=guard)
    assert as_guard.status_code == 200 and as_guard.json()["mayPromise"] is False, as_guard.text
