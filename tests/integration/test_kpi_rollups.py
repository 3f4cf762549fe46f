"""The KPI report read through the daily rollups equals the direct computation from the raw tables.

A varied estate is generated relative to the real now (no calendar dates): three sites in different time
zones (one with daylight saving, one with a 45-minute offset), two months of work orders with steps that
cross midnight in site time, cancelled jobs, reopened ones (some back in progress), late and paused clocks.
Each report is computed twice through the service — with rollups and without — and must be identical for
several period boundaries, before and after changes to past days (a reopen, a cancel and its undoing, a
clock met late, a clock moved to another day, a job entered late, a callback made, corrected or deleted, a
complaint's reply met late, escalated or recategorised, a job handed to another technician). The whole report
is compared: summary, clocks, complaint callbacks, the desk, satisfaction and every technician's results.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest

from backend.db.pool import create_pool
from backend.db.queries import reports as q
from backend.domain.clock import ManualClock
from backend.domain.kpis import local_today, period_between, period_ranges
from backend.domain.models import CurrentUser
from backend.scheduling import JOBS, JobContext, fill_yesterdays_rollups
from backend.services import reports

SITES = {"roll-sh": "Asia/Shanghai", "roll-ny": "America/New_York", "roll-kt": "Asia/Kathmandu"}

GENERATE = """
WITH techs AS (
    SELECT array_agg(id ORDER BY username) AS ids FROM users WHERE username IN ('tech1', 'tech2', 'tech3')
), raw AS (
    SELECT i, $2::timestamptz - random() * interval '62 days' AS created,
           random() AS rk, random() AS rs, random() AS rc,
           1 + floor(random() * 300) AS respond_min,
           10 + floor(random() * 600) AS arrive_min,
           30 + floor(random() * 3000) AS work_min
    FROM generate_series(1, $3) AS i
), shaped AS (
    SELECT raw.*,
           CASE WHEN rk < 0.55 THEN 'repair' WHEN rk < 0.75 THEN 'complaint' WHEN rk < 0.85 THEN 'emergency'
                WHEN rk < 0.93 THEN 'maintenance' ELSE 'inspection' END AS kind,
           CASE WHEN created > $2 - interval '4 days' AND rs < 0.6
                     THEN (ARRAY['new', 'assigned', 'accepted', 'en_route', 'on_site', 'paused'])
                          [1 + floor(rs * 10)::int]
                WHEN rs < 0.06 THEN 'cancelled'
                WHEN rs < 0.10 THEN 'accepted'      -- reopened and back in progress
                WHEN rs < 0.20 THEN 'completed'
                ELSE 'closed' END AS status
    FROM raw
)
INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                         last_assignee_id, resolution,
                         created_at, responded_at, arrived_at, completed_at, closed_at, reopen_count)
SELECT $1, 'R' || lpad(i::text, 6, '0'), kind, status, 2,
       (ARRAY['noise', 'fees', 'staff', 'other'])[1 + (i % 4)], 'phone', kind || ' ' || i,
       CASE WHEN status IN ('new', 'closed') AND i % 5 = 0 THEN NULL
            WHEN status <> 'new' THEN (SELECT ids[1 + (i % 3)] FROM techs) END,
       -- a finished job nobody holds any more counts for its last technician
       CASE WHEN status = 'closed' AND i % 5 = 0 THEN (SELECT ids[1 + (i % 3)] FROM techs) END,
       CASE WHEN kind = 'complaint' AND i % 7 = 0 THEN '{"repeatOf": "R000001"}'::jsonb
            WHEN kind = 'complaint' AND i % 11 = 0 THEN '{"escalatedTo": "manager"}'::jsonb
            ELSE '{}'::jsonb END,
       created,
       CASE WHEN status IN ('new', 'assigned') OR (status = 'cancelled' AND rc < 0.5) THEN NULL
            ELSE created + respond_min * interval '1 minute' END,
       CASE WHEN status IN ('completed', 'closed', 'on_site', 'paused') AND kind <> 'complaint'
            THEN created + (respond_min + arrive_min) * interval '1 minute' END,
       CASE WHEN status IN ('completed', 'closed')
            THEN created + (respond_min + arrive_min + work_min) * interval '1 minute' END,
       CASE WHEN status = 'closed'
            THEN created + (respond_min + arrive_min + work_min + 1440) * interval '1 minute' END,
       CASE WHEN status = 'accepted' AND rs >= 0.06 THEN 1 + floor(rc * 2)::int
            WHEN status = 'closed' AND rc < 0.08 THEN 1 ELSE 0 END
