"""Report SQL: the management KPIs, the work-order export and the daily digest's facts.

Each KPI query reads one site and one period (instants, start inclusive, end exclusive); the definitions are
those of docs/REPORTS.md. Durations are computed in SQL with percentile_cont, so no rows travel to Python.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries.rows import insert_once, struct_of
from backend.db.queries.sites import all_sites  # noqa: F401 (the reports' own name for it)
from backend.domain.kpis import (
    CLOCKS,
    COMPLAINT_CALLBACK_DAYS,
    DETRACTOR_UP_TO,
    DRIVER_WEIGHTS,
    PROMOTER_FROM,
    SATISFIED_FROM,
    AlarmCount,
    AlarmKpi,
    AppointmentKpi,
    CallbackKpi,
    CategoryTrend,
    ComplaintDeskKpi,
    ComplaintKpi,
    DayRange,
    DeskCategory,
    DigestFacts,
    FeedbackKpi,
    NowKpi,
    OverdueItem,
    Period,
    ReopenKpi,
    SatisfactionKpi,
    StepKpi,
    TechnicianKpi,
    change_rate,
    desk_clock,
    minutes,
    net_promoter_score,
    share,
    weighted_satisfaction,
)
from backend.domain.sla import APPOINTMENT_GRACE
from backend.domain.workflow import ACTIVE_STATUSES, CLOSED_STATUSES, OPEN_STATUSES, priority_code

# Spelled out as lists: `status = ANY(open)` reads the (site_id, status) index, `<> ALL(final)` cannot.
ACTIVE = sorted(ACTIVE_STATUSES)
FINAL = sorted(CLOSED_STATUSES)
OPEN = sorted(OPEN_STATUSES)


class WorkOrderSummary(msgspec.Struct, frozen=True):
    """Counts, step durations and reopens over the work orders created in a period."""

    total: int
    by_kind: dict[str, int]
    by_status: dict[str, int]
    durations: dict[str, tuple[int, float | None, float | None]]
    reopen: ReopenKpi


_SUMMARY = """
WITH created AS NOT MATERIALIZED (
    -- each use reads the period from work_orders_site_created_report alone (no table visits, no temp file)
    SELECT kind, status, created_at, responded_at, arrived_at, completed_at, reopen_count
    FROM work_orders
    WHERE site_id = $1 AND created_at >= $2 AND created_at < $3
), step AS (
    -- minutes from creation to each step; NULL while the step has not happened (percentile_cont skips NULLs)
    SELECT extract(epoch FROM responded_at - created_at) / 60 AS respond,
           extract(epoch FROM arrived_at - created_at) / 60 AS arrive,
           extract(epoch FROM completed_at - created_at) / 60 AS resolve,
           completed_at IS NOT NULL OR reopen_count > 0 AS was_completed,
           reopen_count > 0 AS was_reopened
    FROM created
)
SELECT
    (SELECT count(*) FROM created) AS total,
    (SELECT coalesce(jsonb_object_agg(kind, n), '{}') FROM
        (SELECT kind, count(*) AS n FROM created GROUP BY kind) k) AS by_kind,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM
        (SELECT status, count(*) AS n FROM created GROUP BY status) s) AS by_status,
    count(respond) AS respond_n,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY respond) AS respond_p50,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY respond) AS respond_p90,
    count(arrive) AS arrive_n,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY arrive) AS arrive_p50,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY arrive) AS arrive_p90,
    count(resolve) AS resolve_n,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve) AS resolve_p50,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve) AS resolve_p90,
    count(*) FILTER (WHERE was_completed) AS completed,
    count(*) FILTER (WHERE was_reopened) AS reopened
FROM step
"""


# Sort memory for the report's transaction: a year's step durations (about 100,000 values per step at a
# large site) spilled to disk at the default 4 MB and took twice as long.
REPORT_WORK_MEM = "64MB"


async def sort_in_memory(conn: asyncpg.Connection) -> None:
    """Let this transaction's sorts (the percentiles) stay in memory until it ends."""
    await conn.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")


async def work_order_summary(conn: asyncpg.Connection, site_id: UUID, period: Period) -> WorkOrderSummary:
    """Counts by kind and status, step durations (n, p50, p90 minutes) and reopens of work orders created."""
    return _summary(await conn.fetchrow(_SUMMARY, site_id, period.start, period.end))


# ---- daily rollups (migration 0024): whole closed days read from kpi_days, the rest from the raw tables ----


def _ranges_args(ranges: Sequence[DayRange]) -> tuple[list[date | None], list[datetime], list[datetime]]:
    return [r.day for r in ranges], [r.start for r in ranges], [r.end for r in ranges]


_ROLLUP_OUTDATED = """
SELECT d.day, coalesce(k.generation, 0) AS generation
FROM unnest($2::date[]) AS d(day)
LEFT JOIN kpi_days k ON k.site_id = $1 AND k.day = d.day
WHERE k.site_id IS NULL OR k.computed IS DISTINCT FROM k.generation
ORDER BY d.day
"""

# Ratings given in one stretch [s, e): counts and sums, so the averages are exact as sum / count (as avg()
# computes them) whether read directly or added up from daily rollups.
_SATISFACTION_SUMS = """
SELECT count(*) AS ratings, coalesce(sum(cb.satisfaction), 0) AS rating_sum,
       count(*) FILTER (WHERE cb.satisfaction >= {satisfied}) AS satisfied,
       count(cb.speed) AS speed_n, coalesce(sum(cb.speed), 0) AS speed_sum,
       count(cb.attitude) AS attitude_n, coalesce(sum(cb.attitude), 0) AS attitude_sum,
       count(cb.quality) AS quality_n, coalesce(sum(cb.quality), 0) AS quality_sum,
       count(cb.recommend) AS recommend_answers,
       count(*) FILTER (WHERE cb.recommend >= {promoter}) AS promoters,
       count(*) FILTER (WHERE cb.recommend <= {detractor}) AS detractors
FROM callbacks cb
WHERE cb.site_id = $1 AND cb.called_at >= {s} AND cb.called_at < {e} AND cb.satisfaction IS NOT NULL"""

_SATISFACTION_COLUMNS = (
    "ratings",
    "rating_sum",
    "satisfied",
    "speed_n",
    "speed_sum",
    "attitude_n",
    "attitude_sum",
    "quality_n",
    "quality_sum",
    "recommend_answers",
    "promoters",
    "detractors",
)

_SATISFACTION_CONSTANTS = {
    "satisfied": SATISFIED_FROM,
    "promoter": PROMOTER_FROM,
    "detractor": DETRACTOR_UP_TO,
}


