"""Escalation: moving the injected clock across each deadline; breach to assignee and supervisor, a further
half of the clock to the manager; pauses stop the resolve clock; several schedulers never double up."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext
from backend.services.escalation import escalate_due_clocks
from tests.integration.work_order_evidence import API, act, create, user_id


async def _notified(db: asyncpg.Connection, kind: str) -> list[str]:
    return [
        r["username"]
        for r in await db.fetch(
            """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
               WHERE n.kind = $1 ORDER BY u.username""",
            kind,
        )
    ]


async def _events(db: asyncpg.Connection, wo_id: str) -> list[tuple[int, str]]:
    rows = await db.fetch(
        "SELECT seq, action, payload FROM work_order_events WHERE work_order_id = $1 ORDER BY seq",
        uuid.UUID(wo_id),
    )
    return [
        (r["seq"], r["action"] + (f":{r['payload']['clock']}" if "clock" in r["payload"] else ""))
        for r in rows
    ]


async def test_breach_then_manager_across_each_deadline(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, login_as, clock: ManualClock
) -> None:
    assert (escalate_due_clocks, 5.0) in JOBS
    agent = await login_as("agent")
    wo = await create(client, agent, kind="emergency", title="水管爆裂", description="地下室水浸")
    assert wo["priority"] == "P1"
    assert (
        await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    ).status_code == 200
    pool = await create_pool(db_url, min_size=1, max_size=4)
    ctx = JobContext(pool=pool, clock=clock)
    try:
        clock.advance(timedelta(minutes=4, seconds=59))
        assert await escalate_due_clocks(ctx) == 0
        clock.advance(timedelta(seconds=2))  # respond (5 min) is past due
        assert await escalate_due_clocks(ctx) == 1
        assert await _notified(db, "sla_breach") == ["supervisor", "tech1"]
        assert await _notified(db, "sla_escalation") == []
        assert await escalate_due_clocks(ctx) == 0
        clock.advance(timedelta(minutes=2, seconds=30))  # 7.5 min: a further half of 5 min
        assert await escalate_due_clocks(ctx) == 1
        assert await _notified(db, "sla_escalation") == ["manager"]
        detail = (await client.get(f"{API}/{wo['id']}", headers=agent)).json()
        respond = next(c for c in detail["clocks"] if c["clock"] == "respond")
        assert respond["state"] == "breached" and respond["breachedAt"] and respond["escalatedAt"]
        clock.advance(timedelta(minutes=30))  # arrive (30 min) breached and 45 min not yet reached
        assert await escalate_due_clocks(ctx) == 1
        assert (await _events(db, wo["id"]))[2:] == [
            (3, "sla_breached:respond"),
            (4, "sla_escalated:respond"),
            (5, "sla_breached:arrive"),
        ]
        assert detail["version"] == 4 and detail["events"][-1]["action"] == "sla_escalated"
        streamed = await db.fetchval("SELECT count(*) FROM stream_events WHERE type = 'escalation'")
        assert streamed == 3
    finally:
        await pool.close()


async def test_several_schedulers_escalate_each_clock_once(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, login_as, clock: ManualClock
) -> None:
    agent = await login_as("agent")
    orders = [await create(client, agent, title=f"漏水 {i}", category="water") for i in range(6)]
    pool = await create_pool(db_url, min_size=4, max_size=8)
    ctx = JobContext(pool=pool, clock=clock)
    try:
        clock.advance(timedelta(hours=7))  # respond, arrive and resolve (4 h, so 6 h) past a further half
        steps = await asyncio.gather(*(escalate_due_clocks(ctx) for _ in range(4)))
        # a row locked by one runner is skipped by the others, so a later run may take the rest
        steps_again = await asyncio.gather(*(escalate_due_clocks(ctx) for _ in range(2)))
        nothing_left = await escalate_due_clocks(ctx)
    finally:
        await pool.close()
    assert sum(steps) + sum(steps_again) == 6 * 3 * 2 and nothing_left == 0
    for wo in orders:
        events = await _events(db, wo["id"])
        assert [seq for seq, _ in events] == list(range(1, len(events) + 1))
        assert len(events) == 1 + 6
        version = await db.fetchval("SELECT version FROM work_orders WHERE id = $1", uuid.UUID(wo["id"]))
        assert version == len(events)


async def test_a_pause_stops_the_resolve_clock(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, title="水压偏低", category="water")  # P2: resolve 24 h
    resolve_due = datetime.fromisoformat(next(c for c in wo["clocks"] if c["clock"] == "resolve")["dueAt"])
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    clock.advance(timedelta(hours=1))
    r = await act(client, tech1, wo["id"], "pause", {"reason": "等配件"})
    assert r.status_code == 200
    assert next(c for c in r.json()["clocks"] if c["clock"] == "resolve")["state"] == "paused"
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        clock.advance(timedelta(hours=30))  # past the original due time while paused: no breach
        assert await escalate_due_clocks(JobContext(pool=pool, clock=clock)) == 0
        r = await act(client, tech1, wo["id"], "resume")
        resolve = next(c for c in r.json()["clocks"] if c["clock"] == "resolve")
        assert resolve["state"] == "running"
        assert datetime.fromisoformat(resolve["dueAt"]) == resolve_due + timedelta(hours=30)
        assert await escalate_due_clocks(JobContext(pool=pool, clock=clock)) == 0
        clock.advance(timedelta(hours=24))
        assert await escalate_due_clocks(JobContext(pool=pool, clock=clock)) == 1
    finally:
        await pool.close()


async def test_offline_arrival_is_credited_when_plausible(
    client: AsyncTestClient, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, title="漏水", category="water")  # P1: arrive within 30 min
    accepted = await act(client, tech1, wo["id"], "accept")
    accepted_at = datetime.fromisoformat(accepted.json()["respondedAt"])
    arrived_on_phone = accepted_at + timedelta(minutes=20)
    clock.advance(timedelta(minutes=50))  # synced late, after the deadline
    r = await act(client, tech1, wo["id"], "arrive", {"clientAt": arrived_on_phone.isoformat()})
    assert datetime.fromisoformat(r.json()["arrivedAt"]) == arrived_on_phone
    assert next(c for c in r.json()["clocks"] if c["clock"] == "arrive")["state"] == "met"
    wo2 = await create(client, agent, title="漏水", category="water")
    await act(client, tech1, wo2["id"], "accept")
    clock.advance(timedelta(minutes=50))
    # a phone claiming a time before the job's last event earns nothing, and its claim is kept as sent
    claimed = clock.now() - timedelta(days=2)
    r = await act(client, tech1, wo2["id"], "arrive", {"clientAt": claimed.isoformat()})
    arrive = next(c for c in r.json()["clocks"] if c["clock"] == "arrive")
    # met, but late: the screen says "met, 20 min late", never plain "met"
    assert (arrive["state"], arrive["lateMinutes"]) == ("met_late", 20)
    assert datetime.fromisoformat(r.json()["events"][-1]["clientAt"]) == claimed
