"""The daily digest: after 08:00 site time, once per site and day, however many processes run the job."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.pool import create_pool
from backend.db.queries.reports import all_sites
from backend.domain.clock import ManualClock
from backend.scheduling import JobContext, send_daily_digests
from backend.services import digest
from tests.integration import report_rows as rows
from tests.integration.report_rows import at, day


async def digest_day(db: asyncpg.Connection) -> UUID:
    """Site "kpi" with a known 03-13 (report_rows.YEAR); the digest is read on the morning of 03-14."""
    site = await rows.make_site(db, "kpi", ("manager", "supervisor", "tech1", "agent"))
    wo, clk = rows.work_order, rows.clock
    # complaints received on 03-13: attitude ×2, fee dispute ×1 (the one of 03-12 belongs to another day)
    c1 = await wo(db, site, "D1", "complaint", "assigned", "attitude", "03-13 09:00")
    await wo(db, site, "D2", "complaint", "closed", "attitude", "03-13 23:59")
    await wo(db, site, "D3", "complaint", "closed", "fee_dispute", "03-13 00:00")
    await wo(db, site, "D4", "complaint", "closed", "facilities", "03-12 23:59")
    # clocks due on 03-13: met late (breach), never met (breach, and overdue now), met in time, paused
    r1 = await wo(db, site, "R1", "repair", "completed", "water", "03-13 08:00", assignee="tech1")
    await clk(db, r1, "respond", "03-13 10:00", "03-13 11:00")
    await clk(db, c1, "respond", "03-13 12:00")
    r2 = await wo(db, site, "R2", "repair", "closed", "water", "03-13 08:00", assignee="tech1")
    await clk(db, r2, "respond", "03-13 14:00", "03-13 13:00")
    r3 = await wo(db, site, "R3", "repair", "paused", "water", "03-13 08:00", assignee="tech1")
    await clk(db, r3, "resolve", "03-13 16:00", paused_since="03-13 15:00")
    # overdue from earlier days: one open (counts), one closed (does not)
    r4 = await wo(db, site, "R4", "repair", "on_site", "water", "03-10 08:00", assignee="tech1")
    await clk(db, r4, "resolve", "03-11 08:00")
    r5 = await wo(db, site, "R5", "repair", "closed", "water", "03-10 08:00", assignee="tech1")
    await clk(db, r5, "resolve", "03-11 08:00")
    # follow-up calls: due later today and overdue since 03-12 count; tomorrow's and a made one do not
    for number, due, met in (
        ("K1", "03-14 17:00", None),
        ("K2", "03-12 10:00", None),
        ("K3", "03-15 10:00", None),
        ("K4", "03-14 10:00", "03-13 16:00"),
    ):
        k = await wo(db, site, number, "repair", "completed", "water", "03-11 08:00", completed="03-11 12:00")
        await clk(db, k, "callback", due, met)
    return site


async def digests(db: asyncpg.Connection, site_id: UUID) -> list[dict[str, Any]]:
    """The digest notifications queued for a site, by recipient."""
    found = await db.fetch(
        """SELECT u.username, n.title, n.body, n.data, n.urgency FROM notifications n
           JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'digest' AND n.site_id = $1 ORDER BY u.username, n.id""",
        site_id,
    )
    return [dict(r) for r in found]


async def test_digest_waits_for_eight_then_tells_supervisors_and_managers(db, db_url):
    site = await digest_day(db)
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        assert [
            f for f in await digest.send_daily_digests(pool, at("03-14 07:59")) if f.site_id == site
        ] == []
        assert await digests(db, site) == []

        sent = await digest.send_daily_digests(pool, at("03-14 08:00"))
        facts = next(f for f in sent if f.site_id == site)
        assert facts.day.isoformat() == day("03-13")
        assert facts.complaints == 3
        assert facts.complaints_by_category == {"attitude": 2, "fee_dispute": 1}
        assert facts.breaches == 2  # R1 met late, D1 never met; R2 in time, R3 paused
        # D1 and R4, and K2 whose follow-up call is overdue; R5 is closed
        assert facts.open_overdue == 3
        assert facts.callbacks_due == 2  # K1 today, K2 overdue

        queued = await digests(db, site)
        assert [n["username"] for n in queued] == ["manager", "supervisor"]  # not the agent, not technicians
        note = queued[0]
        assert note["title"] == f"kpi花园 每日简报 {day('03-13')}"
        assert "昨日投诉 3 件" in note["body"] and "超时 2 次" in note["body"]
        assert "逾期未完成 3 单" in note["body"] and "待回访 2 单" in note["body"]
        assert note["data"]["facts"]["openOverdue"] == 3
        assert note["urgency"] == "low"

        # later the same day: already sent
        assert [
            f for f in await digest.send_daily_digests(pool, at("03-14 15:00")) if f.site_id == site
        ] == []
        assert len(await digests(db, site)) == 2
        # the next morning brings the next day's digest
        sent = await digest.send_daily_digests(pool, at("03-15 08:30"))
        assert [f.day.isoformat() for f in sent if f.site_id == site] == [day("03-14")]
        assert len(await digests(db, site)) == 4
    finally:
        await pool.close()


async def test_several_processes_send_each_digest_exactly_once(db, db_url):
    site = await digest_day(db)
    pools = [await create_pool(db_url, min_size=1, max_size=1) for _ in range(4)]
    try:
        # four scheduler replicas firing at the same moment, each through the registered job
        clock = ManualClock(at("03-14 09:00"))
        results = await asyncio.gather(*(send_daily_digests(JobContext(pool=p, clock=clock)) for p in pools))
        sites = await db.fetchval("SELECT count(*) FROM sites")
        assert sum(results) == sites  # one digest per site across all replicas
        assert [n["username"] for n in await digests(db, site)] == ["manager", "supervisor"]
        runs = await db.fetch("SELECT scope, period FROM job_runs WHERE job = 'daily_digest'")
        assert (str(site), day("03-13")) in {(r["scope"], r["period"]) for r in runs}
        assert len(runs) == sites
    finally:
        for pool in pools:
            await pool.close()


async def test_a_failed_digest_is_retried_by_the_next_run(db, db_url):
    site = await digest_day(db)
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        site_ref = next(s for s in await _sites(pool) if s.id == site)
        async with pool.acquire() as conn:
            try:
                async with conn.transaction():
                    assert await digest.send_site_digest(conn, site_ref, at("03-14 09:00")) is not None
                    raise RuntimeError("crash before commit")
            except RuntimeError:
                pass
        # the claim rolled back with the notifications: the next run sends it
        assert await digests(db, site) == []
        async with pool.acquire() as conn, conn.transaction():
            assert await digest.send_site_digest(conn, site_ref, at("03-14 10:00")) is not None
        assert len(await digests(db, site)) == 2
    finally:
        await pool.close()


async def _sites(pool: asyncpg.Pool) -> list[Any]:
    async with pool.acquire() as conn:
        return await all_sites(conn)
