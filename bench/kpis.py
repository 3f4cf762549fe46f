"""Benchmark: the KPI endpoint on 100,000 work orders.

Creates a fresh database on the local PostgreSQL, migrates it, seeds the demo estate, then generates a year
of work orders (with their events, SLA clocks, follow-up calls) and alarms with set-based SQL. It warms
up, then times GET /api/v1/reports/kpis through the whole app stack (in-process ASGI, auth included) and,
as a baseline in the same run, GET /api/v1/me — the cheapest authenticated call. Prints median and p95 ms
and their ratio; the database is dropped at the end unless --keep.

    .venv/bin/python bench/kpis.py [--work-orders 100000] [--runs 20] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.db.migrate import migrate
from backend.db.pool import connect
from backend.domain.models import CurrentUser
from backend.services import reports
from backend.services.seed import seed_demo
from backend.settings import Settings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_SECRET = "bench-secret-key-with-enough-length-0123456789"

# A year of history, the last three days still in progress; the mix of kinds the demo estate sees.
GENERATE_WORK_ORDERS = """
WITH techs AS (
    SELECT array_agg(u.id ORDER BY u.username) AS ids
    FROM users u JOIN user_sites us ON us.user_id = u.id
    WHERE us.site_id = $1 AND u.role = 'technician'
), raw AS (
    SELECT i,
           $2::timestamptz - random() * interval '365 days' AS created,
           random() AS rk, random() AS rs, random() AS rc,
           1 + floor(random() * 120) AS respond_min,
           10 + floor(random() * 180) AS arrive_min,
           30 + floor(random() * 1800) AS work_min
    FROM generate_series(1, $3) AS i
), shaped AS (
    SELECT raw.*,
           CASE WHEN rk < 0.60 THEN 'repair' WHEN rk < 0.75 THEN 'complaint' WHEN rk < 0.82 THEN 'emergency'
                WHEN rk < 0.92 THEN 'maintenance' ELSE 'inspection' END AS kind,
           CASE WHEN created > $2 - interval '3 days' AND rs < 0.7
                     THEN (ARRAY['new', 'assigned', 'accepted', 'en_route', 'on_site', 'paused'])
                          [1 + floor(rs * 8)::int]
                WHEN rs < 0.02 THEN 'cancelled'
                ELSE 'closed' END AS status
    FROM raw
)
INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                         created_at, responded_at, arrived_at, completed_at, closed_at, reopen_count)
SELECT $1, 'B' || lpad(i::text, 7, '0'), kind, status,
       CASE WHEN kind = 'emergency' THEN 1 ELSE 2 + floor(rc * 2)::int END,
       CASE WHEN kind = 'complaint'
            THEN (ARRAY['repair_delay', 'communication', 'attitude', 'fee_dispute', 'facilities',
                        'transparency'])[1 + floor(rc * 6)::int]
            ELSE (ARRAY['water', 'electrical', 'elevator', 'doors_windows', 'structure', 'gas', 'fire_safety',
                        'other'])[1 + floor(rc * 8)::int] END,
       'phone', kind || ' ' || i,
       CASE WHEN status = 'new' THEN NULL ELSE (SELECT ids[1 + (i % cardinality(ids))] FROM techs) END,
       created,
       CASE WHEN status IN ('new', 'assigned', 'cancelled') THEN NULL
            ELSE created + respond_min * interval '1 minute' END,
       CASE WHEN status = 'closed' AND kind <> 'complaint' OR status IN ('on_site', 'paused')
            THEN created + (respond_min + arrive_min) * interval '1 minute' END,
       CASE WHEN status = 'closed'
            THEN created + (respond_min + arrive_min + work_min) * interval '1 minute' END,
       CASE WHEN status = 'closed'
            THEN created + (respond_min + arrive_min + work_min + 1440) * interval '1 minute' END,
       CASE WHEN status = 'closed' AND rc < 0.04 THEN 1 ELSE 0 END
FROM shaped
"""

GENERATE_EVENTS = [
    """INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
       SELECT id, 1, 'create', NULL, 'new', created_at FROM work_orders WHERE site_id = $1""",
    """INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
       SELECT id, 2, 'accept', 'assigned', 'accepted', responded_at FROM work_orders
       WHERE site_id = $1 AND responded_at IS NOT NULL""",
    """INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
       SELECT id, 3, 'complete', 'on_site', 'completed', completed_at FROM work_orders
       WHERE site_id = $1 AND completed_at IS NOT NULL""",
    """INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
       SELECT id, 4, 'close', 'completed', 'closed', closed_at FROM work_orders
       WHERE site_id = $1 AND closed_at IS NOT NULL""",
]

# Respond 30 min, arrive 2 h, resolve 24 h (repair P2 defaults), callback the next day.
GENERATE_CLOCKS = """
INSERT INTO work_order_clocks (work_order_id, clock, due_at, met_at{starts})
SELECT w.id, c.clock, w.created_at + c.after, c.met{starts_value}
FROM work_orders w
CROSS JOIN LATERAL (VALUES
    ('respond', interval '30 minutes', w.responded_at),
    ('arrive', interval '2 hours', w.arrived_at),
    ('resolve', interval '24 hours', w.completed_at),
    ('callback', coalesce(w.completed_at - w.created_at, interval '0') + interval '1 day', w.closed_at)
) AS c(clock, after, met)
WHERE w.site_id = $1 AND (c.clock <> 'arrive' OR w.kind <> 'complaint')
  AND (c.clock <> 'callback' OR w.completed_at IS NOT NULL)
