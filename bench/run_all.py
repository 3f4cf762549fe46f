"""`make bench`: run every benchmark in turn, print one table, write it into docs/PERFORMANCE.md.

Each script runs as its own subprocess with a time limit; on overrun it gets SIGINT (so its cleanup runs:
servers stopped by PID, database dropped), then SIGKILL for its process group. Scripts print a final
`RESULT {json}` line; bench/gateway.py and bench/kpis.py print text, read here by their labels. The full
output of each script is kept in bench/results/<name>.log. `--quick` runs each with short settings.

    .venv/bin/python bench/run_all.py [--quick] [--only api alarm_latency ...] [--no-docs]
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stack import argument_parser, cpu_model, load_average

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
DOC = REPO / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin (written by bench/run_all.py) -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Bench:
    """One script, its arguments for a full and a quick run, and its time limit."""

    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    limit_seconds: int


BENCHES = [
    Bench("api", ("--profile",), ("--quick", "--profile"), 1200),
    Bench("growth", (), ("--quick",), 1200),
    Bench("alarm_latency", (), ("--quick",), 600),
    Bench("gateway", (), ("--messages", "5000", "--runs", "1", "--alarms", "10"), 1500),
    Bench("kpis", (), ("--work-orders", "10000", "--runs", "5", "--warmup", "1", "--pairs", "3"), 2400),
    Bench("lighthouse", (), ("--quick",), 600),
]

Row = tuple[str, str, str, str, str]  # figure, value, baseline, ratio, command


def run_script(bench: Bench, quick: bool) -> tuple[int | None, str, float]:
    """Run one script in its own process group; (exit status or None on overrun, output, seconds)."""
    argv = [sys.executable, str(REPO / "bench" / f"{bench.name}.py"), *(bench.quick if quick else bench.full)]
    RESULTS.mkdir(exist_ok=True)
    log = RESULTS / f"{bench.name}.log"
    started = time.monotonic()
    with log.open("w") as out:
        child = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        status: int | None
        try:
            status = child.wait(bench.limit_seconds)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGINT)
            try:
                child.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            status = None
        except KeyboardInterrupt:
            os.kill(child.pid, signal.SIGINT)
            child.wait(90)
            raise
    return status, log.read_text(errors="replace"), time.monotonic() - started


def result_line(output: str) -> dict | None:
    """The script's last `RESULT {json}` line."""
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    return json.loads(lines[-1].removeprefix("RESULT ")) if lines else None


def command(bench: Bench, quick: bool) -> str:
    """The command line that reproduces the row."""
    args = " ".join(bench.quick if quick else bench.full)
    return f"`.venv/bin/python bench/{bench.name}.py{' ' + args if args else ''}`"


def api_rows(output: str, cmd: str) -> list[Row]:
    """Job list and accept per concurrency, against both baselines."""
    result = result_line(output)
    if result is None:
        return []
    by_key = {(r["endpoint"], r["concurrency"]): r for r in result["rows"]}
    rows = []
    for r in result["rows"]:
        if "baseline" in r["endpoint"]:
            continue
        c = r["concurrency"]
        a, b = by_key[("hello world (baseline a)", c)], by_key[("one asyncpg query (baseline b)", c)]
        rows.append(
            (
                f"{r['endpoint']}, {c} connections",
                f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, {r['rps']:.0f} req/s"
                f" ({r['requests']} requests, wrk); API peak RSS {result.get('caretaker_peak_rss_mib')} MiB",
                f"hello world: p50 {a['p50_ms']:.1f} ms, {a['rps']:.0f} req/s; "
                f"one query: p50 {b['p50_ms']:.1f} ms, {b['rps']:.0f} req/s",
                f"req/s {r['rps'] / a['rps']:.3f} × hello, {r['rps'] / b['rps']:.2f} × one query; "
                f"p50 {r['p50_ms'] / a['p50_ms']:.0f} × / {r['p50_ms'] / b['p50_ms']:.1f} ×",
                cmd,
            )
        )
    return rows


