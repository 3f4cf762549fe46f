"""Automatic assignment takes turns per site: a second emergency ranks after the first one's assignment.

The two emergencies are created either side of the site's midnight, so they take different daily number
rows and nothing but the dispatch lock can make the second wait for the first.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from backend.db.pool import create_pool
from backend.services.dispatch import rank_technicians
from backend.services.intake import create_work_order
from backend.services.seed import SITE_TIMEZONE

# The demo site's most recent midnight, taken from today's date so that the test holds on any day.
MIDNIGHT = datetime.now(ZoneInfo(SITE_TIMEZONE)).replace(hour=0, minute=0, second=0, microsecond=0)
JUST_BEFORE_MIDNIGHT = MIDNIGHT - timedelta(seconds=1)
JUST_AFTER_MIDNIGHT = MIDNIGHT + timedelta(seconds=1)


async def _emergency(conn: asyncpg.Connection, site_id, now: datetime):
    return await create_work_order(
        conn,
        actor=None,
        site_id=site_id,
        kind="emergency",
        category="electrical",
        priority=1,
        title="配电房跳闸",
        channel="sensor",
        now=now,
        auto_assign=True,
    )


async def _waiting_on_advisory_lock(db: asyncpg.Connection, pid: int) -> bool:
    return await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND NOT granted)", pid
    )


async def test_concurrent_emergencies_go_to_different_technicians(
    db: asyncpg.Connection, db_url: str
) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    ranking = await rank_technicians(db, site_id, "electrical")
    first_choice, second_choice = ranking[0], ranking[1]
    assert first_choice.skilled and second_choice.skilled
    assert first_choice.open_jobs == second_choice.open_jobs  # a tie: one new job decides the order

    pool = await create_pool(db_url, min_size=2, max_size=2)
    try:
        async with pool.acquire() as first, pool.acquire() as second:
            tx = first.transaction()
            await tx.start()
            try:
                a = await _emergency(first, site_id, JUST_BEFORE_MIDNIGHT)
                assert a.assignee_id == first_choice.user_id

                async def create_second():
                    async with second.transaction():
                        return await _emergency(second, site_id, JUST_AFTER_MIDNIGHT)

                pending = asyncio.create_task(create_second())
                pid = second.get_server_pid()
                for _ in range(200):
                    if await _waiting_on_advisory_lock(db, pid):
                        break
                    await asyncio.sleep(0.025)
                else:
                    raise AssertionError("the second creation did not wait for the first")
                assert not pending.done()
            except BaseException:
                await tx.rollback()
                raise
            await tx.commit()
            b = await asyncio.wait_for(pending, timeout=10)
    finally:
        await pool.close()

    assert a.number != b.number and a.number[3:11] != b.number[3:11]  # different local days
    # the second ranking counted the first job: the tie went the other way
    assert b.assignee_id == second_choice.user_id
    after = {t.user_id: t.open_jobs for t in await rank_technicians(db, site_id, "electrical")}
    assert after[first_choice.user_id] == first_choice.open_jobs + 1
    assert after[second_choice.user_id] == second_choice.open_jobs + 1
