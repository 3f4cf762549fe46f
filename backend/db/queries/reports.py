"""Report SQL: the management KPIs, the work-order export and the daily digest's facts.

Each KPI query reads one site and one period (instants, start inclusive, end exclusive); the definitions are
those of docs/REPORTS.md. Durations are computed in SQL with percentile_cont, so no rows travel to Python.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

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
    DeskCategory,
    DigestFacts,
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
from backend.domain.models import SiteRef
from backend.domain.sla import APPOINTMENT_GRACE
from backend.domain.workflow import ACTIVE_STATUSES, CLOSED_STATUSES, OPEN_STATUSES, priority_code

# Spelled out as lists: `status = ANY(open)` reads the (site_id, status) index, `<> ALL(final)` cannot.
ACTIVE = sorted(ACTIVE_STATUSES)
FINAL = sorted(CLOSED_STATUSES)
OPEN = sorted(OPEN_STATUSES)


async def all_sites(conn: asyncpg.Connection) -> list[SiteRef]:
    """Every site, by code."""
    rows = await conn.fetch("SELECT id, code, name, timezone FROM sites ORDER BY code")
    return [SiteRef(**dict(r)) for r in rows]


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


async def without_jit(conn: asyncpg.Connection) -> None:
    """Turn off JIT compilation until the transaction ends.

    The report's larger periods push a few plans over PostgreSQL's JIT cost threshold; compiling them takes
    longer (tens to hundreds of milliseconds) than the queries save, and every report is planned afresh.
    """
    await conn.execute("SET LOCAL jit = off")


async def work_order_summary(conn: asyncpg.Connection, site_id: UUID, period: Period) -> WorkOrderSummary:
    """Counts by kind and status, step durations (n, p50, p90 minutes) and reopens of work orders created."""
    r = await conn.fetchrow(_SUMMARY, site_id, period.start, period.end)
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


_COMPLAINT_CALLBACKS = """
WITH resolved AS MATERIALIZED (
    -- MATERIALIZED: each complaint's callbacks are looked up once, not once per count below
    SELECT w.completed_at,
           -- a reached follow-up call within the window; an unanswered attempt is not a callback
           EXISTS (
               SELECT 1 FROM callbacks cb
               WHERE cb.work_order_id = w.id AND cb.reached
                 AND cb.called_at <= w.completed_at + make_interval(days => $5)
           ) AS called
    FROM work_orders w
    WHERE w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
      AND w.completed_at >= $2 AND w.completed_at < $3
)
SELECT count(*) FILTER (WHERE called OR completed_at + make_interval(days => $5) <= $4) AS due,
       count(*) FILTER (WHERE called) AS called
