"""Benchmark: the technician's job list and the accept action under fixed concurrency, against two baselines.

Three uvicorn processes with the same settings (one worker, uvloop, httptools) on free ports of 127.0.0.1:
a hello-world Litestar app, the same app with one endpoint running a single asyncpg query through a pool, and
Caretaker on a fresh database (migrated, demo estate, a few thousand generated work orders; tech1 holds 50
open jobs, tech2 as many assigned jobs as there will be accept requests, so every accept is a first accept).
The load comes from `wrk` (bench/wrk.py; bench/load.py only warms up) at each concurrency level in turn;
`--profile` then records the API worker with py-spy under the job list and prints the top of the profile.
Prints p50/p99 latency and requests/s per endpoint, and Caretaker's ratios to both baselines. Every request
must answer 2xx; the servers and the database are removed at the end.

    .venv/bin/python bench/api.py [--quick] [--concurrency 16 64] [--seconds 10] [--profile]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import stack
import uvloop
from load import Request, run_load
from stack import caretaker_env, create_demo_database, drop_database, load_average, running, start_uvicorn
from wrk import WrkResult, run_wrk

from backend.db.pool import connect

BACKGROUND_WORK_ORDERS = 3000
TECH1_OPEN_JOBS = 50
# Requests before measuring (the accept warm-up uses jobs of its own).
WARMUP_REQUESTS = 100
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Closed history spread over the technicians, created in the last 90 days.
GENERATE_HISTORY = """
WITH techs AS (
    SELECT array_agg(u.id ORDER BY u.username) AS ids
    FROM users u JOIN user_sites us ON us.user_id = u.id
    WHERE us.site_id = $1 AND u.role = 'technician'
)
INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                         last_assignee_id, created_at, updated_at, responded_at, arrived_at, completed_at,
                         closed_at, version)
SELECT $1, 'H' || lpad(i::text, 7, '0'), 'repair', 'closed', 2 + i % 3,
       (ARRAY['water', 'electrical', 'elevator', 'doors_windows', 'structure', 'gas', 'fire_safety',
              'other'])[1 + i % 8],
       'phone', 'history ' || i, NULL, ids[1 + i % cardinality(ids)], t, t + interval '1 day',
       t + interval '20 minutes', t + interval '90 minutes', t + interval '5 hours', t + interval '1 day', 1
FROM techs, generate_series(1, $3) AS i,
     LATERAL (SELECT $2::timestamptz - random() * interval '90 days') AS c(t)
"""

# Open jobs of one technician, in the statuses a job list shows.
GENERATE_OPEN = """
INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title, assignee_id,
                         last_assignee_id, created_at, updated_at, version)
SELECT $1, $4 || lpad(i::text, 7, '0'), 'repair', ($5::text[])[1 + i % cardinality($5::text[])], 1 + i % 4,
       (ARRAY['water', 'electrical', 'elevator', 'doors_windows'])[1 + i % 4],
       'phone', 'open job ' || i, $3, $3, t, t, 1
FROM generate_series(1, $6) AS i, LATERAL (SELECT $2::timestamptz - i * interval '7 minutes') AS c(t)
"""

# Every generated order gets its creation event (seq 1 = version 1, so the next action appends seq 2).
GENERATE_EVENTS = """
INSERT INTO work_order_events (work_order_id, seq, action, from_status, to_status, at)
SELECT id, 1, 'create', NULL, status, created_at FROM work_orders WHERE site_id = $1 AND version = 1
"""

# The open ones run their respond/arrive/resolve clocks (repair P2 defaults).
GENERATE_CLOCKS = """
INSERT INTO work_order_clocks (work_order_id, clock, starts_at, due_at)
SELECT w.id, c.clock, w.created_at, w.created_at + c.after
FROM work_orders w
CROSS JOIN (VALUES ('respond', interval '30 minutes'), ('arrive', interval '2 hours'),
                   ('resolve', interval '24 hours')) AS c(clock, after)
WHERE w.site_id = $1 AND w.version = 1 AND w.status NOT IN ('closed', 'cancelled')
"""


async def build_data(db_url: str, accept_jobs: int) -> list[str]:
    """Generate the work orders; returns the ids of tech2's assigned jobs, to be accepted one each."""
    conn = await connect(db_url)
    try:
        site_id = await conn.fetchval("SELECT id FROM sites WHERE code = 'demo'")
        tech = {r["username"]: r["id"] for r in await conn.fetch("SELECT id, username FROM users")}
        now = datetime.now(UTC)
        await conn.execute(GENERATE_HISTORY, site_id, now, BACKGROUND_WORK_ORDERS)
        statuses = ["assigned", "accepted", "en_route", "on_site", "paused"]
        await conn.execute(GENERATE_OPEN, site_id, now, tech["tech1"], "T", statuses, TECH1_OPEN_JOBS)
        await conn.execute(GENERATE_OPEN, site_id, now, tech["tech2"], "Q", ["assigned"], accept_jobs)
        await conn.execute(GENERATE_EVENTS, site_id)
        await conn.execute(GENERATE_CLOCKS, site_id)
        await conn.execute("VACUUM ANALYZE")
        total = await conn.fetchval("SELECT count(*) FROM work_orders")
        print(f"work orders {total:,}; tech1 open {TECH1_OPEN_JOBS}; tech2 assigned {accept_jobs}")
        rows = await conn.fetch(
            "SELECT id FROM work_orders WHERE assignee_id = $1 AND status = 'assigned' ORDER BY number",
            tech["tech2"],
        )
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


