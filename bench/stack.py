"""What a benchmark starts and must stop again: a scratch database, a private Mosquitto, server processes.

Every process is started here with Popen and stopped by its own PID (SIGTERM, then SIGKILL after a grace
period); every database is created with a unique name and dropped with FORCE. Benchmarks use these as context
managers so an exception or Ctrl-C still cleans up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from backend.db.migrate import migrate
from backend.db.pool import connect
from backend.services.seed import seed_demo

REPO = Path(__file__).resolve().parents[1]
BASELINES_DIR = REPO / "bench" / "baselines"
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH_SECRET = "bench-secret-key-with-enough-length-0123456789"
# One worker each: the machine has two cores and the load generator needs the other one.
UVICORN_OPTIONS = ("--loop", "uvloop", "--http", "httptools", "--workers", "1", "--no-access-log")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(name: str) -> str:
    """The benchmark server's URL for database `name`."""
    return urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))


async def create_demo_database(prefix: str) -> tuple[str, str]:
    """A fresh database, migrated and seeded with the demo estate; returns (name, url)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(SERVER_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = database_url(name)
    conn = await connect(url)
    try:
        await migrate(conn)
        async with conn.transaction():
            await seed_demo(conn)
    finally:
        await conn.close()
    return name, url


async def drop_database(name: str) -> None:
    """Drop a benchmark database, disconnecting whoever is still on it."""
    admin = await asyncpg.connect(SERVER_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class Process:
    """A child process stopped by its own PID."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.popen = subprocess.Popen(
            list(argv),
            env={**os.environ, **(env or {})},
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.popen.pid

    def alive(self) -> bool:
        """True while the child runs."""
        return self.popen.poll() is None

    def output(self) -> str:
        """What the child has written so far (for error messages)."""
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM by PID, SIGKILL if it has not ended within `grace` seconds; removes the log."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


@contextlib.contextmanager
def running(process: Process) -> Iterator[Process]:
    """Stop the process on leaving the block, whatever happened in it."""
    try:
        yield process
    finally:
        process.stop()


def start_uvicorn(
    name: str, factory: str, env: Mapping[str, str] | None = None, ready_path: str = "/"
) -> Process:
    """`uvicorn --factory apps:<factory>` from bench/baselines on a free port; returns once it answers."""
    port = free_port()
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", f"apps:{factory}", "--app-dir", str(BASELINES_DIR),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *UVICORN_OPTIONS,
    ]  # fmt: skip
    process = Process(name, argv, env)
    process.port = port  # type: ignore[attr-defined]
    process.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not process.alive():
            output = process.output()
            process.stop()
            raise RuntimeError(f"{name} ended on start:\n{output}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status_code == 200:
                return process
        time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"{name} did not answer on port {port} within 60 s")


def caretaker_env(db_url: str, data_dir: str) -> dict[str, str]:
    """Environment for a Caretaker API process on the benchmark database, background jobs off."""
    return {
        "DATABASE_URL": db_url,
        "CARETAKER_SECRET_KEY": BENCH_SECRET,
        "CARETAKER_DATA_DIR": data_dir,
        "CARETAKER_SCHEDULER": "0",
        "CARETAKER_DISPATCHER": "0",
        "CARETAKER_LOG_LEVEL": "WARNING",
    }


def start_mosquitto() -> tuple[Process, int, Path]:
    """A private Mosquitto on a free port: no queue cap, persistence in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bench-mosquitto-"))
    port = free_port()
    conf = folder / "mosquitto.conf"
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "persistence true",
        f"persistence_location {folder}/",
        "max_queued_messages 0",
        "max_inflight_messages 1000",
    ]
    if os.geteuid() == 0:
        # mosquitto drops to the `mosquitto` user when started as root, which cannot write our temp folder
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    process = Process("mosquitto", ["mosquitto", "-c", str(conf)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return process, port, folder
        time.sleep(0.1)
    output = process.output()
    process.stop()
    raise RuntimeError(f"mosquitto did not start:\n{output}")


def argument_parser(doc: str | None, quick: str | None = None) -> argparse.ArgumentParser:
    """A bench's command line: its module docstring as the help text (kept as written), and `--quick`
    (`quick` says what the short run does) for run_all's quick pass over every bench."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if quick is not None:
        parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def load_average() -> str:
    """The 1/5/15-minute load averages, as /proc/loadavg has them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"