# One day's figures from the raw tables, stored only if the day's generation is still the one read above (a
# change committed meanwhile bumped it: the day stays outdated rather than missing that change), and only once
# the day has closed by the database's clock too (the triggers leave today's rows alone).
_ROLLUP_FILL = f"""
WITH d AS (
    SELECT * FROM unnest($2::date[], $3::bigint[], $4::timestamptz[], $5::timestamptz[])
                  AS d(day, generation, s, e)
    WHERE d.e + $7::interval <= clock_timestamp() AND d.e + $7::interval <= $6
), stored AS (
INSERT INTO kpi_days AS k (
    site_id, day, generation, computed, total, by_kind, by_status,
    respond_minutes, arrive_minutes, resolve_minutes, completed, reopened,
    respond_due, respond_on_time, arrive_due, arrive_on_time,
    resolve_due, resolve_on_time, callback_due, callback_on_time,
    complaints_called, complaints_uncalled_until, {", ".join(_SATISFACTION_COLUMNS)})
SELECT $1, d.day, d.generation, d.generation, w.total, bk.by_kind, bs.by_status,
       w.respond, w.arrive, w.resolve, w.completed, w.reopened,
       ck.respond_due, ck.respond_on_time, ck.arrive_due, ck.arrive_on_time,
       ck.resolve_due, ck.resolve_on_time, ck.callback_due, ck.callback_on_time,
       cc.called, cc.uncalled_until, {", ".join("sf." + c for c in _SATISFACTION_COLUMNS)}
FROM d
CROSS JOIN LATERAL (
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE completed_at IS NOT NULL OR reopen_count > 0)::int AS completed,
           count(*) FILTER (WHERE reopen_count > 0)::int AS reopened,
           coalesce(array_agg(respond ORDER BY respond) FILTER (WHERE respond IS NOT NULL), '{{}}')
               AS respond,
           coalesce(array_agg(arrive ORDER BY arrive) FILTER (WHERE arrive IS NOT NULL), '{{}}') AS arrive,
           coalesce(array_agg(resolve ORDER BY resolve) FILTER (WHERE resolve IS NOT NULL), '{{}}')
               AS resolve
    FROM (SELECT completed_at, reopen_count,
                 (extract(epoch FROM responded_at - created_at) / 60)::float8 AS respond,
                 (extract(epoch FROM arrived_at - created_at) / 60)::float8 AS arrive,
                 (extract(epoch FROM completed_at - created_at) / 60)::float8 AS resolve
          FROM work_orders
          WHERE site_id = $1 AND created_at >= d.s AND created_at < d.e) x
) w
CROSS JOIN LATERAL (
    SELECT coalesce(jsonb_object_agg(kind, n), '{{}}') AS by_kind
    FROM (SELECT kind, count(*) AS n FROM work_orders
          WHERE site_id = $1 AND created_at >= d.s AND created_at < d.e GROUP BY kind) x
) bk
CROSS JOIN LATERAL (
    SELECT coalesce(jsonb_object_agg(status, n), '{{}}') AS by_status
    FROM (SELECT status, count(*) AS n FROM work_orders
          WHERE site_id = $1 AND created_at >= d.s AND created_at < d.e GROUP BY status) x
) bs
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE clock = 'respond' AND decided)::int AS respond_due,
           count(*) FILTER (WHERE clock = 'respond' AND on_time)::int AS respond_on_time,
           count(*) FILTER (WHERE clock = 'arrive' AND decided)::int AS arrive_due,
           count(*) FILTER (WHERE clock = 'arrive' AND on_time)::int AS arrive_on_time,
           count(*) FILTER (WHERE clock = 'resolve' AND decided)::int AS resolve_due,
           count(*) FILTER (WHERE clock = 'resolve' AND on_time)::int AS resolve_on_time,
           count(*) FILTER (WHERE clock = 'callback' AND decided)::int AS callback_due,
           count(*) FILTER (WHERE clock = 'callback' AND on_time)::int AS callback_on_time
    FROM (SELECT c.clock,
                 c.met_at IS NOT NULL OR (c.due_at <= $6 AND c.paused_since IS NULL) AS decided,
                 c.met_at <= c.due_at AS on_time
          FROM work_order_clocks c
          WHERE c.site_id = $1 AND c.due_at >= d.s AND c.due_at < d.e
            AND NOT EXISTS (SELECT 1 FROM work_orders w
                            WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')) x
) ck
CROSS JOIN LATERAL (
    -- complaints completed that day: called back in time, or the end of their still undecided window
    SELECT count(*) FILTER (WHERE called)::int AS called,
           coalesce(array_agg(until) FILTER (WHERE NOT called), '{{}}') AS uncalled_until
    FROM (SELECT w.completed_at + make_interval(days => {COMPLAINT_CALLBACK_DAYS}) AS until, w.id
          FROM work_orders w
          WHERE w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
            AND w.completed_at >= d.s AND w.completed_at < d.e) w
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM callbacks cb
                       WHERE cb.work_order_id = w.id AND cb.reached AND cb.called_at <= w.until) AS called
    ) x
) cc
CROSS JOIN LATERAL ({_SATISFACTION_SUMS.format(s="d.s", e="d.e", **_SATISFACTION_CONSTANTS)}) sf
ON CONFLICT (site_id, day) DO UPDATE SET
    computed = excluded.computed, total = excluded.total, by_kind = excluded.by_kind,
    by_status = excluded.by_status, respond_minutes = excluded.respond_minutes,
    arrive_minutes = excluded.arrive_minutes, resolve_minutes = excluded.resolve_minutes,
    completed = excluded.completed, reopened = excluded.reopened,
    respond_due = excluded.respond_due, respond_on_time = excluded.respond_on_time,
    arrive_due = excluded.arrive_due, arrive_on_time = excluded.arrive_on_time,
    resolve_due = excluded.resolve_due, resolve_on_time = excluded.resolve_on_time,
    callback_due = excluded.callback_due, callback_on_time = excluded.callback_on_time,
    complaints_called = excluded.complaints_called,
    complaints_uncalled_until = excluded.complaints_uncalled_until,
    {", ".join(f"{c} = excluded.{c}" for c in _SATISFACTION_COLUMNS)}
WHERE k.generation = excluded.generation
RETURNING k.day
), techs AS (
INSERT INTO kpi_technician_days AS k (
    site_id, day, technician_id, assigned, reopened, completed, resolve_minutes,
    arrival_due, arrival_on_time, resolution_due, resolution_on_time, ratings, rating_sum)
SELECT $1, d.day, t.tech, sum(t.assigned), sum(t.reopened), sum(t.completed),
       coalesce(array_agg(t.minutes ORDER BY t.minutes) FILTER (WHERE t.minutes IS NOT NULL), '{{}}'),
       sum(t.arrival_due), sum(t.arrival_on_time), sum(t.resolution_due), sum(t.resolution_on_time),
       sum(t.ratings), sum(t.rating)
FROM stored JOIN d ON d.day = stored.day
CROSS JOIN LATERAL (
    -- the technician_kpis rules, each fact on its own day: created, completed, clock due, rating given
    SELECT coalesce(assignee_id, last_assignee_id) AS tech, 1 AS assigned,
           (reopen_count > 0)::int AS reopened,
           0 AS completed, NULL::float8 AS minutes, 0 AS arrival_due, 0 AS arrival_on_time,
           0 AS resolution_due, 0 AS resolution_on_time, 0 AS ratings, 0 AS rating
    FROM work_orders WHERE site_id = $1 AND created_at >= d.s AND created_at < d.e
    UNION ALL
    SELECT coalesce(assignee_id, last_assignee_id), 0, 0, 1,
           (extract(epoch FROM completed_at - created_at) / 60)::float8, 0, 0, 0, 0, 0, 0
    FROM work_orders
    WHERE site_id = $1 AND completed_at >= d.s AND completed_at < d.e AND status <> 'cancelled'
    UNION ALL
    SELECT c.technician_id, 0, 0, 0, NULL,
           (c.clock = 'arrive')::int, (c.clock = 'arrive' AND coalesce(c.met_at <= c.due_at, false))::int,
           (c.clock = 'resolve')::int, (c.clock = 'resolve' AND coalesce(c.met_at <= c.due_at, false))::int,
           0, 0
    FROM work_order_clocks c
    WHERE c.site_id = $1 AND c.clock IN ('arrive', 'resolve') AND c.due_at >= d.s AND c.due_at < d.e
      AND (c.met_at IS NOT NULL OR (c.due_at <= $6 AND c.paused_since IS NULL))
      AND NOT EXISTS (SELECT 1 FROM work_orders w
                      WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')
    UNION ALL
    SELECT cb.technician_id, 0, 0, 0, NULL, 0, 0, 0, 0, 1, cb.satisfaction
    FROM callbacks cb
    WHERE cb.site_id = $1 AND cb.called_at >= d.s AND cb.called_at < d.e AND cb.satisfaction IS NOT NULL
) t
WHERE t.tech IS NOT NULL
GROUP BY d.day, t.tech
ON CONFLICT (site_id, day, technician_id) DO UPDATE SET
    assigned = excluded.assigned, reopened = excluded.reopened, completed = excluded.completed,
    resolve_minutes = excluded.resolve_minutes, arrival_due = excluded.arrival_due,
    arrival_on_time = excluded.arrival_on_time, resolution_due = excluded.resolution_due,
    resolution_on_time = excluded.resolution_on_time, ratings = excluded.ratings,
    rating_sum = excluded.rating_sum
), desk AS (
INSERT INTO kpi_desk_days AS k (
    site_id, day, category, received, handled, repeats, escalated,
    reply_met, reply_on_time, reply_open, investigate_met, investigate_on_time, investigate_open,
    resolve_met, resolve_on_time, resolve_open)
-- the complaint_desk_kpi rules over the complaints received that day; unmet clocks kept as their due times
SELECT $1, d.day, w.category, count(*), count(*) FILTER (WHERE w.completed_at IS NOT NULL),
       count(*) FILTER (WHERE w.resolution ? 'repeatOf'),
       count(*) FILTER (WHERE w.resolution ? 'escalatedTo'),
       count(r.met_at), count(r.met_at <= r.due_at OR NULL),
       coalesce(array_agg(r.due_at) FILTER (WHERE r.met_at IS NULL AND r.due_at IS NOT NULL), '{{}}'),
       count(i.met_at), count(i.met_at <= i.due_at OR NULL),
       coalesce(array_agg(i.due_at) FILTER (WHERE i.met_at IS NULL AND i.due_at IS NOT NULL), '{{}}'),
       count(z.met_at), count(z.met_at <= z.due_at OR NULL),
       coalesce(array_agg(z.due_at) FILTER (WHERE z.met_at IS NULL AND z.due_at IS NOT NULL), '{{}}')
FROM stored JOIN d ON d.day = stored.day
JOIN work_orders w ON w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
     AND w.created_at >= d.s AND w.created_at < d.e
LEFT JOIN work_order_clocks r ON r.work_order_id = w.id AND r.clock = 'respond'
LEFT JOIN work_order_clocks i ON i.work_order_id = w.id AND i.clock = 'investigate'
LEFT JOIN work_order_clocks z ON z.work_order_id = w.id AND z.clock = 'resolve'
GROUP BY d.day, w.category
ON CONFLICT (site_id, day, category) DO UPDATE SET
    received = excluded.received, handled = excluded.handled, repeats = excluded.repeats,
    escalated = excluded.escalated, reply_met = excluded.reply_met, reply_on_time = excluded.reply_on_time,
    reply_open = excluded.reply_open, investigate_met = excluded.investigate_met,
    investigate_on_time = excluded.investigate_on_time, investigate_open = excluded.investigate_open,
    resolve_met = excluded.resolve_met, resolve_on_time = excluded.resolve_on_time,
    resolve_open = excluded.resolve_open
)
SELECT count(*) FROM stored
"""