FROM shaped
"""

# Respond 1 h, arrive 4 h, resolve 24 h, callback a day after completion; some unmet clocks paused.
CLOCKS = """
INSERT INTO work_order_clocks (work_order_id, clock, due_at, met_at, paused_since, starts_at)
SELECT w.id, c.clock, w.created_at + c.after, c.met,
       CASE WHEN c.met IS NULL AND w.status = 'paused' THEN w.created_at + interval '3 hours' END,
       w.created_at
FROM work_orders w
CROSS JOIN LATERAL (VALUES
    ('respond', interval '1 hour', w.responded_at),
    ('arrive', interval '4 hours', w.arrived_at),
    ('resolve', interval '24 hours', w.completed_at),
    ('callback', coalesce(w.completed_at - w.created_at, interval '0') + interval '1 day', w.closed_at)
) AS c(clock, after, met)
WHERE w.site_id = $1 AND (c.clock <> 'arrive' OR w.kind <> 'complaint')
  AND (c.clock <> 'callback' OR w.completed_at IS NOT NULL)
"""

# A complaint is investigated by the end of the day (some never), met when the job was answered.
INVESTIGATE = """
INSERT INTO work_order_clocks (work_order_id, clock, due_at, met_at, starts_at)
SELECT w.id, 'investigate', w.created_at + interval '10 hours',
       CASE WHEN w.number::text ~ '[0-6]$' THEN w.responded_at + interval '5 hours' END, w.created_at
FROM work_orders w
WHERE w.site_id = $1 AND w.kind = 'complaint'
"""

# Follow-up calls after completion: some unanswered, some late (after the 3-day window), most rated, and a
# second call on some; a few made in the hours just past.
CALLBACKS = """
INSERT INTO callbacks (work_order_id, attempt, reached, satisfaction, speed, attitude, quality, recommend,
                       called_at)
SELECT w.id, a.attempt, a.r >= 0.15, CASE WHEN a.r >= 0.25 THEN 1 + floor(a.r * 100)::int % 5 END,
       CASE WHEN a.r >= 0.4 THEN 1 + floor(a.r * 37)::int % 5 END,
       CASE WHEN a.r >= 0.5 THEN 1 + floor(a.r * 53)::int % 5 END,
       CASE WHEN a.r >= 0.3 THEN 1 + floor(a.r * 71)::int % 5 END,
       CASE WHEN a.r >= 0.2 THEN floor(a.r * 113)::int % 11 END,
       least(w.completed_at + a.after, $2::timestamptz - interval '1 minute')
FROM work_orders w
CROSS JOIN LATERAL (VALUES
    (1, random(), interval '1 hour' * (1 + floor(random() * 100))),
    (2, random(), interval '5 days')
) AS a(attempt, r, after)
WHERE w.site_id = $1 AND w.completed_at IS NOT NULL AND w.completed_at < $2
  AND (a.attempt = 1 OR w.number::text ~ '[05]$')