"""

GENERATE_CALLBACKS = """
INSERT INTO callbacks (work_order_id, attempt, reached, satisfaction, called_at)
SELECT id, 1, true, 1 + floor(random() * 5)::int, closed_at - interval '2 hours'
FROM work_orders WHERE site_id = $1 AND closed_at IS NOT NULL AND random() < 0.8
"""

GENERATE_ALARMS = """
INSERT INTO alarms (site_id, device_id, code, severity, active, open, raised_at, last_seen_at, acked_at)
SELECT $1, d.id, codes.code, codes.severity, false, false, t, t,
       CASE WHEN random() < 0.97 THEN t + (5 + random() * 300) * interval '1 second' END
FROM generate_series(1, $3) AS i
CROSS JOIN LATERAL (SELECT $2::timestamptz - random() * interval '365 days' AS t) AS r
CROSS JOIN (SELECT count(*) AS n FROM devices WHERE site_id = $1) AS fleet
CROSS JOIN LATERAL (SELECT id, kind FROM devices WHERE site_id = $1
                    ORDER BY id OFFSET i % fleet.n LIMIT 1) AS d
CROSS JOIN LATERAL (SELECT CASE d.kind WHEN 'elevator' THEN 'ELEVATOR_STOPPED' WHEN 'leak' THEN 'WATER_LEAK'
                               WHEN 'pump' THEN 'PUMP_FAILURE' WHEN 'pressure' THEN 'PRESSURE_LOW'
                               WHEN 'tank' THEN 'TANK_LEVEL_LOW' WHEN 'power' THEN 'MAINS_LOSS'
                               ELSE 'GENERATOR_FAILURE' END AS code,
                           CASE WHEN d.kind IN ('pressure', 'tank') THEN 'major' ELSE 'critical' END
                               AS severity
                   ) AS codes