def login(base_url: str, username: str) -> str:
    """A bearer token for a demo user."""
    r = httpx.post(f"{base_url}/api/v1/auth/login", json={"username": username, "password": "demo1234"})
    r.raise_for_status()
    return r.json()["token"]


def accept_requests(job_ids: Iterator[str], token: str) -> Iterator[Request]:
    """One accept per fresh job, each under its own Idempotency-Key (the warm-up's)."""
    for job_id in job_ids:
        yield Request(
            "POST",
            f"/api/v1/work-orders/{job_id}/accept",
            (("Authorization", f"Bearer {token}"), ("Idempotency-Key", str(uuid.uuid4()))),
        )


def row(label: str, result: WrkResult) -> dict[str, float | int | str]:
    """One line of the results table, as data."""
    return {
        "endpoint": label,
        "concurrency": result.concurrency,
        "requests": result.completed,
        "p50_ms": round(result.p50, 2),
        "p99_ms": round(result.p99, 2),
        "rps": round(result.rps, 1),
        "failed": result.failed,
        "generator": "wrk",
    }


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def profile_top(collapsed: Path, limit: int = 15) -> dict:
    """The top of a py-spy collapsed-stack file: functions by own samples, and Caretaker's own functions
    (backend/) by inclusive samples, each as % of all samples."""
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[_short(frames[-1])] += n
        for frame in {_short(f) for f in frames if "(backend/" in f or "/backend/" in f}:
            ours[frame] += n

    def share(counts: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / max(total, 1), 1)) for name, n in counts.most_common(limit)]

    return {"samples": total, "own": share(own), "backend inclusive": share(ours)}


def _short(frame: str) -> str:
    """`func (/long/path/pkg/file.py:12)` as `func (pkg/file.py:12)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({'/'.join(where.rstrip(')').split('/')[-2:])})"


def profile(pid: int, port: int, path: str, headers: dict[str, str], seconds: float, out: Path) -> dict:
    """py-spy (sampling, native off) records the worker while wrk loads `path` at 16 connections."""
    spy = subprocess.Popen([
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--format", "raw",
        "--rate", "200", "--duration", str(round(seconds)), "--output", str(out), "--nonblocking",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        run_wrk(port, path, concurrency=16, seconds=seconds, headers=headers)
        spy.wait(timeout=seconds + 60)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    return profile_top(out)


async def measure(args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Start the servers, load each endpoint at each concurrency level; the table rows and extras."""
    # wrk runs for a fixed time: enough fresh jobs for a fast server (1,500 accepts/s) at every level
    accept_per_level = int(1500 * args.seconds)
    name, db_url = await create_demo_database("ct_bench_api")
    rows: list[dict] = []
    extras: dict = {}
    try:
        job_ids = iter(await build_data(db_url, accept_per_level * len(args.concurrency) + WARMUP_REQUESTS))
        with ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-api-"))
            hello = stack.enter_context(running(start_uvicorn("hello", "hello", ready_path="/hello")))
            one_query = stack.enter_context(
                running(start_uvicorn("one-query", "one_query", {"DATABASE_URL": db_url}, "/one-row"))
            )
            caretaker = stack.enter_context(
                running(start_uvicorn("caretaker", "caretaker", caretaker_env(db_url, data_dir), "/health"))
            )
            tech1, tech2 = login(caretaker.base_url, "tech1"), login(caretaker.base_url, "tech2")
            auth1 = {"Authorization": f"Bearer {tech1}"}
            auth2 = {"Authorization": f"Bearer {tech2}"}
            list_path = args.list_path
            warmups = [
                ("hello world (baseline a)", hello.port, lambda: Request("GET", "/hello")),
                ("one asyncpg query (baseline b)", one_query.port, lambda: Request("GET", "/one-row")),
                (
                    "job list, tech1 (assignee=me)",
                    caretaker.port,
                    lambda: Request("GET", list_path, tuple(auth1.items())),
                ),
                ("accept a fresh job, tech2", caretaker.port, accept_requests(job_ids, tech2)),
            ]
            for label, port, source in warmups:
                warm = await run_load(
                    "127.0.0.1", port, source, concurrency=4, max_requests=WARMUP_REQUESTS, max_seconds=30
                )
                if warm.failed:
                    raise RuntimeError(f"{label}: warm-up answers {dict(warm.statuses)}")
            for concurrency in args.concurrency:
                accepts = [f"/api/v1/work-orders/{next(job_ids)}/accept" for _ in range(accept_per_level)]
                cases = [
                    ("hello world (baseline a)", hello.port, "/hello", "GET", {}, None),
                    ("one asyncpg query (baseline b)", one_query.port, "/one-row", "GET", {}, None),
                    ("job list, tech1 (assignee=me)", caretaker.port, list_path, "GET", auth1, None),
                    ("accept a fresh job, tech2", caretaker.port, accepts[0], "POST", auth2, accepts),
                ]
                for label, port, path, method, headers, paths in cases:
                    result = run_wrk(
                        port, path, concurrency=concurrency, seconds=args.seconds, method=method,
                        headers=headers, paths=paths,
                    )  # fmt: skip
                    rows.append(row(label, result))
                    print(
                        f"  c={concurrency:<3} {label:<32} {result.completed:>6} req"
                        f"  p50 {result.p50:8.1f} ms"
                        f"  p99 {result.p99:8.1f} ms  {result.rps:8.0f} req/s  load {load_average()}",
                        flush=True,
                    )
                    if result.failed:
                        raise RuntimeError(
                            f"{label} at c={concurrency}: {result.non_2xx} non-2xx answers, "
                            f"{result.socket_errors} socket errors"
                        )
            if args.profile:
                out = RESULTS_DIR / "api-profile-job-list.txt"
                out.parent.mkdir(parents=True, exist_ok=True)
                extras["profile_job_list"] = profile(
                    caretaker.pid, caretaker.port, list_path, auth1, args.seconds, out
                )
                print_profile("job list", extras["profile_job_list"])
            extras["caretaker_peak_rss_mib"] = peak_rss_mib(caretaker.pid)
            print(f"caretaker API process peak RSS: {extras['caretaker_peak_rss_mib']} MiB")
    finally:
        await drop_database(name)
    return rows, extras