FROM resolved
"""


async def callback_kpi(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime, callback_clock: tuple[int, int]
) -> CallbackKpi:
    """The callback clock's compliance plus complaints resolved in the period and called back in 3 days."""
    r = await conn.fetchrow(
        _COMPLAINT_CALLBACKS, site_id, period.start, period.end, now, COMPLAINT_CALLBACK_DAYS
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


_SATISFACTION = """
SELECT count(*) AS ratings,
       avg(cb.satisfaction)::float8 AS average,
       count(*) FILTER (WHERE cb.satisfaction >= $4) AS satisfied,
       avg(cb.speed)::float8 AS speed, avg(cb.attitude)::float8 AS attitude,
       avg(cb.quality)::float8 AS quality,
       count(cb.recommend) AS recommend_answers,
       count(*) FILTER (WHERE cb.recommend >= $5) AS promoters,
       count(*) FILTER (WHERE cb.recommend <= $6) AS detractors
FROM callbacks cb
WHERE cb.site_id = $1 AND cb.called_at >= $2 AND cb.called_at < $3 AND cb.satisfaction IS NOT NULL
"""


async def satisfaction_kpi(conn: asyncpg.Connection, site_id: UUID, period: Period) -> SatisfactionKpi:
    """Average rating and the share satisfied over ratings given in the period."""
    r = await conn.fetchrow(
        _SATISFACTION, site_id, period.start, period.end, SATISFIED_FROM, PROMOTER_FROM, DETRACTOR_UP_TO
    )
    drivers = {k: None if r[k] is None else round(r[k], 2) for k in DRIVER_WEIGHTS}
    return SatisfactionKpi(
        ratings=r["ratings"],
        average=None if r["average"] is None else round(r["average"], 2),
        satisfied=r["satisfied"],
        satisfied_share=share(r["satisfied"], r["ratings"]),
        **drivers,
        weighted=weighted_satisfaction(drivers),
        recommend_answers=r["recommend_answers"],
        promoters=r["promoters"],
        detractors=r["detractors"],
        nps=net_promoter_score(r["promoters"], r["detractors"], r["recommend_answers"]),
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


_DESK = """
SELECT w.category,
       count(*) AS received,
       count(*) FILTER (WHERE w.completed_at IS NOT NULL) AS handled,
       count(*) FILTER (WHERE w.resolution ? 'repeatOf') AS repeats,
       count(*) FILTER (WHERE w.resolution ? 'escalatedTo') AS escalated,
       count(r.met_at IS NOT NULL OR r.due_at <= $4 OR NULL) AS reply_due,
       count(r.met_at <= r.due_at OR NULL) AS reply_on_time,
       count(i.met_at IS NOT NULL OR i.due_at <= $4 OR NULL) AS investigate_due,
       count(i.met_at <= i.due_at OR NULL) AS investigate_on_time,
       count(z.met_at IS NOT NULL OR z.due_at <= $4 OR NULL) AS resolve_due,
       count(z.met_at <= z.due_at OR NULL) AS resolve_on_time
FROM work_orders w
LEFT JOIN work_order_clocks r ON r.work_order_id = w.id AND r.clock = 'respond'
LEFT JOIN work_order_clocks i ON i.work_order_id = w.id AND i.clock = 'investigate'
LEFT JOIN work_order_clocks z ON z.work_order_id = w.id AND z.clock = 'resolve'
WHERE w.site_id = $1 AND w.kind = 'complaint' AND w.status <> 'cancelled'
  AND w.created_at >= $2 AND w.created_at < $3
GROUP BY w.category
ORDER BY count(*) DESC, w.category
"""


async def complaint_desk_kpi(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> ComplaintDeskKpi:
    """First reply, same-day investigation, 72 h resolution (also by category), handling rate, repeats and
    escalations over the complaints received in the period."""
    rows = await conn.fetch(_DESK, site_id, period.start, period.end, now)

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
        OverdueItem(
            id=r["id"],
            number=r["number"],
            title=r["title"],
            kind=r["kind"],
            priority=priority_code(r["priority"]),
            status=r["status"],
            clock=r["clock"],
            due_at=r["due_at"],
            overdue_minutes=round((now - r["due_at"]).total_seconds() / 60, 1),
            assignee_name=r["assignee_name"],
        )
        for r in rows
    ]
    return NowKpi(open=open_count, overdue=rows[0]["overdue_total"] if rows else 0, overdue_list=items)


_TECHNICIANS = """
WITH techs AS (
    SELECT u.id, u.username, u.display_name
    FROM users u JOIN user_sites us ON us.user_id = u.id
    WHERE us.site_id = $1 AND u.role = 'technician' AND u.active
), attributed AS NOT MATERIALIZED (
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
    -- decided arrive/resolve clocks (of jobs not cancelled) and the ratings of the period, each carrying its
    -- job's technician (migration 0010), read from their own site indexes and counted in one pass
    SELECT k.technician_id AS tech_id,
           count(*) FILTER (WHERE k.clock = 'arrive') AS arrival_due,
           count(*) FILTER (WHERE k.clock = 'arrive' AND k.on_time) AS arrival_on_time,
           count(*) FILTER (WHERE k.clock = 'resolve') AS resolution_due,
           count(*) FILTER (WHERE k.clock = 'resolve' AND k.on_time) AS resolution_on_time,
           count(k.rating) AS ratings,
           avg(k.rating)::float8 AS satisfaction
    FROM (
        SELECT c.technician_id, c.clock, c.met_at <= c.due_at AS on_time, NULL::smallint AS rating
        FROM work_order_clocks c
        WHERE c.site_id = $1 AND c.clock IN ('arrive', 'resolve') AND c.due_at >= $2 AND c.due_at < $3
          AND (c.met_at IS NOT NULL OR (c.due_at <= $4 AND c.paused_since IS NULL))
          AND NOT EXISTS (SELECT 1 FROM work_orders w
                          WHERE w.id = c.work_order_id AND w.site_id = $1 AND w.status = 'cancelled')
        UNION ALL
        SELECT cb.technician_id, NULL, NULL, cb.satisfaction
        FROM callbacks cb
        WHERE cb.site_id = $1 AND cb.called_at >= $2 AND cb.called_at < $3 AND cb.satisfaction IS NOT NULL
    ) k
    GROUP BY k.technician_id
), workload AS (
    SELECT w.assignee_id AS tech_id, count(*) AS open_now,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM work_order_clocks c
               WHERE c.work_order_id = w.id AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < $4
           )) AS overdue_now
    FROM work_orders w
    WHERE w.site_id = $1 AND w.status = ANY($5::text[]) AND w.assignee_id IS NOT NULL
    GROUP BY w.assignee_id
)
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


async def technician_kpis(
    conn: asyncpg.Connection, site_id: UUID, period: Period, now: datetime
) -> list[TechnicianKpi]:
    """Each of the site's technicians: workload now and results in the period."""
    rows = await conn.fetch(_TECHNICIANS, site_id, period.start, period.end, now, ACTIVE)
    return [
        TechnicianKpi(
            user_id=r["id"],
            username=r["username"],
            display_name=r["display_name"],
            open_now=r["open_now"],
            overdue_now=r["overdue_now"],
            assigned=r["assigned"],
            completed=r["completed"],
            arrival_due=r["arrival_due"],
            arrival_on_time_rate=share(r["arrival_on_time"], r["arrival_due"]),
            resolution_due=r["resolution_due"],
            resolution_on_time_rate=share(r["resolution_on_time"], r["resolution_due"]),
            median_resolution_minutes=minutes(r["median_resolution"]),
            ratings=r["ratings"],
            satisfaction_average=None if r["satisfaction"] is None else round(r["satisfaction"], 2),
            reopened=r["reopened"],
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
    claimed = await conn.fetchval(
        """INSERT INTO job_runs (job, scope, period) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING true""",
        job,
        scope,
        period,
    )
    return bool(claimed)


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