# A day's per-technician and desk rows from an older computation (a technician or category may be gone).
_ROLLUP_CLEAR = """
WITH t AS (DELETE FROM kpi_technician_days WHERE site_id = $1 AND day = ANY($2::date[]))
DELETE FROM kpi_desk_days WHERE site_id = $1 AND day = ANY($2::date[])
"""


async def fill_rollups(
    conn: asyncpg.Connection,
    site_id: UUID,
    closed_days: Sequence[DayRange],
    now: datetime,
    settle: timedelta,
) -> int:
    """Compute and store the closed days of `closed_days` whose rollup is missing or outdated; returns how
    many were outdated (some may not have been stored, if a change raced the computation)."""
    by_day = {r.day: r for r in closed_days}
    outdated = await conn.fetch(_ROLLUP_OUTDATED, site_id, list(by_day))
    if not outdated:
        return 0
    days = [r["day"] for r in outdated]
    await conn.execute(_ROLLUP_CLEAR, site_id, days)
    await conn.execute(
        _ROLLUP_FILL,
        site_id,
        days,
        [r["generation"] for r in outdated],
        [by_day[d].start for d in days],
        [by_day[d].end for d in days],
        now,
        settle,
    )
    return len(days)


# The ranges of the period: closed days with a valid rollup are read from it, every other range (the open
# edge, a day outdated or never stored) from the raw tables, all decided in the statement's one snapshot.
_RANGES = """
ranges AS (SELECT * FROM unnest($2::date[], $3::timestamptz[], $4::timestamptz[]) AS d(day, s, e)),
rolled AS MATERIALIZED (
    SELECT k.* FROM ranges r
    JOIN kpi_days k ON k.site_id = $1 AND k.day = r.day AND k.computed = k.generation
),
raw_ranges AS MATERIALIZED (
    SELECT r.s, r.e FROM ranges r WHERE r.day IS NULL OR r.day NOT IN (SELECT day FROM rolled)
)"""

