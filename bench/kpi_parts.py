"""Benchmark: each query of the KPI report on its own, rolled up and direct, on a database kept by
`bench/kpis.py --keep` (the rollups already stored by its run).

Runs every part of the report for the demo site over the last 30 and 365 days, alternating the parts so the
machine's load falls on all of them alike, and prints each part's median milliseconds.

    .venv/bin/python bench/kpi_parts.py --database-url postgresql://postgres@127.0.0.1/ct_bench_… [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.pool import connect
from backend.db.queries import promises as promise_q
from backend.db.queries import reports as q
from backend.domain.kpis import (
    OVERDUE_LIST_LIMIT,
    ROLLUP_SETTLE,
    DayRange,
    Period,
    local_today,
    period_between,
    period_ranges,
)
from backend.services.campaigns import campaign_kpi


def report_parts(
    conn: asyncpg.Connection, sid: UUID, period: Period, ranges: list[DayRange], now: datetime
) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every query of the report, rolled and direct where both exist, ready to call."""
    closed = [r for r in ranges if r.day is not None]
    clock = (0, 0)
    parts: dict[str, Callable[[], Awaitable[Any]]] = {
        "rollup check (fill_rollups, nothing to store)": lambda: q.fill_rollups(
            conn, sid, closed, now, ROLLUP_SETTLE
        ),
        "summary, rolled": lambda: q.work_order_summary_rolled(conn, sid, ranges),
        "summary, direct": lambda: q.work_order_summary(conn, sid, period),
        "clock compliance, rolled": lambda: q.clock_compliance_rolled(conn, sid, ranges, now),
        "clock compliance, direct": lambda: q.clock_compliance(conn, sid, period, now),
        "technicians, rolled": lambda: q.technician_kpis_rolled(conn, sid, ranges, now),
        "technicians, direct": lambda: q.technician_kpis(conn, sid, period, now),
        "complaint desk, rolled": lambda: q.complaint_desk_kpi_rolled(conn, sid, ranges, now),
        "complaint desk, direct": lambda: q.complaint_desk_kpi(conn, sid, period, now),
        "complaint callbacks, rolled": lambda: q.callback_kpi(conn, sid, period, now, clock, ranges),
        "complaint callbacks, direct": lambda: q.callback_kpi(conn, sid, period, now, clock),
        "satisfaction, rolled": lambda: q.satisfaction_kpi(conn, sid, period, ranges),
        "satisfaction, direct": lambda: q.satisfaction_kpi(conn, sid, period),
        "complaints by category": lambda: q.complaint_kpi(conn, sid, period),
        "feedback": lambda: q.feedback_kpi(conn, sid, period, now),
        "appointments": lambda: q.appointment_kpi(conn, sid, period, now),
        "promises": lambda: promise_q.promise_counts(conn, sid, period.start, period.end, now),
        "campaigns": lambda: campaign_kpi(conn, sid, period.start, period.end, now),
        "alarms": lambda: q.alarm_kpi(conn, sid, period),
        "now": lambda: q.now_kpi(conn, sid, now, OVERDUE_LIST_LIMIT),
    }
    return parts


async def time_parts(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Median ms per part and period length."""
    conn = await connect(url)
    out: dict[str, dict[str, float]] = {}
    try:
        site = await conn.fetchrow("SELECT id, timezone FROM sites WHERE code = 'demo'")
        sid, zone = site["id"], site["timezone"]
        for days in (30, 365):
            now = datetime.now(UTC)
            today = local_today(now, zone)
            period = period_between(today - timedelta(days=days - 1), today, zone)
            ranges = period_ranges(period, now)
            parts = report_parts(conn, sid, period, ranges, now)
            samples: dict[str, list[float]] = {name: [] for name in parts}
            for _ in range(runs + 1):  # the first round warms up
                for name, part in parts.items():
                    async with conn.transaction():
                        await q.sort_in_memory(conn)
                        began = time.perf_counter()
                        await part()
                        samples[name].append((time.perf_counter() - began) * 1000)
            for name, values in samples.items():
                out.setdefault(name, {})[f"{days} days"] = statistics.median(values[1:])
    finally:
        await conn.close()
    return out


def main() -> None:
    """Parse arguments, time, print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = asyncio.run(time_parts(args.database_url, args.runs))
    print(f"{'part':<48}{'30 days ms':>12}{'365 days ms':>13}")
    for name, by_period in results.items():
        print(f"{name:<48}{by_period['30 days']:>12.1f}{by_period['365 days']:>13.1f}")
    print(f"median of {args.runs} after one warm-up; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