"""


async def estate(db: asyncpg.Connection, now: datetime) -> dict[str, UUID]:
    await db.execute("SELECT setseed(0.16)")
    ids = {}
    for code, zone in SITES.items():
        site = await db.fetchval(
            "INSERT INTO sites (code, name, timezone) VALUES ($1, $1, $2) RETURNING id", code, zone
        )
        await db.execute(
            """INSERT INTO user_sites (user_id, site_id)
               SELECT id, $1 FROM users WHERE username IN ('tech1', 'tech2', 'tech3')""",
            site,
        )
        await db.execute(GENERATE, site, now, 700)
        await db.execute(CLOCKS, site)
        await db.execute(INVESTIGATE, site)
        await db.execute(CALLBACKS, site, now)
        ids[code] = site
    return ids


def periods(today: date) -> list[tuple[date, date]]:
    d = timedelta(days=1)
    return [
        (today - 6 * d, today),
        (today - 29 * d, today),
        (today - 44 * d, today - d),
        (today - 59 * d, today - 10 * d),
        (today - d, today - d),
        (today, today),
        (today - 62 * d, today + 2 * d),
    ]


async def both(db: asyncpg.Connection, user: CurrentUser, code: str, span: tuple[date, date], now: datetime):
    def plain(report: Any) -> dict[str, Any]:
        out = msgspec.to_builtins(report)
        out.pop("generatedAt", None)
        out.pop("generated_at", None)
        return out

    args = {"site": code, "from_date": span[0].isoformat(), "to_date": span[1].isoformat(), "now": now}
    async with db.transaction():
        rolled = plain(await reports.kpi_report(db, user, rollups=True, **args))
    async with db.transaction():
        again = plain(await reports.kpi_report(db, user, rollups=True, **args))
    async with db.transaction():
        direct = plain(await reports.kpi_report(db, user, rollups=False, **args))
    return rolled, again, direct


async def admin(db: asyncpg.Connection) -> CurrentUser:
    row = await db.fetchrow("SELECT id, username, display_name FROM users WHERE role = 'admin' LIMIT 1")
    return CurrentUser(
        id=row["id"], username=row["username"], display_name=row["display_name"], role="admin", site_ids=()
    )


@pytest.fixture
async def world(db):
    now = datetime.now(UTC)
    sites = await estate(db, now)
    return now, sites, await admin(db)


async def assert_all_equal(db, user, sites, now):
    for code in sites:
        today = local_today(now, SITES[code])
        for span in periods(today):
            rolled, again, direct = await both(db, user, code, span, now)
            assert rolled == direct, (code, span)
            assert again == direct, (code, span)
            if span == (today - timedelta(days=29), today):
                assert_varied(direct)


def assert_varied(report: dict[str, Any]) -> None:
    """The estate exercises every rolled-up part: an equality over zeros would prove nothing."""
    techs = report["technicians"]
    assert len(techs) == 3
    assert all(t["assigned"] and t["completed"] and t["ratings"] for t in techs)
    assert all(t["arrivalDue"] and t["resolutionDue"] and t["reopened"] for t in techs)
    desk = report["desk"]
    assert len(desk["byCategory"]) == 4
    assert desk["repeats"] and desk["escalated"] and desk["handled"] < desk["received"]
    assert 0 < desk["investigation"]["onTime"] < desk["investigation"]["due"]
    satisfaction = report["satisfaction"]
    assert satisfaction["ratings"] and satisfaction["speed"] and satisfaction["quality"]
    assert satisfaction["promoters"] and satisfaction["detractors"]
    callback = report["callback"]
    assert 0 < callback["complaintsCalledInTime"] < callback["complaintsDue"]


async def test_rollups_equal_the_direct_report_for_every_period(db, world):
    now, sites, user = world
    await assert_all_equal(db, user, sites, now)
    # the closed days were stored and are valid; today's was not
    for code, site in sites.items():
        today = local_today(now, SITES[code])
        stored = await db.fetch(
            "SELECT day FROM kpi_days WHERE site_id = $1 AND computed = generation ORDER BY day", site
        )
        days = [r["day"] for r in stored]
        assert today not in days
        assert days[0] == today - timedelta(days=62)
        assert len(days) >= 60
        assert await db.fetchval("SELECT sum(total) FROM kpi_days WHERE site_id = $1", site) > 0


async def test_changes_to_past_days_outdate_their_rollups_and_the_report_stays_exact(db, world):
    now, sites, user = world
    await assert_all_equal(db, user, sites, now)
    site = sites["roll-ny"]
    zone = ZoneInfo(SITES["roll-ny"])

    async def outdated() -> set[date]:
        rows = await db.fetch(
            "SELECT day FROM kpi_days WHERE site_id = $1 AND computed IS DISTINCT FROM generation", site
        )
        return {r["day"] for r in rows}

    assert await outdated() == set()

    def local_day(at: datetime) -> date:
        return at.astimezone(zone).date()

    async def job(where: str) -> asyncpg.Record:
        row = await db.fetchrow(
            f"""SELECT id, created_at FROM work_orders WHERE site_id = $1 AND {where}
                ORDER BY created_at LIMIT 1""",
            site,
        )
        assert row is not None, where
        return row

    # a closed job 20 days back is reopened: back in progress, its resolve clock unmet again
    reopened = await job(f"status = 'closed' AND created_at < '{(now - timedelta(days=20)).isoformat()}'")
    await db.execute(
        """UPDATE work_orders SET status = 'accepted', completed_at = NULL, closed_at = NULL,
               reopen_count = reopen_count + 1 WHERE id = $1""",
        reopened["id"],
    )
    await db.execute(
        "UPDATE work_order_clocks SET met_at = NULL WHERE work_order_id = $1 AND clock = 'resolve'",
        reopened["id"],
    )
    # a job 15 days back is cancelled, and an earlier cancelled one brought back
    cancelled = await job(f"status = 'closed' AND created_at < '{(now - timedelta(days=15)).isoformat()}'")
    await db.execute("UPDATE work_orders SET status = 'cancelled' WHERE id = $1", cancelled["id"])
    revived = await job("status = 'cancelled'")
    await db.execute("UPDATE work_orders SET status = 'completed' WHERE id = $1", revived["id"])
    # a clock met late, long after its day; another moved to the next day
    late = await db.fetchrow(
        """SELECT work_order_id, clock, due_at FROM work_order_clocks
           WHERE site_id = $1 AND met_at IS NULL AND due_at < $2 ORDER BY due_at LIMIT 1""",
        site,
        now - timedelta(days=3),
    )
    assert late is not None
    await db.execute(
        "UPDATE work_order_clocks SET met_at = $3 WHERE work_order_id = $1 AND clock = $2",
        late["work_order_id"],
        late["clock"],
        now - timedelta(hours=1),
    )
    moved = await db.fetchrow(
        """SELECT work_order_id, clock, due_at FROM work_order_clocks
           WHERE site_id = $1 AND due_at < $2 AND met_at IS NOT NULL ORDER BY due_at DESC LIMIT 1""",
        site,
        now - timedelta(days=25),
    )
    await db.execute(
        """UPDATE work_order_clocks SET due_at = due_at + interval '1 day'
           WHERE work_order_id = $1 AND clock = $2""",
        moved["work_order_id"],
        moved["clock"],
    )
    # a job entered late, dated five days back, with its respond clock
    entered = await db.fetchval(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                   created_at, responded_at)
           VALUES ($1, 'LATE1', 'repair', 'accepted', 2, 'other', 'phone', 'late entry', $2,
                   $2::timestamptz + interval '7 hours')
           RETURNING created_at""",
        site,
        now - timedelta(days=5),
    )
    # a job of today touches no rollup
    await db.execute(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                   created_at)
           VALUES ($1, 'TODAY1', 'repair', 'new', 2, 'other', 'phone', 'today', $2)""",
        site,
        now,
    )

    # a complaint completed 12 days back is called back now, late (its window stays missed) ...
    complaint = await db.fetchrow(
        """SELECT id, created_at, completed_at FROM work_orders
           WHERE site_id = $1 AND kind = 'complaint' AND status = 'closed' AND completed_at < $2
             AND NOT EXISTS (SELECT 1 FROM callbacks cb
                             WHERE cb.work_order_id = work_orders.id AND cb.reached)
           ORDER BY completed_at DESC LIMIT 1""",
        site,
        now - timedelta(days=12),
    )
    assert complaint is not None
    await db.execute(
        """INSERT INTO callbacks (work_order_id, attempt, reached, satisfaction, called_at)
           VALUES ($1, 9, true, 2, $2)""",
        complaint["id"],
        complaint["completed_at"] + timedelta(days=2),
    )
    # ... its first reply was met late after all, it was escalated, and filed under another category
    await db.execute(
        """UPDATE work_order_clocks SET met_at = due_at + interval '2 hours'
           WHERE work_order_id = $1 AND clock = 'respond'""",
        complaint["id"],
    )
    await db.execute(
        """UPDATE work_orders SET category = 'fees', resolution = resolution || '{"escalatedTo": "m"}'
           WHERE id = $1""",
        complaint["id"],
    )
    # a rating 8 days back is corrected, another call 30 days back deleted
    rated = await db.fetchrow(
        """SELECT id, called_at FROM callbacks
           WHERE site_id = $1 AND satisfaction IS NOT NULL AND called_at < $2
           ORDER BY called_at DESC LIMIT 1""",
        site,
        now - timedelta(days=8),
    )
    await db.execute(
        "UPDATE callbacks SET satisfaction = 6 - satisfaction, speed = NULL, recommend = 10 WHERE id = $1",
        rated["id"],
    )
    dropped = await db.fetchrow(
        """SELECT id, called_at FROM callbacks WHERE site_id = $1 AND called_at < $2
           ORDER BY called_at DESC LIMIT 1""",
        site,
        now - timedelta(days=30),
    )
    await db.execute("DELETE FROM callbacks WHERE id = $1", dropped["id"])
    # a job finished 18 days back is handed to another technician
    handed = await job(f"status = 'closed' AND completed_at < '{(now - timedelta(days=18)).isoformat()}'")
    handed_completed = await db.fetchval("SELECT completed_at FROM work_orders WHERE id = $1", handed["id"])
    await db.execute(
        """UPDATE work_orders SET assignee_id = (SELECT id FROM users WHERE username = 'tech3'
                                                 AND id IS DISTINCT FROM work_orders.assignee_id
                                                 UNION ALL SELECT id FROM users WHERE username = 'tech1'
                                                 LIMIT 1)
           WHERE id = $1""",
        handed["id"],
    )

    expected = {
        local_day(complaint["created_at"]),
        local_day(complaint["completed_at"]),
        local_day(rated["called_at"]),
        local_day(dropped["called_at"]),
        local_day(handed["created_at"]),
        local_day(handed_completed),
        local_day(reopened["created_at"]),
        local_day(cancelled["created_at"]),
        local_day(revived["created_at"]),
        local_day(late["due_at"]),
        local_day(moved["due_at"]),
        local_day(moved["due_at"] + timedelta(days=1)),
        local_day(entered),
    }
    today = local_today(now, SITES["roll-ny"])
    expected = {d for d in expected if d < today}
    assert expected <= await outdated()
    assert (
        await db.fetchval("SELECT count(*) FROM kpi_days WHERE site_id = $1 AND day >= $2", site, today) == 0
    )

    await assert_all_equal(db, user, sites, now)
    assert await outdated() == set()


async def test_the_report_reads_the_stored_days(db, world):
    """The rollup path does read kpi_days: a stored day's figures are what the report adds up."""
    now, sites, user = world
    site = sites["roll-sh"]
    today = local_today(now, SITES["roll-sh"])
    span = (today - timedelta(days=9), today - timedelta(days=1))
    rolled, _, direct = await both(db, user, "roll-sh", span, now)
    assert rolled == direct
    await db.execute(
        "UPDATE kpi_days SET total = total + 1000 WHERE site_id = $1 AND day = $2", site, span[0]
    )
    await db.execute(
        "UPDATE kpi_technician_days SET assigned = assigned + 1000 WHERE site_id = $1 AND day = $2",
        site,
        span[0],
    )
    await db.execute(
        """UPDATE kpi_desk_days SET received = received + 1000
           WHERE site_id = $1 AND day = $2 AND category = 'noise'""",
        site,
        span[0],
    )
    await db.execute(
        "UPDATE kpi_days SET complaints_called = complaints_called + 1000 WHERE site_id = $1 AND day = $2",
        site,
        span[0],
    )
    rolled, _, direct = await both(db, user, "roll-sh", span, now)
    assert rolled["total"] == direct["total"] + 1000
    assert rolled["desk"]["received"] == direct["desk"]["received"] + 1000
    assert rolled["callback"]["complaintsCalledInTime"] == direct["callback"]["complaintsCalledInTime"] + 1000
    assigned = {t["username"]: t["assigned"] for t in direct["technicians"]}
    bumped = [t for t in rolled["technicians"] if t["assigned"] != assigned[t["username"]]]
    assert bumped and all(t["assigned"] >= 1000 for t in bumped)