_SUMMARY_ROLLED = (
    "WITH"
    + _RANGES
    + """,
created AS NOT MATERIALIZED (
    SELECT w.kind, w.status, w.created_at, w.responded_at, w.arrived_at, w.completed_at, w.reopen_count
    FROM raw_ranges r
    JOIN LATERAL (SELECT kind, status, created_at, responded_at, arrived_at, completed_at, reopen_count
                  FROM work_orders
                  WHERE site_id = $1 AND created_at >= r.s AND created_at < r.e) w ON true
), step AS (
    SELECT (extract(epoch FROM responded_at - created_at) / 60)::float8 AS respond,
           (extract(epoch FROM arrived_at - created_at) / 60)::float8 AS arrive,
           (extract(epoch FROM completed_at - created_at) / 60)::float8 AS resolve,
           completed_at IS NOT NULL OR reopen_count > 0 AS was_completed,
           reopen_count > 0 AS was_reopened
    FROM created
), respond AS (
    SELECT respond AS v FROM step UNION ALL SELECT unnest(respond_minutes) FROM rolled
), arrive AS (
    SELECT arrive AS v FROM step UNION ALL SELECT unnest(arrive_minutes) FROM rolled
), resolve AS (
    SELECT resolve AS v FROM step UNION ALL SELECT unnest(resolve_minutes) FROM rolled
)
SELECT
    (SELECT count(*) FROM created) + (SELECT coalesce(sum(total), 0) FROM rolled)::bigint AS total,
    (SELECT coalesce(jsonb_object_agg(kind, n), '{}') FROM (
        SELECT kind, sum(n)::bigint AS n FROM (
            SELECT kind, count(*) AS n FROM created GROUP BY kind
            UNION ALL SELECT e.key, e.value::bigint FROM rolled, jsonb_each_text(rolled.by_kind) e
        ) u GROUP BY kind) k) AS by_kind,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (
        SELECT status, sum(n)::bigint AS n FROM (
            SELECT status, count(*) AS n FROM created GROUP BY status
            UNION ALL SELECT e.key, e.value::bigint FROM rolled, jsonb_each_text(rolled.by_status) e
        ) u GROUP BY status) s) AS by_status,
    rs.n AS respond_n, rs.p50 AS respond_p50, rs.p90 AS respond_p90,
    ar.n AS arrive_n, ar.p50 AS arrive_p50, ar.p90 AS arrive_p90,
    rv.n AS resolve_n, rv.p50 AS resolve_p50, rv.p90 AS resolve_p90,
    (SELECT count(*) FILTER (WHERE was_completed) FROM step)
        + (SELECT coalesce(sum(completed), 0) FROM rolled)::bigint AS completed,
    (SELECT count(*) FILTER (WHERE was_reopened) FROM step)
        + (SELECT coalesce(sum(reopened), 0) FROM rolled)::bigint AS reopened
FROM
    -- one sort per step serves its count and both percentiles
    (SELECT count(v) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 FROM respond) rs,
    (SELECT count(v) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 FROM arrive) ar,
    (SELECT count(v) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 FROM resolve) rv
"""
)


def _summary(r: asyncpg.Record) -> WorkOrderSummary:
    durations = {
        step: (r[f"{step}_n"], minutes(r[f"{step}_p50"]), minutes(r[f"{step}_p90"]))
        for step in ("respond", "arrive", "resolve")
    }
    return WorkOrderSummary(
        total=r["total"],
        by_kind=r["by_kind"],
        by_status=r["by_status"],
        durations=durations,
        reopen=ReopenKpi(
            completed=r["completed"], reopened=r["reopened"], rate=share(r["reopened"], r["completed"])
        ),
    )


async def work_order_summary_rolled(
    conn: asyncpg.Connection, site_id: UUID, ranges: Sequence[DayRange]
) -> WorkOrderSummary:
    """`work_order_summary` over the same period, whole closed days read from their rollups."""
    return _summary(await conn.fetchrow(_SUMMARY_ROLLED, site_id, *_ranges_args(ranges)))


_COMPLIANCE_ROLLED = (
    "WITH"
    + _RANGES
    + """
SELECT clock, sum(due)::bigint AS due, sum(on_time)::bigint AS on_time FROM (
    SELECT c.clock,
           count(*) FILTER (WHERE c.met_at IS NOT NULL OR (c.due_at <= $5 AND c.paused_since IS NULL)) AS due,
           count(*) FILTER (WHERE c.met_at <= c.due_at) AS on_time
    FROM raw_ranges r
    JOIN LATERAL (SELECT * FROM work_order_clocks c
                  WHERE c.site_id = $1 AND c.due_at >= r.s AND c.due_at < r.e) c ON true
    WHERE NOT EXISTS (SELECT 1 FROM work_orders w
                      WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')
    GROUP BY c.clock
    UNION ALL SELECT 'respond', sum(respond_due), sum(respond_on_time) FROM rolled
    UNION ALL SELECT 'arrive', sum(arrive_due), sum(arrive_on_time) FROM rolled
    UNION ALL SELECT 'resolve', sum(resolve_due), sum(resolve_on_time) FROM rolled
    UNION ALL SELECT 'callback', sum(callback_due), sum(callback_on_time) FROM rolled
) u
WHERE due IS NOT NULL
GROUP BY clock
"""
)


async def clock_compliance_rolled(
    conn: asyncpg.Connection, site_id: UUID, ranges: Sequence[DayRange], now: datetime
) -> dict[str, tuple[int, int]]:
    """`clock_compliance` over the same period, whole closed days read from their rollups."""
    rows = await conn.fetch(_COMPLIANCE_ROLLED, site_id, *_ranges_args(ranges), now)
    found = {r["clock"]: (r["due"], r["on_time"]) for r in rows}
    return {clock: found.get(clock, (0, 0)) for clock in CLOCKS}


_CLOCK_COMPLIANCE = """
SELECT c.clock,
       -- decided: met (early or late), or past due without being met; a paused clock's due time moves
       -- when work resumes, so it is not late yet
       count(*) FILTER (WHERE c.met_at IS NOT NULL OR (c.due_at <= $4 AND c.paused_since IS NULL)) AS due,
       count(*) FILTER (WHERE c.met_at <= c.due_at) AS on_time
FROM work_order_clocks c
WHERE c.site_id = $1 AND c.due_at >= $2 AND c.due_at < $3
  -- a cancelled job's clocks stopped mattering; the few cancelled jobs are read from their own index
  AND NOT EXISTS (SELECT 1 FROM work_orders w
                  WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')
GROUP BY c.clock
"""


