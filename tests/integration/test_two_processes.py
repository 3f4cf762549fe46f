"""Two API processes on one database: an alarm committed elsewhere reaches an SSE client of the second
process through LISTEN/NOTIFY, and a client that reconnects with Last-Event-ID gets what it missed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.domain.clock import SystemClock
from tests.conftest import TEST_SECRET
from tests.integration.alarm_fixtures import raise_device_alarm
from tests.integration.sse_client import free_port, login, open_stream
from tests.processes import answers_ok, stop

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# The promise: a guard's open screen hears of an alarm within a second of its commit.
DELIVERY_SECONDS = 1.0


@contextmanager
def api_process(db_url: str, data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`uvicorn --factory` on a free port against the test database."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CARETAKER_SECRET_KEY": TEST_SECRET,
        "CARETAKER_DATA_DIR": str(data_dir),
        "CARETAKER_SCHEDULER": "0",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.integration.api_factory:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--timeout-graceful-shutdown", "2"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        stop(proc, timeout=10)


async def _wait_until_up(base_url: str, proc: subprocess.Popen[bytes]) -> None:
    if not await answers_ok(base_url, "/health", proc, within=30):
        assert proc.poll() is None, "the API process exited during start-up"
        raise AssertionError(f"{base_url} did not come up")


@pytest.fixture
async def two_apis(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Base URLs of two API processes sharing the test database."""
    with (
        api_process(db_url, tmp_path / "a") as (first, p1),
        api_process(db_url, tmp_path / "b") as (second, p2),
    ):
        await asyncio.gather(_wait_until_up(first, p1), _wait_until_up(second, p2))
        yield first, second


async def test_alarm_reaches_the_other_process_within_a_second_and_reconnect_replays(
    two_apis: tuple[str, str], db: asyncpg.Connection
) -> None:
    first, second = two_apis
    token = await login(first, "guard1")  # a token from one replica is good on every replica
    clock = SystemClock()

    async with open_stream(second, token=token) as stream:
        # the stream is open when its first comment arrives; raise the alarm after that
        await asyncio.sleep(0.2)
        alarm = await raise_device_alarm(db, device_id="elev-b2", code="ELEVATOR_ENTRAPMENT", now=clock.now())
        committed = asyncio.get_running_loop().time()
        [*_, raised] = await stream.events_until(
            lambda e: e.event == "alarm.raised" and e.json["id"] == str(alarm.id), timeout=DELIVERY_SECONDS
        )
        latency = asyncio.get_running_loop().time() - committed
        assert latency < DELIVERY_SECONDS
        last_seen = raised.id

        # an acknowledgement through the first process reaches the client of the second
        async with httpx.AsyncClient(base_url=first) as http:
            r = await http.post(
                f"/api/v1/alarms/{alarm.id}/ack",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "two-processes-ack"},
            )
            assert r.status_code == 200, r.text
        [*_, updated] = await stream.events_until(
            lambda e: e.event == "alarm.updated" and e.json["id"] == str(alarm.id) and e.json["ackedAt"]
        )
        last_seen = updated.id

    # disconnected: two more alarms happen
    missed = [
        await raise_device_alarm(db, device_id="pump-2", code="PUMP_FAILURE", now=clock.now()),
        await raise_device_alarm(db, device_id="leak-2", code="WATER_LEAK", now=clock.now()),
    ]
    async with open_stream(second, token=token, last_event_id=last_seen) as stream:
        seen = await stream.events_until(
            lambda e: e.event == "alarm.raised" and e.json["id"] == str(missed[-1].id), timeout=5
        )
    assert [e.json["id"] for e in seen if e.event == "alarm.raised"] == [str(a.id) for a in missed]
    assert all(int(e.id) > int(last_seen) for e in seen if e.id)
