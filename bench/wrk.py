"""Throughput and latency from `wrk` (apt: wrk), the load generator that is not the ceiling here.

bench/load.py, the Python generator, tops out near 4,000 req/s on this machine kind; wrk (C, epoll) sends the
same keep-alive requests at a fraction of the CPU. One wrk thread, C connections, a fixed duration. A Lua
script sets the headers, optionally walks a list of paths (one fresh job per accept, each under its own
Idempotency-Key) and prints the figures in one machine-readable line from wrk's own histogram.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass

_SCRIPT = """
local paths = %(paths)s
local method = %(method)s
local i = 0
for name, value in pairs(%(headers)s) do wrk.headers[name] = value end
wrk.method = method
request = function()
    if #paths == 0 then return wrk.format(nil, %(path)s) end
    i = i + 1
    if i > #paths then i = #paths + 1 end
    local path = paths[i] or "/exhausted"
    wrk.headers["Idempotency-Key"] = "wrk-" .. %(run)s .. "-" .. i
    return wrk.format(nil, path)
end
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("WRKRESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99), latency.max, e.status,
        e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """What wrk measured: answered requests, wall seconds, latency percentiles (ms), failures."""

    concurrency: int
    completed: int
    seconds: float
    p50: float
    p99: float
    max: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        """Requests answered per second."""
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        """Answers outside 2xx/3xx plus socket errors."""
        return self.non_2xx + self.socket_errors


def _lua(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return json.dumps(str(value))


def run_wrk(
    port: int,
    path: str,
    *,
    concurrency: int,
    seconds: float,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    paths: list[str] | None = None,
) -> WrkResult:
    """Load http://127.0.0.1:port with wrk for `seconds`; `paths` are each requested once, in turn."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    script = _SCRIPT % {
        "paths": _lua(paths or []),
        "method": _lua(method),
        "headers": _lua(headers or {}),
        "path": _lua(path),
        "run": _lua(uuid.uuid4().hex),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-wrk-") as lua:
        lua.write(script)
        lua.flush()
        argv = [
            binary, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
            "-s", lua.name, f"http://127.0.0.1:{port}{path}",
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    found = re.search(r"^WRKRESULT (.+)$", done.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    requests, micros, p50, p99, top, non_2xx, socket_errors = (int(x) for x in found.group(1).split())
    return WrkResult(
        concurrency, requests, micros / 1e6, p50 / 1000, p99 / 1000, top / 1000, non_2xx, socket_errors
    )
