"""Before/after on one database, interleaved: the job list and the accept action, one request at a time.

Throughput on a shared 2-core machine moves with colleagues' load from one second to the next, so a change
is best judged by the same requests sent alternately to the old and the new code. This starts two Caretaker
processes (uvicorn, one worker, as bench/api.py) on one fresh database: one from an export of an older
commit (`--before DIR`, e.g. `git archive <commit> | tar -x -C DIR`), one from this tree. It then sends
rounds of sequential requests (concurrency 1) to each in turn and prints the median and p90 latency of each,
and their ratio; every answer must be 2xx.

    .venv/bin/python bench/pair.py --before /tmp/before [--rounds 5] [--requests 100]

The job list's path may differ per side (`--list-before`, `--list-after`: a list moved to a new endpoint);
`--list-only` leaves the accept out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import stack as stack_module
import uvloop
from api import accept_requests, build_data, login
from load import Request, run_load
from stack import caretaker_env, create_demo_database, drop_database, load_average, running, start_uvicorn


def start_from(tree: Path, name: str, env: dict[str, str]) -> stack_module.Process:
    """A Caretaker process whose `backend` package comes from `tree` (its working directory)."""
    saved = stack_module.REPO
    stack_module.REPO = tree
    try:
        return start_uvicorn(name, "caretaker", env, "/health")
    finally:
        stack_module.REPO = saved


async def measure(args: argparse.Namespace) -> dict:
    """Interleaved rounds against both processes; medians and p90s per side and endpoint."""
    name, db_url = await create_demo_database("ct_bench_pair")
    per_side = args.rounds * args.requests
    samples: dict[str, dict[str, list[float]]] = {
        side: {"job list": [], "accept": []} for side in ("before", "after")
    }
    try:
        jobs = iter(await build_data(db_url, 2 * per_side + 20))
        with ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pair-"))
            env = caretaker_env(db_url, data_dir)
            servers = {
                "before": stack.enter_context(running(start_from(Path(args.before), "before", env))),
                "after": stack.enter_context(running(start_from(stack_module.REPO, "after", env))),
            }
            for r in range(args.rounds):
                for side in ("before", "after") if r % 2 == 0 else ("after", "before"):
                    server = servers[side]
                    t1, t2 = login(server.base_url, "tech1"), login(server.base_url, "tech2")
                    path = args.list_before if side == "before" else args.list_after
                    cases = {
                        "job list": lambda t1=t1, path=path: Request(
                            "GET", path, (("Authorization", f"Bearer {t1}"),)
                        ),
                    }
                    if not args.list_only:
                        cases["accept"] = accept_requests(jobs, t2)
                    for label, source in cases.items():
                        result = await run_load(
                            "127.0.0.1", server.port, source, concurrency=1,
                            max_requests=args.requests, max_seconds=120,
                        )  # fmt: skip
                        if result.failed:
                            raise RuntimeError(f"{side} {label}: {dict(result.statuses)}")
                        samples[side][label] += [x * 1000 for x in result.latencies[5:]]
                print(f"  round {r + 1}: load {load_average()}", flush=True)
    finally:
        await drop_database(name)
    out: dict = {}
    for label in ("job list",) if args.list_only else ("job list", "accept"):
        b, a = samples["before"][label], samples["after"][label]
        mb, ma = statistics.median(b), statistics.median(a)
        p90 = lambda xs: statistics.quantiles(xs, n=10)[-1]  # noqa: E731
        out[label] = {
            "before_median_ms": round(mb, 2), "after_median_ms": round(ma, 2),
            "before_p90_ms": round(p90(b), 2), "after_p90_ms": round(p90(a), 2),
            "speedup": round(mb / ma, 2), "n": min(len(a), len(b)),
        }  # fmt: skip
    return out


def main() -> None:
    """Parse arguments, measure, print."""
    parser = stack_module.argument_parser(__doc__)
    parser.add_argument("--before", required=True, help="an exported tree of the older commit")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument(
        "--list-before", default="/api/v1/work-orders?assignee=me", help="job list path, old side"
    )
    parser.add_argument(
        "--list-after", default="/api/v1/work-orders?assignee=me", help="job list path, new side"
    )
    parser.add_argument("--list-only", action="store_true", help="time the job list only")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", flush=True)
    result = uvloop.run(measure(args))
    for label, r in result.items():
        print(
            f"{label:<10} before median {r['before_median_ms']:7.1f} ms p90 {r['before_p90_ms']:7.1f} ms | "
            f"after median {r['after_median_ms']:7.1f} ms p90 {r['after_p90_ms']:7.1f} ms | "
            f"{r['speedup']:.2f}x (n={r['n']})"
        )
    print(f"load average after: {load_average()}")
    print("RESULT " + json.dumps({"bench": "pair", **result, "load": load_average()}))


if __name__ == "__main__":
    sys.exit(main())