async def clock_compliance(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> dict[str, tuple[int, int]]:
    """Per clock (respond, arrive, resolve, callback): (due and decided, met on time) over clocks due."""
    rows = await conn.fetch(_CLOCK_COMPLIANCE, site_id, period.start, period.end, now)
    found = {r["clock"]: (r["due"], r["on_time"]) for r in rows}
    return {clock: found.get(clock, (0, 0)) for clock in CLOCKS}


def step_kpi(compliance: tuple[int, int], duration: tuple[int, float | None, float | None]) -> StepKpi:
    """A step's KPI from its clock compliance and its durations."""
    due, on_time = compliance
    measured, p50, p90 = duration
    return StepKpi(
        due=due,
        on_time=on_time,
        late=due - on_time,
        on_time_rate=share(on_time, due),
        measured=measured,
        median_minutes=p50,
        p90_minutes=p90,
    )


# Complaints (not cancelled) completed in one stretch [s, e): decided, and called back in time.
_COMPLAINT_CALLBACK_COUNTS = """
SELECT count(*) FILTER (WHERE called OR completed_at + make_interval(days => {days}) <= {now}) AS due,
       count(*) FILTER (WHERE called) AS called
FROM (
    SELECT w.completed_at,
           -- a reached follow-up call within the window; an unanswered attempt is not a callback
           EXISTS (
               SELECT 1 FROM callbacks cb
               WHERE cb.work_order_id = w.id AND cb.reached
                 AND cb.called_at <= w.completed_at + make_interval(days => {days})
           ) AS called
    FROM work_orders w
    WHERE w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
      AND w.completed_at >= {s} AND w.completed_at < {e}
    -- OFFSET 0: each complaint's callbacks are looked up once, not once per count
    OFFSET 0
) resolved"""

_COMPLAINT_CALLBACKS = _COMPLAINT_CALLBACK_COUNTS.format(days="$5", now="$4", s="$2", e="$3")

# The same over the period's ranges: closed days from kpi_days, where a complaint not called back is decided
# once the end of its window has passed.
_COMPLAINT_CALLBACKS_ROLLED = (
    "WITH"
    + _RANGES
    + """
SELECT sum(due)::bigint AS due, sum(called)::bigint AS called FROM ("""
    + "SELECT x.* FROM raw_ranges rr CROSS JOIN LATERAL ("
    + _COMPLAINT_CALLBACK_COUNTS.format(days="$6", now="$5", s="rr.s", e="rr.e")
    + """) x
    UNION ALL
    SELECT k.complaints_called + (SELECT count(*) FROM unnest(k.complaints_uncalled_until) x WHERE x <= $5),
           k.complaints_called
    FROM rolled k
) u
"""
)


async def callback_kpi(
    conn: asyncpg.Connection,
    site_id: UUID,
    period: Period,
    now: datetime,
    callback_clock: tuple[int, int],
    ranges: Sequence[DayRange] | None = None,
) -> CallbackKpi:
    """The callback clock's compliance plus complaints resolved in the period and called back in 3 days;
    with `ranges`, whole closed days of the latter are read from their rollups."""
    if ranges is None:
        r = await conn.fetchrow(
            _COMPLAINT_CALLBACKS, site_id, period.start, period.end, now, COMPLAINT_CALLBACK_DAYS
        )
    else:
        r = await conn.fetchrow(
            _COMPLAINT_CALLBACKS_ROLLED, site_id, *_ranges_args(ranges), now, COMPLAINT_CALLBACK_DAYS
        )
    due, on_time = callback_clock
    return CallbackKpi(
        due=due,
        on_time=on_time,
        on_time_rate=share(on_time, due),
        complaints_due=r["due"],
        complaints_called_in_time=r["called"],
        complaint_rate=share(r["called"], r["due"]),
    )


_SATISFACTION_TOTALS = """
SELECT sum(ratings)::bigint AS ratings, sum(satisfied)::bigint AS satisfied,
       (sum(rating_sum)::numeric / nullif(sum(ratings), 0))::float8 AS average,
       (sum(speed_sum)::numeric / nullif(sum(speed_n), 0))::float8 AS speed,
       (sum(attitude_sum)::numeric / nullif(sum(attitude_n), 0))::float8 AS attitude,
       (sum(quality_sum)::numeric / nullif(sum(quality_n), 0))::float8 AS quality,
       sum(recommend_answers)::bigint AS recommend_answers, sum(promoters)::bigint AS promoters,
       sum(detractors)::bigint AS detractors
FROM ({parts}) u
"""


_SATISFACTION = _SATISFACTION_TOTALS.format(
    parts=_SATISFACTION_SUMS.format(s="$2", e="$3", **_SATISFACTION_CONSTANTS)
)

# The same over the period's ranges: closed days from kpi_days (ratings by the day they were given).
_SATISFACTION_ROLLED = (
    "WITH"
    + _RANGES
    + _SATISFACTION_TOTALS.format(
        parts="SELECT x.* FROM raw_ranges rr CROSS JOIN LATERAL ("
        + _SATISFACTION_SUMS.format(s="rr.s", e="rr.e", **_SATISFACTION_CONSTANTS)
        + ") x UNION ALL SELECT "
        + ", ".join(_SATISFACTION_COLUMNS)
        + " FROM rolled"
    )
)


async def satisfaction_kpi(
    conn: asyncpg.Connection, site_id: UUID, period: Period, ranges: Sequence[DayRange] | None = None
) -> SatisfactionKpi:
    """Average rating and the share satisfied over ratings given in the period; with `ranges`, whole closed
    days are read from their rollups."""
    if ranges is None:
        r = await conn.fetchrow(_SATISFACTION, site_id, period.start, period.end)
    else:
        r = await conn.fetchrow(_SATISFACTION_ROLLED, site_id, *_ranges_args(ranges))
    ratings = r["ratings"] or 0
    drivers = {k: None if r[k] is None else round(r[k], 2) for k in DRIVER_WEIGHTS}
    return SatisfactionKpi(
        ratings=ratings,
        average=None if r["average"] is None else round(r["average"], 2),
        satisfied=r["satisfied"] or 0,
        satisfied_share=share(r["satisfied"] or 0, ratings),
        **drivers,
        weighted=weighted_satisfaction(drivers),
        recommend_answers=r["recommend_answers"] or 0,
        promoters=r["promoters"] or 0,
        detractors=r["detractors"] or 0,
        nps=net_promoter_score(r["promoters"] or 0, r["detractors"] or 0, r["recommend_answers"] or 0),
    )


_COMPLAINTS_BY_CATEGORY = """
SELECT category,
       count(*) FILTER (WHERE created_at >= $2) AS count,
       count(*) FILTER (WHERE created_at < $2) AS previous
FROM work_orders
-- one range scan covers the previous period ($4..$2) and this one ($2..$3)
WHERE site_id = $1 AND kind = 'complaint' AND created_at >= $4 AND created_at < $3
GROUP BY category
ORDER BY count(*) FILTER (WHERE created_at >= $2) DESC, category
"""


# The desk's counts over the complaints received in one stretch [s, e), per category.
_DESK_COUNTS = """
SELECT w.category,
       count(*) AS received,
       count(*) FILTER (WHERE w.completed_at IS NOT NULL) AS handled,
       count(*) FILTER (WHERE w.resolution ? 'repeatOf') AS repeats,
       count(*) FILTER (WHERE w.resolution ? 'escalatedTo') AS escalated,
       count(r.met_at IS NOT NULL OR r.due_at <= {now} OR NULL) AS reply_due,
       count(r.met_at <= r.due_at OR NULL) AS reply_on_time,
       count(i.met_at IS NOT NULL OR i.due_at <= {now} OR NULL) AS investigate_due,
       count(i.met_at <= i.due_at OR NULL) AS investigate_on_time,
       count(z.met_at IS NOT NULL OR z.due_at <= {now} OR NULL) AS resolve_due,
       count(z.met_at <= z.due_at OR NULL) AS resolve_on_time
FROM work_orders w
LEFT JOIN work_order_clocks r ON r.work_order_id = w.id AND r.clock = 'respond'
LEFT JOIN work_order_clocks i ON i.work_order_id = w.id AND i.clock = 'investigate'
LEFT JOIN work_order_clocks z ON z.work_order_id = w.id AND z.clock = 'resolve'
WHERE w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
  AND w.created_at >= {s} AND w.created_at < {e}
GROUP BY w.category"""

_DESK = (
    _DESK_COUNTS.format(now="$4", s="$2", e="$3")
    + """
ORDER BY count(*) DESC, w.category
"""
)

_DESK_FIGURES = (
    "received",
    "handled",
    "repeats",
    "escalated",
    "reply_due",
    "reply_on_time",
    "investigate_due",
    "investigate_on_time",
    "resolve_due",
    "resolve_on_time",
)

# The same over the period's ranges: closed days from kpi_desk_days, where an unmet clock is decided once its
# kept due time has passed.
_DESK_ROLLED = (
    "WITH"
    + _RANGES
    + """
SELECT category, """
    + ", ".join(f"sum({f})::bigint AS {f}" for f in _DESK_FIGURES)
    + """
FROM ("""
    + "SELECT x.* FROM raw_ranges rr CROSS JOIN LATERAL ("
    + _DESK_COUNTS.format(now="$5", s="rr.s", e="rr.e")
    + """) x
    UNION ALL
    SELECT k.category, k.received, k.handled, k.repeats, k.escalated,
           k.reply_met + (SELECT count(*) FROM unnest(k.reply_open) x WHERE x <= $5), k.reply_on_time,
           k.investigate_met + (SELECT count(*) FROM unnest(k.investigate_open) x WHERE x <= $5),
           k.investigate_on_time,
           k.resolve_met + (SELECT count(*) FROM unnest(k.resolve_open) x WHERE x <= $5), k.resolve_on_time
    FROM rolled JOIN kpi_desk_days k ON k.site_id = $1 AND k.day = rolled.day
) u
GROUP BY category
ORDER BY sum(received) DESC, category
"""
)


async def complaint_desk_kpi(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> ComplaintDeskKpi:
    """First reply, same-day investigation, 72 h resolution (also by category), handling rate, repeats and
    escalations over the complaints received in the period."""
    return _desk(await conn.fetch(_DESK, site_id, period.start, period.end, now))


async def complaint_desk_kpi_rolled(
    conn: asyncpg.Connection, site_id: UUID, ranges: Sequence[DayRange], now: datetime
) -> ComplaintDeskKpi:
    """`complaint_desk_kpi` over the same period, whole closed days read from their rollups."""
    return _desk(await conn.fetch(_DESK_ROLLED, site_id, *_ranges_args(ranges), now))


def _desk(rows: list[asyncpg.Record]) -> ComplaintDeskKpi:
    def total(column: str) -> int:
        return sum(r[column] for r in rows)

    return ComplaintDeskKpi(
        received=total("received"),
        handled=total("handled"),
        handling_rate=share(total("handled"), total("received")),
        first_reply=desk_clock(total("reply_due"), total("reply_on_time")),
        investigation=desk_clock(total("investigate_due"), total("investigate_on_time")),
        resolution=desk_clock(total("resolve_due"), total("resolve_on_time")),
        by_category=[
            DeskCategory(
                category=r["category"],
                received=r["received"],
                resolution=desk_clock(r["resolve_due"], r["resolve_on_time"]),
            )
            for r in rows
        ],
        repeats=total("repeats"),
        escalated=total("escalated"),
    )


_FEEDBACK = """
SELECT count(*) FILTER (WHERE kind = 'suggestion') AS suggestions,
       count(*) FILTER (WHERE kind = 'praise') AS praise,
       count(*) AS total,
       count(*) FILTER (WHERE answered_at IS NOT NULL AND answered_at <= $4) AS answered
FROM feedback
WHERE site_id = $1 AND created_at >= $2 AND created_at < $3
"""


async def feedback_kpi(conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime) -> FeedbackKpi:
    """Suggestions and praise received in the period, and of those the ones answered by now."""
    r = await conn.fetchrow(_FEEDBACK, site_id, period.start, period.end, now)
    return struct_of(
        FeedbackKpi,
        r,
        answered_rate=share(r["answered"], r["total"]),
    )


_APPOINTMENTS = """
SELECT count(*) AS due, count(*) FILTER (WHERE arrived_at <= appointment_at + $5) AS kept
FROM work_orders
WHERE site_id = $1 AND status <> 'cancelled' AND appointment_at >= $2 AND appointment_at < $3
  AND (arrived_at IS NOT NULL OR appointment_at + $5 <= $4)
"""


async def appointment_kpi(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> AppointmentKpi:
    """Appointments in the period that are decided (arrived, or past the agreed time and its grace), kept
    when the technician arrived by the agreed time plus the grace (sla.APPOINTMENT_GRACE)."""
    r = await conn.fetchrow(_APPOINTMENTS, site_id, period.start, period.end, now, APPOINTMENT_GRACE)
    return AppointmentKpi(
        due=r["due"], kept=r["kept"], missed=r["due"] - r["kept"], rate=share(r["kept"], r["due"])
    )


async def complaint_kpi(conn: asyncpg.Connection, site_id: UUID, period: Period) -> ComplaintKpi:
    """Complaints by category in the period, each against the previous period of equal length."""
    previous = period.previous()
    rows = await conn.fetch(_COMPLAINTS_BY_CATEGORY, site_id, period.start, period.end, previous.start)
    trends = [
        CategoryTrend(
            category=r["category"],
            count=r["count"],
            previous=r["previous"],
            change=r["count"] - r["previous"],
            change_rate=change_rate(r["count"], r["previous"]),
        )
        for r in rows
    ]
    return ComplaintKpi(
        total=sum(t.count for t in trends), previous_total=sum(t.previous for t in trends), by_category=trends
    )


_ALARMS = """
WITH raised AS (
    SELECT code, severity, extract(epoch FROM acked_at - COALESCE(unacked_since, raised_at)) AS ack_seconds
    FROM alarms
    WHERE site_id = $1 AND raised_at >= $2 AND raised_at < $3
)
SELECT
    (SELECT count(*) FROM raised) AS total,
    (SELECT count(ack_seconds) FROM raised) AS acknowledged,
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_seconds) FROM raised) AS ack_p50,
    (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ack_seconds) FROM raised) AS ack_p95,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('code', code, 'severity', severity, 'count', n)
                               ORDER BY n DESC, code), '[]')
       FROM (SELECT code, severity, count(*) AS n FROM raised GROUP BY code, severity) c) AS by_code,
    (SELECT coalesce(jsonb_object_agg(severity, n), '{}')
       FROM (SELECT severity, count(*) AS n FROM raised GROUP BY severity) s) AS by_severity
"""


async def alarm_kpi(conn: asyncpg.Connection, site_id: UUID, period: Period) -> AlarmKpi:
    """Alarms raised in the period by code and severity, and acknowledgement time p50/p95 in seconds."""
    r = await conn.fetchrow(_ALARMS, site_id, period.start, period.end)
    return AlarmKpi(
        total=r["total"],
        by_code=msgspec.convert(r["by_code"], list[AlarmCount]),
        by_severity=r["by_severity"],
        acknowledged=r["acknowledged"],
        unacknowledged=r["total"] - r["acknowledged"],
        ack_p50_seconds=None if r["ack_p50"] is None else round(r["ack_p50"], 1),
        ack_p95_seconds=None if r["ack_p95"] is None else round(r["ack_p95"], 1),
    )


_OVERDUE = """
WITH late AS (
    -- each open work order once, with its most overdue clock
    SELECT DISTINCT ON (w.id)
           w.id, w.number, w.title, w.kind, w.priority, w.status, c.clock, c.due_at,
           u.display_name AS assignee_name
    FROM work_orders w
    JOIN work_order_clocks c ON c.work_order_id = w.id
    LEFT JOIN users u ON u.id = w.assignee_id
    WHERE w.site_id = $1 AND w.status = ANY($4::text[]) AND c.site_id = $1
      AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < $2
    ORDER BY w.id, c.due_at
)
SELECT *, count(*) OVER () AS overdue_total   -- counted before LIMIT: the list is short, the total is not
FROM late
ORDER BY due_at, number
LIMIT $3
"""


async def now_kpi(conn: asyncpg.Connection, site_id: UUID, now: datetime, limit: int) -> NowKpi:
    """Open work orders now, how many have a clock past due, and the most overdue of them."""
    open_count = await conn.fetchval(
        "SELECT count(*) FROM work_orders WHERE site_id = $1 AND status = ANY($2::text[])",
        site_id,
        OPEN,
    )
    rows = await conn.fetch(_OVERDUE, site_id, now, limit, OPEN)
    items = [
        struct_of(
            OverdueItem,
            r,
            priority=priority_code(r["priority"]),
            overdue_minutes=round((now - r["due_at"]).total_seconds() / 60, 1),
        )
        for r in rows
    ]
    return NowKpi(open=open_count, overdue=rows[0]["overdue_total"] if rows else 0, overdue_list=items)


# Shared by the direct and the rolled technician queries: who is listed, and their workload now.
_TECHNICIANS_NOW = """
techs AS (
    SELECT u.id, u.username, u.display_name
    FROM users u JOIN user_sites us ON us.user_id = u.id
    WHERE us.site_id = $1 AND u.role = 'technician' AND u.active
), workload AS (
    SELECT w.assignee_id AS tech_id, count(*) AS open_now,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM work_order_clocks c
               WHERE c.work_order_id = w.id AND c.met_at IS NULL AND c.paused_since IS NULL
                 AND c.due_at < {now}
           )) AS overdue_now
    FROM work_orders w
    WHERE w.site_id = $1 AND w.status = ANY({active}::text[]) AND w.assignee_id IS NOT NULL
    GROUP BY w.assignee_id
)"""

_TECHNICIANS_SELECT = """
SELECT t.id, t.username, t.display_name,
       coalesce(wl.open_now, 0) AS open_now, coalesce(wl.overdue_now, 0) AS overdue_now,
       coalesce(cr.assigned, 0) AS assigned, coalesce(cr.reopened, 0) AS reopened,
       coalesce(d.completed, 0) AS completed, d.median_resolution,
       coalesce(k.arrival_due, 0) AS arrival_due, coalesce(k.arrival_on_time, 0) AS arrival_on_time,
       coalesce(k.resolution_due, 0) AS resolution_due,
       coalesce(k.resolution_on_time, 0) AS resolution_on_time,
       coalesce(k.ratings, 0) AS ratings, k.satisfaction
FROM techs t
LEFT JOIN workload wl ON wl.tech_id = t.id
LEFT JOIN created cr ON cr.tech_id = t.id
LEFT JOIN done d ON d.tech_id = t.id
LEFT JOIN judged k ON k.tech_id = t.id
ORDER BY t.username
"""

# The decided arrive/resolve clocks (of jobs not cancelled) and the ratings of one stretch [s, e), each
# carrying its job's technician (migration 0010), read from their own site indexes.
_TECHNICIAN_JUDGED = """
        SELECT c.technician_id, c.clock, c.met_at <= c.due_at AS on_time, NULL::smallint AS rating
        FROM work_order_clocks c
        WHERE c.site_id = $1 AND c.clock IN ('arrive', 'resolve') AND c.due_at >= {s} AND c.due_at < {e}
          AND (c.met_at IS NOT NULL OR (c.due_at <= {now} AND c.paused_since IS NULL))
          AND NOT EXISTS (SELECT 1 FROM work_orders w
                          WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')
        UNION ALL
        SELECT cb.technician_id, NULL, NULL, cb.satisfaction
        FROM callbacks cb
        WHERE cb.site_id = $1 AND cb.called_at >= {s} AND cb.called_at < {e} AND cb.satisfaction IS NOT NULL
"""

_TECHNICIAN_COUNTS = """
           count(*) FILTER (WHERE k.clock = 'arrive') AS arrival_due,
           count(*) FILTER (WHERE k.clock = 'arrive' AND k.on_time) AS arrival_on_time,
           count(*) FILTER (WHERE k.clock = 'resolve') AS resolution_due,
           count(*) FILTER (WHERE k.clock = 'resolve' AND k.on_time) AS resolution_on_time,
           count(k.rating) AS ratings"""

_TECHNICIANS = (
    "WITH"
    + _TECHNICIANS_NOW.format(now="$4", active="$5")
    + """, attributed AS NOT MATERIALIZED (
    -- a job counts for its current assignee, or for the last one when nobody holds it now;
    -- NOT MATERIALIZED lets each use below push its own period filter into a covering index
    SELECT w.id, w.status, w.created_at, w.completed_at, w.reopen_count,
           coalesce(w.assignee_id, w.last_assignee_id) AS tech_id
    FROM work_orders w
    WHERE w.site_id = $1
), created AS (
    SELECT tech_id, count(*) AS assigned, count(*) FILTER (WHERE reopen_count > 0) AS reopened
    FROM attributed WHERE created_at >= $2 AND created_at < $3 GROUP BY tech_id
), done AS (
    SELECT tech_id, count(*) AS completed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at) / 60)
               AS median_resolution
    FROM attributed
    WHERE completed_at >= $2 AND completed_at < $3 AND status <> 'cancelled'
    GROUP BY tech_id
), judged AS (
    SELECT k.technician_id AS tech_id,"""
    + _TECHNICIAN_COUNTS
    + """,
           avg(k.rating)::float8 AS satisfaction
    FROM ("""
    + _TECHNICIAN_JUDGED.format(s="$2", e="$3", now="$4")
    + """    ) k
    GROUP BY k.technician_id
)"""
    + _TECHNICIANS_SELECT
)

# The same over the period's ranges: closed days from kpi_technician_days (valid with their kpi_days row),
# the rest from the raw tables. The average rating is sum / count, as avg() computes it.
_TECHNICIANS_ROLLED = (
    "WITH"
    + _RANGES
    + ","
    + _TECHNICIANS_NOW.format(now="$5", active="$6")
    + """, tdays AS MATERIALIZED (
    SELECT t.* FROM rolled r JOIN kpi_technician_days t ON t.site_id = $1 AND t.day = r.day
), created AS (
    SELECT tech_id, sum(assigned)::bigint AS assigned, sum(reopened)::bigint AS reopened FROM (
        SELECT coalesce(w.assignee_id, w.last_assignee_id) AS tech_id, count(*) AS assigned,
               count(*) FILTER (WHERE w.reopen_count > 0) AS reopened
        FROM raw_ranges r
        JOIN LATERAL (SELECT assignee_id, last_assignee_id, reopen_count FROM work_orders
                      WHERE site_id = $1 AND created_at >= r.s AND created_at < r.e) w ON true
        GROUP BY 1
        UNION ALL SELECT technician_id, assigned, reopened FROM tdays
    ) u GROUP BY tech_id
), done AS (
    -- per listed technician: one sort of their own durations (no sort of everyone's by technician first)
    SELECT t.id AS tech_id, m.completed, m.median_resolution
    FROM techs t
    CROSS JOIN LATERAL (
        SELECT count(v) AS completed, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median_resolution
        FROM (
            SELECT (extract(epoch FROM w.completed_at - w.created_at) / 60)::float8 AS v
            FROM raw_ranges r
            -- OFFSET 0: the stretch is read by its completed-time index, then filtered by technician
            JOIN LATERAL (SELECT created_at, completed_at, coalesce(assignee_id, last_assignee_id) AS tech_id
                          FROM work_orders
                          WHERE site_id = $1 AND completed_at >= r.s AND completed_at < r.e
                            AND status <> 'cancelled' OFFSET 0) w ON w.tech_id = t.id
            UNION ALL SELECT unnest(resolve_minutes) FROM tdays WHERE technician_id = t.id
        ) u
    ) m
), judged AS (
    SELECT tech_id, sum(arrival_due)::bigint AS arrival_due, sum(arrival_on_time)::bigint AS arrival_on_time,
           sum(resolution_due)::bigint AS resolution_due,
           sum(resolution_on_time)::bigint AS resolution_on_time, sum(ratings)::bigint AS ratings,
           (sum(rating_sum)::numeric / nullif(sum(ratings), 0))::float8 AS satisfaction
    FROM (
        SELECT k.technician_id AS tech_id,"""
    + _TECHNICIAN_COUNTS
    + """, sum(k.rating) AS rating_sum
        FROM raw_ranges r
        JOIN LATERAL ("""
    + _TECHNICIAN_JUDGED.format(s="r.s", e="r.e", now="$5")
    + """        ) k ON true
        GROUP BY k.technician_id
        UNION ALL
        SELECT technician_id, arrival_due, arrival_on_time, resolution_due, resolution_on_time, ratings,
               rating_sum
        FROM tdays
    ) u GROUP BY tech_id
)"""
    + _TECHNICIANS_SELECT
)


async def technician_kpis(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> list[TechnicianKpi]:
    """Each of the site's technicians: workload now and results in the period."""
    return _technicians(await conn.fetch(_TECHNICIANS, site_id, period.start, period.end, now, ACTIVE))


async def technician_kpis_rolled(
    conn: asyncpg.Connection, site_id: UUID, ranges: Sequence[DayRange], now: datetime
) -> list[TechnicianKpi]:
    """`technician_kpis` over the same period, whole closed days read from their rollups."""
    days, starts, ends = _ranges_args(ranges)
    return _technicians(await conn.fetch(_TECHNICIANS_ROLLED, site_id, days, starts, ends, now, ACTIVE))


def _technicians(rows: list[asyncpg.Record]) -> list[TechnicianKpi]:
    return [
        struct_of(
            TechnicianKpi,
            r,
            user_id=r["id"],
            arrival_on_time_rate=share(r["arrival_on_time"], r["arrival_due"]),
            resolution_on_time_rate=share(r["resolution_on_time"], r["resolution_due"]),
            median_resolution_minutes=minutes(r["median_resolution"]),
            satisfaction_average=None if r["satisfaction"] is None else round(r["satisfaction"], 2),
        )
        for r in rows
    ]


class ExportFilters(msgspec.Struct, frozen=True, kw_only=True):
    """Which work orders the CSV export lists (the work-order list's filters)."""

    site_ids: Sequence[UUID]
    statuses: Sequence[str] = ()
    kinds: Sequence[str] = ()
    created_from: datetime | None = None
    created_before: datetime | None = None
    overdue: bool | None = None


_EXPORT = """
SELECT w.number, w.kind, w.status, w.priority, w.category, w.channel, w.title,
       concat_ws(' ', b.name, u.number, nullif(w.location, '')) AS place,
       w.reporter_name, w.reporter_phone, a.display_name AS assignee,
       w.created_at, w.responded_at, w.arrived_at, w.completed_at, w.closed_at, w.reopen_count,
       s.timezone,
       EXISTS (SELECT 1 FROM work_order_clocks c
               WHERE c.work_order_id = w.id AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < $7
                 AND w.status <> ALL($8::text[])) AS overdue,
       (SELECT cb.satisfaction FROM callbacks cb
         WHERE cb.work_order_id = w.id AND cb.satisfaction IS NOT NULL
         ORDER BY cb.called_at DESC LIMIT 1) AS satisfaction
FROM work_orders w
JOIN sites s ON s.id = w.site_id
LEFT JOIN units u ON u.id = w.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN users a ON a.id = w.assignee_id
WHERE w.site_id = ANY($1::uuid[])
  AND (cardinality($2::text[]) = 0 OR w.status = ANY($2::text[]))
  AND (cardinality($3::text[]) = 0 OR w.kind = ANY($3::text[]))
  AND ($4::timestamptz IS NULL OR w.created_at >= $4)
  AND ($5::timestamptz IS NULL OR w.created_at < $5)
  AND ($6::boolean IS NULL OR $6 = EXISTS (
        SELECT 1 FROM work_order_clocks c
        WHERE c.work_order_id = w.id AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < $7
          AND w.status <> ALL($8::text[])))
ORDER BY w.created_at, w.number
"""

# Rows fetched per round trip while streaming: large enough to keep the socket busy, small in memory.
EXPORT_PREFETCH = 500


async def export_rows(
    conn: asyncpg.Connection, filters: ExportFilters, now: datetime
) -> AsyncIterator[asyncpg.Record]:
    """Stream the matching work orders with a server-side cursor; `conn` must be inside a transaction."""
    cursor = conn.cursor(
        _EXPORT,
        list(filters.site_ids),
        list(filters.statuses),
        list(filters.kinds),
        filters.created_from,
        filters.created_before,
        filters.overdue,
        now,
        FINAL,
        prefetch=EXPORT_PREFETCH,
    )
    async for row in cursor:
        yield row


async def claim_job_run(conn: asyncpg.Connection, job: str, scope: str, period: str) -> bool:
    """Record that a once-per-period job runs for (scope, period); False when another process already did."""
    return await insert_once(conn, "job_runs", dict(job=job, scope=scope, period=period))


_DIGEST = """
SELECT
    (SELECT coalesce(jsonb_object_agg(category, n), '{}') FROM (
        SELECT category, count(*) AS n FROM work_orders
        WHERE site_id = $1 AND kind = 'complaint' AND created_at >= $2 AND created_at < $3
        GROUP BY category) k) AS complaints_by_category,
    -- clocks that fell due during the day and were not met by their due time
    (SELECT count(*) FROM work_order_clocks c JOIN work_orders w ON w.id = c.work_order_id
      WHERE c.site_id = $1 AND w.status <> 'cancelled' AND c.due_at >= $2 AND c.due_at < $3
        AND (c.met_at > c.due_at OR (c.met_at IS NULL AND c.paused_since IS NULL))) AS breaches,
    (SELECT count(DISTINCT w.id) FROM work_orders w JOIN work_order_clocks c ON c.work_order_id = w.id
      WHERE w.site_id = $1 AND w.status = ANY($6::text[]) AND c.site_id = $1
        AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < $4) AS open_overdue,
    -- follow-up calls still to make that are due by the end of today (overdue ones included)
    (SELECT count(*) FROM work_order_clocks c JOIN work_orders w ON w.id = c.work_order_id
      WHERE c.site_id = $1 AND w.status = ANY($6::text[]) AND c.clock = 'callback'
        AND c.met_at IS NULL AND c.due_at < $5) AS callbacks_due
"""


async def digest_facts(
    conn: asyncpg.Connection, site_id: UUID, day: Period, now: datetime, today_end: datetime
) -> DigestFacts:
    """One site's digest numbers: the day's complaints and breaches, overdue work and callbacks now."""
    r = await conn.fetchrow(_DIGEST, site_id, day.start, day.end, now, today_end, OPEN)
    by_category: dict[str, Any] = r["complaints_by_category"]
    return DigestFacts(
        site_id=site_id,
        day=day.from_date,
        complaints=sum(by_category.values()),
        complaints_by_category=by_category,
        breaches=r["breaches"],
        open_overdue=r["open_overdue"],
        callbacks_due=r["callbacks_due"],
    )
