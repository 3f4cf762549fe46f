"""Growth curve: the technician's job list as their closed history grows (10 -> 10,000 closed jobs).

One Caretaker API process (uvicorn, one worker, as bench/api.py) and the one-query baseline app on the same
database. tech1 holds 20 open jobs throughout; before each step their closed jobs are topped up to the
step's count (with clocks met and events, like real history) and the tables analysed. At each step `wrk`
loads each job list path as tech1 (`--paths`; by default the phone's lean list, GET /api/v1/work-orders/mine,
and the full list with history, GET /api/v1/work-orders?assignee=me), each followed by the baseline, at 16
connections. Prints a small table (req/s, p50, p99, ratio to the baseline, the list's own cost relative to
the first step) and the API process's peak RSS; RESULT line for bench/run_all.py.

    .venv/bin/python bench/growth.py [--quick] [--steps 10 100 1000 10000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime

import stack
import uvloop
from api import login, peak_rss_mib
from stack import caretaker_env, create_demo_database, drop_database, load_average, running, start_uvicorn
from wrk import run_wrk

from backend.db.pool import connect

OPEN_JOBS = 20

# Closed jobs of tech1 numbered from $3 to $4, spread over the last two years, with their met clocks.
ADD_CLOSED = """
WITH new AS (
    INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                             last_assignee_id, created_at, updated_at, responded_at, arrived_at,
                             completed_at, closed_at, version)
    SELECT $1, 'G' || lpad(i::text, 7, '0'), 'repair', 'closed', 2 + i % 3, 'water', 'phone',
           'history ' || i, $2, $2, t, t + interval '1 day', t + interval '20 minutes',
           t + interval '90 minutes', t + interval '5 hours', t + interval '1 day', 1
    FROM generate_series($3::int, $4::int) AS i,
         LATERAL (SELECT $5::timestamptz - (i % 730) * interval '1 day' - interval '2 days') AS c(t)
    RETURNING id, created_at, status
), events AS (
    INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
    SELECT id, 1, 'create', NULL, status, created_at FROM new
)
INSERT INTO work_order_clocks (work_order_id, clock, starts_at, due_at, met_at)
SELECT n.id, c.clock, n.created_at, n.created_at + c.after, n.created_at + c.after / 2
FROM new n CROSS JOIN (VALUES ('respond', interval '30 minutes'), ('arrive', interval '2 hours'),
                              ('resolve', interval '24 hours')) AS c(clock, after)
"""

ADD_OPEN = """
WITH new AS (
    INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                             last_assignee_id, created_at, updated_at, version)
    SELECT $1, 'T' || lpad(i::text, 7, '0'), 'repair', 'accepted', 1 + i % 4, 'water', 'phone',
           'open job ' || i, $2, $2, $3::timestamptz - i * interval '7 minutes',
           $3::timestamptz - i * interval '7 minutes', 1
    FROM generate_series(1, $4) AS i
    RETURNING id, created_at, status
), events AS (
    INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
    SELECT id, 1, 'create', NULL, status, created_at FROM new
)
INSERT INTO work_order_clocks (work_order_id, clock, starts_at, due_at)
SELECT n.id, c.clock, n.created_at, n.created_at + c.after
FROM new n CROSS JOIN (VALUES ('respond', interval '30 minutes'), ('arrive', interval '2 hours'),
                              ('resolve', interval '24 hours')) AS c(clock, after)
"""


async def measure(args: argparse.Namespace) -> tuple[list[dict], float]:
    """Grow tech1's history step by step; at each step load the list and the baseline."""
    name, db_url = await create_demo_database("ct_bench_growth")
    rows: list[dict] = []
    try:
        conn = await connect(db_url)
        site = await conn.fetchval("SELECT id FROM sites WHERE code = 'demo'")
        tech1 = await conn.fetchval("SELECT id FROM users WHERE username = 'tech1'")
        now = datetime.now(UTC)
        await conn.execute(ADD_OPEN, site, tech1, now, OPEN_JOBS)
        with ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-growth-"))
            one_query = stack.enter_context(
                running(start_uvicorn("one-query", "one_query", {"DATABASE_URL": db_url}, "/one-row"))
            )
            caretaker = stack.enter_context(
                running(start_uvicorn("caretaker", "caretaker", caretaker_env(db_url, data_dir), "/health"))
            )
            auth = {"Authorization": f"Bearer {login(caretaker.base_url, 'tech1')}"}
            have = 0
            for closed in args.steps:
                await conn.execute(ADD_CLOSED, site, tech1, have + 1, closed, now)
                have = closed
                await conn.execute("VACUUM ANALYZE work_orders, work_order_clocks, work_order_events")
                for path in args.paths:
                    run_wrk(caretaker.port, path, concurrency=4, seconds=1, headers=auth)  # warm-up
                    job_list = run_wrk(
                        caretaker.port, path, concurrency=16, seconds=args.seconds, headers=auth
                    )
                    base = run_wrk(one_query.port, "/one-row", concurrency=16, seconds=args.seconds)
                    if job_list.failed or base.failed:
                        raise RuntimeError(f"failures at {closed} closed jobs: {job_list} {base}")
                    rows.append({
                        "path": path, "closed_jobs": closed, "rps": round(job_list.rps, 1),
                        "p50_ms": round(job_list.p50, 1), "p99_ms": round(job_list.p99, 1),
                        "baseline_rps": round(base.rps, 1), "ratio": round(job_list.rps / base.rps, 4),
                        "load": load_average(),
                    })  # fmt: skip
                    print(
                        f"  {closed:>7} closed, {path}: {job_list.rps:7.1f} req/s p50 {job_list.p50:7.1f} ms "
                        f"p99 {job_list.p99:7.1f} ms; one query {base.rps:7.0f} req/s; "
                        f"ratio {job_list.rps / base.rps:.4f}; load {load_average()}",
                        flush=True,
                    )
            rss = peak_rss_mib(caretaker.pid)
        await conn.close()
    finally:
        await drop_database(name)
    return rows, rss


def main() -> None:
    """Parse arguments, measure, print the table and the RESULT line."""
    parser = stack.argument_parser(__doc__, "3 s per measurement")
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--paths",
        nargs="+",
        default=["/api/v1/work-orders/mine?limit=200", "/api/v1/work-orders?assignee=me"],
        help="job list paths measured at each step (default: the phone's lean list, then the full list)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds = 3.0
    print(f"load average before: {load_average()}", flush=True)
    rows, rss = uvloop.run(measure(args))
    for path in args.paths:
        mine = [r for r in rows if r["path"] == path]
        first = mine[0]["ratio"]
        print(f"\n{path}")
        header = f"{'closed jobs':>12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'1-query':>9}"
        print(f"{header}{'ratio':>8}{'cost ×':>8}")
        for r in mine:
            r["cost_vs_first"] = round(first / r["ratio"], 2)
            print(
                f"{r['closed_jobs']:>12}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}"
                f"{r['baseline_rps']:>9.0f}{r['ratio']:>8.4f}{r['cost_vs_first']:>8.2f}"
            )
    print(f"API process peak RSS {rss} MiB; load average after: {load_average()}")
    print("RESULT " + json.dumps({"bench": "growth", "rows": rows, "peak_rss_mib": rss}))


if __name__ == "__main__":
    sys.exit(main())
