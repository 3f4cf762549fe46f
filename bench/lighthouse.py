"""Benchmark: the PWA's Lighthouse scores (performance and PWA categories) on a running app.

Serves Caretaker with uvicorn on a free port (fresh database with the demo estate), then runs
`npx -y lighthouse@11.7.1` (the last release with the PWA category) with CHROME_PATH=/usr/bin/chromium
against `/`, mobile defaults (simulated slow 4G, 4× CPU slowdown). Prints the category scores and the main
metrics. Without npx or Chromium it says why and reports the row as skipped.

    .venv/bin/python bench/lighthouse.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import stack
from stack import caretaker_env, create_demo_database, drop_database, load_average, running, start_uvicorn

CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
LIGHTHOUSE = "lighthouse@11.7.1"
TIME_LIMIT_SECONDS = 300
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
    "interactive",
)


def missing_tool() -> str | None:
    """Why Lighthouse cannot run here, or None."""
    if shutil.which("npx") is None:
        return "npx is not installed (apt-get install nodejs npm)"
    if not Path(CHROME).exists():
        return f"no Chromium at {CHROME} (apt-get install chromium, or set CHROME_PATH)"
    return None


def audit(url: str, report: Path) -> dict:
    """Run Lighthouse against `url`; the parsed JSON report."""
    argv = [
        "npx",
        "-y",
        LIGHTHOUSE,
        url,
        "--only-categories=pwa,performance",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        "--chrome-flags=--headless --no-sandbox --disable-gpu",
    ]
    completed = subprocess.run(
        argv,
        env={**os.environ, "CHROME_PATH": CHROME},
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_SECONDS,
        check=False,
    )
    if completed.returncode != 0 or not report.exists():
        raise RuntimeError(f"lighthouse failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return json.loads(report.read_text())


async def measure() -> dict:
    """Serve the app, audit it, stop everything; the scores and metrics."""
    name, db_url = await create_demo_database("ct_bench_lh")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as folder:
            api = start_uvicorn("api", "caretaker", caretaker_env(db_url, folder), "/health")
            with running(api):
                report = await asyncio.to_thread(audit, f"{api.base_url}/", Path(folder) / "report.json")
    finally:
        await drop_database(name)
    return {
        "scores": {k: round(v["score"] * 100) for k, v in report["categories"].items()},
        "metrics": {m: report["audits"][m]["displayValue"] for m in METRICS if m in report["audits"]},
        "lighthouse": report.get("lighthouseVersion"),
    }


def main() -> None:
    """Run the audit (or explain why not) and print the RESULT line."""
    parser = stack.argument_parser(__doc__, "the same single audit (it is already short)")
    parser.parse_args()
    why = missing_tool()
    if why:
        print(f"lighthouse skipped: {why}")
        print("RESULT " + json.dumps({"bench": "lighthouse", "skipped": why}))
        return
    print(f"load average before: {load_average()}", flush=True)
    result = asyncio.run(measure())
    for category, score in result["scores"].items():
        print(f"  {category:<12} {score:>4}")
    for metric, value in result["metrics"].items():
        print(f"  {metric:<26} {value}")
    print("RESULT " + json.dumps({"bench": "lighthouse", **result, "load": load_average()}))


if __name__ == "__main__":
    main()