def alarm_rows(output: str, cmd: str) -> list[Row]:
    """End-to-end alarm latency against the broker hop."""
    r = result_line(output)
    if r is None:
        return []
    return [
        (
            f"alarm publish → guard's SSE `alarm.raised`, {r['telemetry_rate']} telemetry msg/s,"
            f" n={r['alarms']}",
            f"p50 {r['stream_p50_ms']:.0f} ms, p99 {r['stream_p99_ms']:.0f} ms;"
            f" gateway CPU {r['gateway_cpu_us_per_msg']} µs per telemetry message",
            f"same path idle (no telemetry): p50 {r['idle_p50_ms']:.0f} ms, p99 {r['idle_p99_ms']:.0f} ms;"
            f" bare paho subscriber: p50 {r['broker_p50_ms']:.1f} ms, p99 {r['broker_p99_ms']:.1f} ms",
            f"p50 {r['stream_p50_ms'] / r['idle_p50_ms']:.1f} × idle,"
            f" p99 {r['stream_p99_ms'] / r['idle_p99_ms']:.1f} × idle; p50 {r['p50_ratio']} × bare",
            cmd,
        )
    ]


def number(pattern: str, text: str) -> float | None:
    """The first number captured by `pattern`, commas removed."""
    match = re.search(pattern, text)
    return float(match.group(1).replace(",", "")) if match else None


def gateway_rows(output: str, cmd: str) -> list[Row]:
    """bench/gateway.py's printed summary."""
    bare = number(r"bare paho subscriber[^:]*:\s*([\d,.]+) msg/s", output)
    through = number(r"through the gateway[^:]*:\s*([\d,.]+) msg/s", output)
    rows: list[Row] = []
    if bare and through:
        rows.append(
            (
                "telemetry stored by the gateway (queued backlog drain)",
                f"{through:,.0f} msg/s",
                f"bare paho subscriber: {bare:,.0f} msg/s",
                f"{through / bare:.2f} ×",
                cmd,
            )
        )
    latency = re.search(r"  p50 ([\d,.]+) ms, p99 ([\d,.]+) ms", output)
    idle = re.search(r"idle p50 ([\d,.]+) ms, idle p99 ([\d,.]+) ms", output)
    if latency:
        p50, p99 = (float(g.replace(",", "")) for g in latency.groups())
        baseline, ratio = "—", "—"
        if idle:
            i50, i99 = (float(g.replace(",", "")) for g in idle.groups())
            baseline = f"same gateway idle (before the load): p50 {i50:.0f} ms, p99 {i99:.0f} ms"
            ratio = f"p50 {p50 / i50:.1f} × idle, p99 {p99 / i99:.1f} × idle"
        rows.append(
            (
                "alarm publish → work order committed, 1,000 telemetry msg/s",
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
                baseline,
                ratio,
                cmd,
            )
        )
    floods = re.finditer(
        r"an alarm waiting behind (.+?), median of (\d+) \(max\):\n"
        r"  gateway released -> alarm committed: ([\d,]+) ms \(([\d,]+)\)\n"
        r"  bare paho subscriber released -> raise received: ([\d,]+) ms \(([\d,]+)\)",
        output,
    )
    for m in floods:
        what, n = m.group(1), m.group(2)
        through, through_max, bare, bare_max = (float(m.group(i).replace(",", "")) for i in range(3, 7))
        rows.append(
            (
                f"alarm behind {what} (gateway held, then released) → committed, n={n}",
                f"median {through:,.0f} ms (max {through_max:,.0f})",
                f"bare paho subscriber held the same way: median {bare:,.0f} ms (max {bare_max:,.0f})",
                f"{through / bare:.2f} ×" if bare else "—",
                cmd,
            )
        )
    return rows


def kpi_rows(output: str, cmd: str) -> list[Row]:
    """bench/kpis.py's printed table: label, median, p95, × baseline."""
    table = {
        m.group(1).strip(): (float(m.group(2)), float(m.group(3)), float(m.group(4)))
        for m in re.finditer(r"^(\S.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", output, re.MULTILINE)
    }
    baseline = table.get("baseline GET /me")
    size = re.search(r"; ([\d,]+) work orders", output)
    rows: list[Row] = []
    for label, (median, p95, ratio) in table.items():
        if label.startswith("KPIs") and baseline:
            rows.append(
                (
                    f"{label}, {size.group(1) if size else '?'} work orders (in-process, sequential)",
                    f"median {median:,.0f} ms, p95 {p95:,.0f} ms",
                    f"GET /me median {baseline[0]:.1f} ms",
                    f"{ratio:.0f} ×",
                    cmd,
                )
            )
    return rows