async def test_a_day_changed_while_it_is_computed_is_not_stored(db, world):
    """A report that read a day's generation before a change committed does not store that day."""
    now, sites, _ = world
    site = sites["roll-kt"]
    yesterday = local_today(now, SITES["roll-kt"]) - timedelta(days=2)
    period = period_between(yesterday, yesterday, SITES["roll-kt"])
    closed = [r for r in period_ranges(period, now) if r.day is not None]
    assert closed
    # the day's generation as a report would read it (writing the estate already marked the day) ...
    read = await db.fetch(q._ROLLUP_OUTDATED, site, [yesterday])
    assert [r["day"] for r in read] == [yesterday]
    seen = read[0]["generation"]
    # ... then a change to a job of that day commits ...
    await db.execute(
        """UPDATE work_orders SET reopen_count = reopen_count + 1
           WHERE id = (SELECT id FROM work_orders WHERE site_id = $1 AND created_at >= $2 AND created_at < $3
                       LIMIT 1)""",
        site,
        closed[0].start,
        closed[0].end,
    )
    # ... and the report's store of what it computed is refused
    await db.execute(
        q._ROLLUP_FILL,
        site,
        [yesterday],
        [seen],
        [closed[0].start],
        [closed[0].end],
        now,
        timedelta(minutes=5),
    )
    row = await db.fetchrow(
        "SELECT generation, computed FROM kpi_days WHERE site_id = $1 AND day = $2", site, yesterday
    )
    assert row["computed"] is None and row["generation"] == seen + 1
    # the same store with the day's current generation is taken
    await db.execute(
        q._ROLLUP_FILL,
        site,
        [yesterday],
        [seen + 1],
        [closed[0].start],
        [closed[0].end],
        now,
        timedelta(minutes=5),
    )
    assert await db.fetchval(
        "SELECT computed = generation FROM kpi_days WHERE site_id = $1 AND day = $2", site, yesterday
    )