def print_profile(label: str, top: dict) -> None:
    """The top of a py-spy profile: own samples and inclusive samples, as % of all."""
    print(f"\npy-spy, {label}: {top['samples']} samples")
    for kind in ("own", "backend inclusive"):
        print(f"  top by {kind} time:")
        for name, pct in top[kind]:
            print(f"    {pct:5.1f} %  {name}")


def ratios(rows: list[dict]) -> list[dict]:
    """Caretaker's figures over each baseline's, per concurrency level."""
    out = []
    by_key = {(r["endpoint"], r["concurrency"]): r for r in rows}
    for r in rows:
        if "baseline" in r["endpoint"]:
            continue
        for baseline in ("hello world (baseline a)", "one asyncpg query (baseline b)"):
            b = by_key[(baseline, r["concurrency"])]
            out.append({
                "endpoint": r["endpoint"], "baseline": baseline, "concurrency": r["concurrency"],
                "p50_ratio": round(r["p50_ms"] / b["p50_ms"], 2),
                "p99_ratio": round(r["p99_ms"] / b["p99_ms"], 2),
                "rps_ratio": round(r["rps"] / b["rps"], 3),
            })  # fmt: skip
    return out


def print_table(rows: list[dict], relative: list[dict]) -> None:
    """The figures, then the ratios."""
    print(f"\n{'endpoint':<34}{'conc':>5}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for r in rows:
        print(
            f"{r['endpoint']:<34}{r['concurrency']:>5}{r['requests']:>10}{r['p50_ms']:>10.1f}"
            f"{r['p99_ms']:>10.1f}{r['rps']:>10.0f}"
        )
    print(f"\n{'caretaker / baseline':<64}{'p50 ×':>8}{'p99 ×':>8}{'req/s ×':>9}")
    for r in relative:
        label = f"{r['endpoint']} / {r['baseline'].split(' (')[0]}, c={r['concurrency']}"
        print(f"{label:<64}{r['p50_ratio']:>8.1f}{r['p99_ratio']:>8.1f}{r['rps_ratio']:>9.3f}")


def main() -> None:
    """Parse arguments, measure, print the table and the RESULT line."""
    parser = stack.argument_parser(__doc__, "few requests, short time limit")
    parser.add_argument(
        "--list-path",
        default="/api/v1/work-orders/mine?limit=200",
        help="the job list's path (default: the phone's lean list; ?assignee=me for the full one)",
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk duration per endpoint and level")
    parser.add_argument("--profile", action="store_true", help="py-spy the API worker under the job list")
    args = parser.parse_args()
    if args.quick:
        args.seconds = 4.0
    print(f"load average before: {load_average()}", flush=True)
    rows, extras = uvloop.run(measure(args))
    relative = ratios(rows)
    print_table(rows, relative)
    print(f"load average after: {load_average()}")
    summary = {"bench": "api", "rows": rows, "ratios": relative, "load": load_average(), **extras}
    print("RESULT " + json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