"""


def with_database(url: str, name: str) -> str:
    """The same server, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def build_database(server_url: str, name: str, work_orders: int, alarms: int) -> dict[str, float]:
    """Create, migrate, seed and fill the benchmark database; returns seconds per phase."""
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    conn = await connect(with_database(server_url, name))
    timings: dict[str, float] = {}
    try:
        await migrate(conn)
        async with conn.transaction():
            await seed_demo(conn)
        site_id = await conn.fetchval("SELECT id FROM sites WHERE code = 'demo'")
        now = datetime.now(UTC)
        has_starts = await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM information_schema.columns
                              WHERE table_name = 'work_order_clocks' AND column_name = 'starts_at')"""
        )
        clocks_sql = GENERATE_CLOCKS.format(
            starts=", starts_at" if has_starts else "", starts_value=", w.created_at" if has_starts else ""
        )
        steps = [
            ("work orders", GENERATE_WORK_ORDERS, (site_id, now, work_orders)),
            *[("events", sql, (site_id,)) for sql in GENERATE_EVENTS],
            ("clocks", clocks_sql, (site_id,)),
            ("callbacks", GENERATE_CALLBACKS, (site_id,)),
            ("alarms", GENERATE_ALARMS, (site_id, now, alarms)),
        ]
        for label, sql, args in steps:
            started = time.perf_counter()
            await conn.execute(sql, *args)
            timings[label] = timings.get(label, 0.0) + time.perf_counter() - started
        started = time.perf_counter()
        # a steady-state database: autovacuum has set the visibility map, so covering indexes work index-only
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - started
        counts = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM work_orders) AS work_orders,
                      (SELECT count(*) FROM work_order_events) AS events,
                      (SELECT count(*) FROM work_order_clocks) AS clocks,
                      (SELECT count(*) FROM callbacks) AS callbacks,
                      (SELECT count(*) FROM alarms) AS alarms"""
        )
        print("rows:", ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    finally:
        await conn.close()
    return timings


async def time_requests(client: AsyncTestClient, url: str, headers: dict[str, str], runs: int) -> list[float]:
    """Milliseconds per request, sequentially; every response must be a 200."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text
    return samples


async def rollup_pairs(url: str, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """The report with rollups and the direct computation (every figure from the raw tables: the code
    before the rollups), alternating on one connection, so both sides share the machine's load."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    conn = await connect(url)
    try:
        user_row = await conn.fetchrow(
            "SELECT id, username, display_name FROM users WHERE username = 'manager'"
        )
        sites = tuple(
            r["site_id"]
            for r in await conn.fetch("SELECT site_id FROM user_sites WHERE user_id = $1", user_row["id"])
        )
        user = CurrentUser(
            id=user_row["id"],
            username=user_row["username"],
            display_name=user_row["display_name"],
            role="manager",
            site_ids=sites,
        )
        today = datetime.now(UTC).date()
        for label, start in (("30 days", None), ("365 days", (today - timedelta(days=364)).isoformat())):
            rolled: list[float] = []
            direct: list[float] = []
            for i in range(runs * 2):
                use_rollups = i % 2 == 0
                began = time.perf_counter()
                async with conn.transaction():
                    await reports.kpi_report(
                        conn,
                        user,
                        site="demo",
                        from_date=start,
                        to_date=None,
                        now=datetime.now(UTC),
                        rollups=use_rollups,
                    )
                (rolled if use_rollups else direct).append((time.perf_counter() - began) * 1000)
            out[label] = (rolled, direct)
    finally:
        await conn.close()
    return out


async def database_sizes(url: str) -> dict[str, int]:
    """Bytes on disk: the whole database, the rollup tables, work orders and clocks (with indexes)."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """SELECT pg_database_size(current_database()) AS database,
                      pg_total_relation_size('kpi_days') AS kpi_days,
                      pg_total_relation_size('kpi_technician_days') AS kpi_technician_days,
                      pg_total_relation_size('kpi_desk_days') AS kpi_desk_days,
                      pg_total_relation_size('work_orders') AS work_orders,
                      pg_total_relation_size('work_order_clocks') AS clocks"""
        )
        return dict(row)
    finally:
        await conn.close()


def p95(samples: list[float]) -> float:
    """95th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


async def run(args: argparse.Namespace) -> None:
    """Build the data, then time the endpoints."""
    name = f"ct_bench_{uuid.uuid4().hex[:10]}"
    server_url = args.database_url
    print(f"database {name} on {urlsplit(server_url).hostname}; {args.work_orders:,} work orders")
    timings = await build_database(server_url, name, args.work_orders, args.alarms)
    print("generated in", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    try:
        settings = Settings(
            database_url=with_database(server_url, name),
            secret_key=BENCH_SECRET,
            data_dir=Path(tempfile.mkdtemp(prefix="caretaker-bench-")),
            scheduler_enabled=False,
        )
        app = create_app(settings)
        async with AsyncTestClient(app=app) as client:
            r = await client.post("/api/v1/auth/login", json={"username": "manager", "password": "demo1234"})
            headers = {"Authorization": f"Bearer {r.json()['token']}"}
            today = datetime.now(UTC).date()
            cases = [
                ("baseline GET /me", "/api/v1/me"),
                ("KPIs, last 30 days", "/api/v1/reports/kpis?site=demo"),
                (
                    "KPIs, last 365 days",
                    f"/api/v1/reports/kpis?site=demo&from={today - timedelta(days=364)}",
                ),
            ]
            results: dict[str, list[float]] = {}
            # the first year-long report after loading stores every closed day's rollup (a cold start;
            # afterwards only days changed since are recomputed)
            started = time.perf_counter()
            await time_requests(client, cases[2][1], headers, 1)
            cold_ms = (time.perf_counter() - started) * 1000
            for label, url in cases:
                await time_requests(client, url, headers, args.warmup)
                results[label] = await time_requests(client, url, headers, args.runs)
            pairs = await rollup_pairs(settings.database_url, args.pairs) if args.pairs else {}
            sizes = await database_sizes(with_database(server_url, name))
        baseline = statistics.median(results["baseline GET /me"])
        print(f"\n{'request':<24}{'median ms':>12}{'p95 ms':>10}{'× baseline':>12}")
        for label, samples in results.items():
            median = statistics.median(samples)
            print(f"{label:<24}{median:>12.1f}{p95(samples):>10.1f}{median / baseline:>12.1f}")
        print(f"first 365-day report after loading (stores the rollups): {cold_ms:,.0f} ms")
        if pairs:
            print(f"\nsame-run pairs, alternating, {args.pairs} each (service call, one connection):")
            for label, (rolled, direct) in pairs.items():
                print(
                    f"  {label}: rollups median {statistics.median(rolled):.1f} ms p95 {p95(rolled):.1f}; "
                    f"direct median {statistics.median(direct):.1f} ms p95 {p95(direct):.1f}; "
                    f"{statistics.median(direct) / statistics.median(rolled):.1f}× faster"
                )
        print("sizes:", ", ".join(f"{k} {v / 2**20:,.1f} MiB" for k, v in sizes.items()))
        print(
            f"\n{args.runs} runs each after {args.warmup} warm-up; {platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
        )
        # the app runs in this process: its peak RSS is the API's (data generation goes through SQL)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process (the app in-process) {peak:.0f} MiB; load average {os.getloadavg()}")
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            admin = await asyncpg.connect(server_url)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--work-orders", type=int, default=100_000)
    parser.add_argument("--alarms", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=0, help="also time rollups against the direct report")
    parser.add_argument("--keep", action="store_true", help="keep the database for EXPLAIN ANALYZE")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