async def test_the_job_stores_yesterday_once_soon_after_the_sites_midnight(db, db_url):
    """Two schedulers run the job at once: nothing before the day has settled, then the day stored once and
    valid, then nothing more to do; the report reads what the job stored and equals the direct one."""
    assert (fill_yesterdays_rollups, 300.0) in JOBS
    zone = "Asia/Kathmandu"
    # a site midnight at least an hour past: the database's own clock must also see the day closed
    today = local_today(datetime.now(UTC) - timedelta(hours=1), zone)
    midnight = period_between(today, today, zone).start
    yesterday = today - timedelta(days=1)
    site = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ('roll-job', 'roll-job', $1) RETURNING id", zone
    )
    await db.execute(GENERATE, site, midnight, 300)
    await db.execute(CLOCKS, site)
    await db.execute(CALLBACKS, site, midnight)

    async def stored() -> asyncpg.Record | None:
        return await db.fetchrow(
            """SELECT generation, computed, total,
                      (SELECT count(*) FROM kpi_technician_days t
                       WHERE t.site_id = k.site_id AND t.day = k.day) AS technicians
               FROM kpi_days k WHERE site_id = $1 AND day = $2""",
            site,
            yesterday,
        )

    clock = ManualClock(midnight + timedelta(minutes=2))
    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]

    async def run_both() -> int:
        return sum(await asyncio.gather(*(fill_yesterdays_rollups(c) for c in contexts)))

    try:
        await run_both()
        before = await stored()
        assert before is None or before["computed"] is None  # 2 min after midnight: not settled yet
        clock.set(midnight + timedelta(minutes=6))
        assert await run_both() >= 1
        row = await stored()
        assert row["computed"] == row["generation"] and row["total"] > 0 and row["technicians"] > 0
        assert await run_both() == 0  # every site's day is stored: nothing left to compute
        assert await stored() == row
    finally:
        for p in pools:
            await p.close()

    user = await admin(db)
    now = datetime.now(UTC)
    period = period_between(yesterday, yesterday, zone)
    assert await q.fill_rollups(db, site, period_ranges(period, now), now, timedelta(minutes=5)) == 0
    rolled, _, direct = await both(db, user, "roll-job", (yesterday, yesterday), now)
    assert rolled == direct and direct["total"] == row["total"]