def growth_rows(output: str, cmd: str) -> list[Row]:
    """The technician's list at each size of their closed history, against the one-query app."""
    r = result_line(output)
    if r is None:
        return []
    return [
        (
            f"job list `{g.get('path', '/api/v1/work-orders?assignee=me')}`, tech1 with {g['closed_jobs']:,}"
            " closed jobs, 16 connections",
            f"{g['rps']:.0f} req/s, p50 {g['p50_ms']:.0f} ms, p99 {g['p99_ms']:.0f} ms;"
            f" API peak RSS {r['peak_rss_mib']} MiB",
            f"one query: {g['baseline_rps']:.0f} req/s",
            f"{g['ratio']:.3f} × one query; cost {g['cost_vs_first']:.2f} × the first step's",
            cmd,
        )
        for g in r["rows"]
    ]


def lighthouse_rows(output: str, cmd: str) -> list[Row]:
    """Scores, or the reason there are none."""
    r = result_line(output)
    if r is None:
        return []
    if "skipped" in r:
        return [("Lighthouse (PWA, performance)", f"skipped: {r['skipped']}", "—", "—", cmd)]
    scores = ", ".join(f"{k} {v}" for k, v in r["scores"].items())
    metrics = ", ".join(f"{k} {v}" for k, v in r["metrics"].items()).replace("\u00a0", " ")
    return [(f"Lighthouse {r.get('lighthouse', '')}, mobile, `/`", f"{scores} ({metrics})", "—", "—", cmd)]


READERS: dict[str, Callable[[str, str], list[Row]]] = {
    "api": api_rows,
    "growth": growth_rows,
    "alarm_latency": alarm_rows,
    "gateway": gateway_rows,
    "kpis": kpi_rows,
    "lighthouse": lighthouse_rows,
}


def markdown(rows: list[Row], notes: list[str], machine: str) -> str:
    """The generated section of docs/PERFORMANCE.md."""
    lines = [
        BEGIN,
        "",
        machine,
        "",
        "| figure | value | baseline (same run) | ratio | command |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    lines += ["", *[f"- {note}" for note in notes], "", END]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    """Replace the text between the markers (or append the section with its markers)."""
    text = DOC.read_text() if DOC.exists() else "# Performance figures\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## `make bench`: the latest run\n\n" + section + "\n"
    DOC.write_text(text)


def main() -> int:
    """Run the benchmarks, print the table, update the doc; non-zero if any script failed."""
    parser = argument_parser(__doc__, "short settings for every script")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES], help="run only these")
    parser.add_argument("--no-docs", action="store_true", help="print the table without touching the doc")
    args = parser.parse_args()
    started_at = datetime.now(UTC)
    load_before = load_average()
    rows: list[Row] = []
    notes: list[str] = []
    failed = False
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        print(f"== {bench.name} (load average {load_average()})", flush=True)
        status, output, seconds = run_script(bench, args.quick)
        cmd = command(bench, args.quick)
        found = READERS[bench.name](output, cmd)
        rows += found
        load = load_average()
        print(f"   {seconds:.0f} s, exit {status}, load average after {load}", flush=True)
        if status != 0 or not found:
            failed = True
            why = "overran its time limit" if status is None else f"exited {status}"
            notes.append(f"{bench.name} {why}; output in bench/results/{bench.name}.log")
            print(output[-3000:])
        else:
            notes.append(f"{bench.name}: {seconds:.0f} s, load average (1/5/15 min) after it {load}")
    machine = (
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, shared with other work;"
        f" run {started_at:%Y-%m-%d %H:%M} UTC"
        f"{' with --quick' if args.quick else ''}; load average {load_before} before, {load_average()} after."
    )
    print()
    print(machine)
    widths = [max(len(r[i]) for r in rows) if rows else 6 for i in range(4)]
    header = ("figure", "value", "baseline", "ratio")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  command")
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)) + "  " + row[4])
    if not args.no_docs and not args.only:
        write_doc(markdown(rows, notes, machine))
        print(f"\nwritten to {DOC.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
