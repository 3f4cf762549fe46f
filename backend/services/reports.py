"""Management reports: the KPI report of one site and period, and the streamed work-order CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.db.queries import promises as promise_q
from backend.db.queries import reports as q
from backend.db.queries.rows import struct_of
from backend.domain import work_order_csv
from backend.domain.kpis import (
    OVERDUE_LIST_LIMIT,
    ROLLUP_SETTLE,
    KpiReport,
    PromiseKpi,
    local_today,
    parse_day,
    period_between,
    period_ranges,
    report_period,
    share,
)
from backend.domain.models import CurrentUser
from backend.domain.workflow import Kind, Status
from backend.errors import NotFound, ValidationFailed
from backend.services.campaigns import campaign_kpi
from backend.services.job_health import failure, report_fault
from backend.services.sites import site_for

KINDS = frozenset(Kind)
STATUSES = frozenset(Status)
# Rows per chunk handed to the HTTP stream: one write per chunk instead of one per row.
CSV_ROWS_PER_CHUNK = 200


async def kpi_report(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    site: str | None,
    from_date: str | None,
    to_date: str | None,
    now: datetime,
    rollups: bool = True,
) -> KpiReport:
    """Every KPI of the management dashboard for one site and period (default: the last 30 days).

    Whole closed days of the summary, clock compliance, satisfaction, complaint desk, complaint callbacks and
    technicians' results come from the daily rollups (computed and stored here when missing or outdated);
    `rollups=False` reads every figure from the raw tables instead, the direct computation the rollups must
    equal."""
    target = await site_for(conn, user, site)
    period = report_period(parse_day(from_date, "from"), parse_day(to_date, "to"), target.timezone, now)
    await q.sort_in_memory(conn)
    if rollups:
        ranges = period_ranges(period, now)
        await q.fill_rollups(conn, target.id, [r for r in ranges if r.day is not None], now, ROLLUP_SETTLE)
        summary = await q.work_order_summary_rolled(conn, target.id, ranges)
        compliance = await q.clock_compliance_rolled(conn, target.id, ranges, now)
        desk = await q.complaint_desk_kpi_rolled(conn, target.id, ranges, now)
        technicians = await q.technician_kpis_rolled(conn, target.id, ranges, now)
    else:
        ranges = None
        summary = await q.work_order_summary(conn, target.id, period)
        compliance = await q.clock_compliance(conn, target.id, period, now)
        desk = await q.complaint_desk_kpi(conn, target.id, period, now)
        technicians = await q.technician_kpis(conn, target.id, period, now)
    return KpiReport(
        site=target,
        period=period,
        generated_at=now,
        total=summary.total,
        by_kind=summary.by_kind,
        by_status=summary.by_status,
        response=q.step_kpi(compliance["respond"], summary.durations["respond"]),
        arrival=q.step_kpi(compliance["arrive"], summary.durations["arrive"]),
        resolution=q.step_kpi(compliance["resolve"], summary.durations["resolve"]),
        callback=await q.callback_kpi(conn, target.id, period, now, compliance["callback"], ranges),
        satisfaction=await q.satisfaction_kpi(conn, target.id, period, ranges),
        reopen=summary.reopen,
        complaints=await q.complaint_kpi(conn, target.id, period),
        desk=desk,
        feedback=await q.feedback_kpi(conn, target.id, period, now),
        appointments=await q.appointment_kpi(conn, target.id, period, now),
        promises=await _promise_kpi(conn, target.id, period.start, period.end, now),
        campaigns=await campaign_kpi(conn, target.id, period.start, period.end, now),
        alarms=await q.alarm_kpi(conn, target.id, period),
        now=await q.now_kpi(conn, target.id, now, OVERDUE_LIST_LIMIT),
        technicians=technicians,
    )


async def fill_yesterdays_rollups(pool: asyncpg.Pool, now: datetime) -> int:
    """Store each site's rollups of its last closed day (site time), so the first report of the morning
    reads them instead of computing them. Only a missing or outdated day is computed, and storing it again
    is harmless: any number of schedulers may run this. Returns how many site-days were computed."""
    async with pool.acquire() as conn:
        sites = await q.all_sites(conn)
    computed = 0
    for site in sites:
        # the day that ended at least ROLLUP_SETTLE ago: before that, the day before it (already stored)
        day = local_today(now - ROLLUP_SETTLE, site.timezone) - timedelta(days=1)
        closed = [r for r in period_ranges(period_between(day, day, site.timezone), now) if r.day is not None]
        try:
            async with pool.acquire() as conn, conn.transaction():
                computed += await q.fill_rollups(conn, site.id, closed, now, ROLLUP_SETTLE)
        except Exception as exc:
            report_fault(
                site=site.code,
                subject="daily KPI rollups (the next run retries)",
                error=failure(exc),
                exc=exc,
            )
    return computed


async def _promise_kpi(
    conn: asyncpg.Connection, site_id: UUID, start: datetime, end: datetime, now: datetime
) -> PromiseKpi:
    r = await promise_q.promise_counts(conn, site_id, start, end, now)
    return struct_of(
        PromiseKpi,
        r,
        rate=share(r["kept_on_time"], r["due"]),
    )


def _choices(raw: str | None, allowed: frozenset[str], field: str) -> tuple[str, ...]:
    """A comma-separated filter value, each item checked against what exists."""
    if not raw:
        return ()
    values = tuple(v.strip() for v in raw.split(",") if v.strip())
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationFailed(f"unknown {field}: {', '.join(unknown)}", field=field)
    return values


def _overdue_flag(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw.lower() in {"true", "1", "yes"}:
        return True
    if raw.lower() in {"false", "0", "no"}:
        return False
    raise ValidationFailed("overdue must be true or false", field="overdue")


async def export_filters(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    site: str | None,
    status: str | None,
    kind: str | None,
    from_date: str | None,
    to_date: str | None,
    overdue: str | None,
) -> q.ExportFilters:
    """Check the export's filters against the caller before any byte is streamed.

    Without `site` the export covers every site of the caller; `from`/`to` are whole days in the site's
    timezone (the first site's when the export spans several).
    """
    if site:
        sites = [await site_for(conn, user, site)]
    else:
        sites = [s for s in await q.all_sites(conn) if user.may_see_site(s.id)]
        if not sites:
            raise NotFound("you belong to no site", code="site_not_found")
    first, last = parse_day(from_date, "from"), parse_day(to_date, "to")
    created_from = created_before = None
    if first or last:
        period = period_between(first or last, last or first, sites[0].timezone)  # type: ignore[arg-type]
        created_from = period.start if first else None
        created_before = period.end if last else None
    return q.ExportFilters(
        site_ids=[s.id for s in sites],
        statuses=_choices(status, STATUSES, "status"),
        kinds=_choices(kind, KINDS, "kind"),
        created_from=created_from,
        created_before=created_before,
        overdue=_overdue_flag(overdue),
    )


def export_language(lang: str | None) -> str:
    """`zh` (default) or `en` headers and labels."""
    chosen = lang or "zh"
    if chosen not in work_order_csv.LANGUAGES:
        raise ValidationFailed("lang must be zh or en", field="lang")
    return chosen


async def stream_export(
    pool: asyncpg.Pool, filters: q.ExportFilters, lang: str, now: datetime
) -> AsyncIterator[bytes]:
    """The CSV bytes, chunk by chunk, read through a cursor on a connection of its own.

    The request's own transaction has ended by the time the body streams, hence a connection held for the
    length of the download (read-only, so it never blocks writers).
    """
    yield work_order_csv.preamble(lang)
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        chunk: list[list[str]] = []
        async for record in q.export_rows(conn, filters, now):
            chunk.append(work_order_csv.row(record, lang))
            if len(chunk) >= CSV_ROWS_PER_CHUNK:
                yield work_order_csv.encode_lines(chunk)
                chunk = []
        if chunk:
            yield work_order_csv.encode_lines(chunk)


def export_filename(now: datetime) -> str:
    """A download name that sorts by date."""
    return f"work-orders-{now.strftime('%Y%m%d-%H%M')}.csv"
