"""A closed-loop HTTP/1.1 load generator on asyncio streams: C keep-alive connections, each sending its next
request as soon as the previous answer is read, until a request count or a time limit is reached.

Written against raw streams rather than an HTTP client library so the generator costs as little CPU as
possible: on a 2-core machine it shares the CPU with the server it measures. It understands what the
benchmarked servers send (Content-Length or chunked bodies, keep-alive) and nothing more.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """One request to send: method, path, extra headers, body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        """The request on the wire."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(self.body)}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class LoadResult:
    """Latencies (seconds) of the completed requests, their status codes and the wall time."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def completed(self) -> int:
        """Requests answered."""
        return len(self.latencies)

    @property
    def failed(self) -> int:
        """Answers outside 2xx."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    @property
    def rps(self) -> float:
        """Requests answered per second of wall time."""
        return self.completed / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        """Median latency, ms."""
        return statistics.median(self.latencies) * 1000

    @property
    def p99(self) -> float:
        """99th percentile latency, ms."""
        return self.percentile(99)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status, headers.get("connection") != "close"


async def run_load(
    host: str,
    port: int,
    requests: Iterator[Request] | Callable[[], Request],
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
) -> LoadResult:
    """Send up to `max_requests` requests over `concurrency` connections, stopping at `max_seconds`.

    `requests` is an iterator (each request sent once, e.g. one per fresh job) or a factory called per
    request.
    """
    source = requests if callable(requests) else requests.__next__
    result = LoadResult(concurrency)
    budget = itertools.count()
    deadline = time.perf_counter() + max_seconds
    host_header = f"{host}:{port}"

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next(budget) < max_requests and time.perf_counter() < deadline:
                try:
                    request = source()
                except StopIteration:
                    return
                started = time.perf_counter()
                writer.write(request.encode(host_header))
                status, keep_alive = await _read_response(reader)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result
