"""API replicas as real processes, and a client that behaves like the PWA's outbox.

`ApiReplica` runs `python -m backend.cli api` (what `caretaker api` runs) on a port of its own and can be
SIGKILLed and started again on the same port. `OutboxClient` sends a mutation with one Idempotency-Key to the
replicas in turn until one of them answers it: a connection error, a timeout or a 5xx means "no answer yet",
so the same key is sent again, as the PWA does when it replays its queue. Used by the scale-out test and by
bench/faults.py.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from backend.embedded import free_port
from tests.processes import answers_ok, stop

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ApiReplica:
    """One `caretaker api` process; restartable on the same port, stopped by its PID."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (again), appending its output to the log file."""
        env = {**os.environ, **self.env, "CARETAKER_PORT": str(self.port), "PYTHONPATH": str(ROOT)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "api"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_until_up(self, within: float = 60.0) -> None:
        """Wait for /health to answer 200; fail if the process exits first."""
        assert self.process is not None
        if await answers_ok(self.url, "/health", self.process, within=within):
            return
        if self.process.poll() is not None:
            raise RuntimeError(f"API process on port {self.port} exited; see {self.log_path}")
        raise RuntimeError(f"API process on port {self.port} did not come up within {within} s")

    def kill(self) -> None:
        """SIGKILL: requests in flight get no answer and their transactions roll back."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def terminate(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop within 15 s."""
        if self.process:
            stop(self.process)


def api_env(database_url: str, secret_key: str, data_dir: Path, *, scheduler: bool) -> dict[str, str]:
    """Environment of an API replica: shared database and token key, its own data dir."""
    return {
        "DATABASE_URL": database_url,
        "CARETAKER_SECRET_KEY": secret_key,
        "CARETAKER_DATA_DIR": str(data_dir),
        "CARETAKER_SCHEDULER": "1" if scheduler else "0",
        # Web Push is not under test here; the dispatcher would only find nothing to send
        "CARETAKER_DISPATCHER": "0",
        "CARETAKER_LOG_LEVEL": "WARNING",
    }


class NoAnswer(Exception):
    """No replica answered a request within the client's patience."""


@dataclass
class OutboxClient:
    """Round-robin over the replicas; a keyed request is repeated with the same key until answered."""

    base_urls: list[str]
    timeout: float = 10.0
    patience: float = 180.0
    attempts: int = 0
    retries: int = 0
    _turn: itertools.count = field(default_factory=itertools.count)
    _http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> OutboxClient:
        # one connection per request: a replica that was killed leaves no pooled socket behind
        limits = httpx.Limits(max_keepalive_connections=0)
        self._http = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._http is not None
        await self._http.aclose()

    def _next_url(self) -> str:
        return self.base_urls[next(self._turn) % len(self.base_urls)]

    async def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        key: str | None = None,
    ) -> httpx.Response:
        """The first answer below 500 from any replica; the same Idempotency-Key on every attempt."""
        assert self._http is not None, "use `async with OutboxClient(...)`"
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Idempotency-Key"] = key
        deadline = time.monotonic() + self.patience
        delay = 0.1
        while True:
            self.attempts += 1
            try:
                response = await self._http.request(
                    method, self._next_url() + path, headers=all_headers, json=json
                )
                if response.status_code < 500:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise NoAnswer(f"{method} {path} (key {key}) got no answer within {self.patience} s")
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def login(self, username: str, password: str) -> dict[str, str]:
        """Bearer headers for a user (logins are safe to repeat)."""
        r = await self.send("POST", "/api/v1/auth/login", json={"username": username, "password": password})
        if r.status_code != 200:
            raise RuntimeError(f"login of {username} failed: {r.status_code} {r.text}")
        return {"Authorization": f"Bearer {r.json()['token']}"}
