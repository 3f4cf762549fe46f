"""Gateway fixtures: a private Mosquitto per test, the gateway in-process or as a subprocess, a publisher.

The private broker lifts Mosquitto's 1,000-message queue cap (which silently drops QoS 1 messages for a
subscriber that falls behind) and keeps its state on disk, so tests can restart it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from backend.domain.clock import Clock, SystemClock
from backend.settings import Settings
from iot_gateway.contract import event_topic, status_topic, telemetry_topic
from iot_gateway.drop_log import DropLog
from iot_gateway.handlers import GatewayCounters
from iot_gateway.runner import run_gateway
from tests.conftest import skip_or_fail
from tests.processes import stop

ROOT = Path(__file__).resolve().parents[2]
SITE = "demo"


def device_time(offset: timedelta = timedelta()) -> str:
    """A device's ISO 8601 timestamp `offset` from now: the gateway trusts a device's clock only within a
    day of its own, so a fixed date would silently turn into the server's time once that day is past."""
    return (datetime.now(UTC) + offset).isoformat().replace("+00:00", "Z")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PrivateBroker:
    """A Mosquitto of this test's own: persistence on, no queue cap; restartable on the same port."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """MQTT_URL for it."""
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or start again) on the same port and data directory."""
        conf = self.directory / "mosquitto.conf"
        conf.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    "persistence true",
                    f"persistence_location {self.directory}/",
                    # 0 = no cap: the stock 1,000 drops QoS 1 messages for a slow subscriber
                    "max_queued_messages 0",
                    "max_inflight_messages 1000",
                    f"log_dest file {self.directory}/mosquitto.log",
                    # running as root, Mosquitto would switch to a 'mosquitto' user that cannot write here
                    "user root",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                errors = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto did not start: {errors}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it gracefully (SIGTERM: it writes its persistence file)."""
        if self.process:
            stop(self.process, timeout=10)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    """A private Mosquitto on a free port, stopped by PID afterwards."""
    if shutil.which("mosquitto") is None:
        skip_or_fail("mosquitto is not installed (apt-get install mosquitto)")
    directory = tmp_path / "mosquitto"
    directory.mkdir()
    b = PrivateBroker(directory=directory, port=free_port())
    b.start()
    try:
        yield b
    finally:
        b.stop()


class Publisher:
    """A device-side MQTT client publishing QoS 1 messages (waits for the broker's PUBACK)."""

    def __init__(self, port: int, client_id: str | None = None, *, persistent: bool = False) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}",
            protocol=paho.MQTTv5,
        )
        # unlimited local queue: what is published while the broker is away is sent when it is back
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(0.2, 2)
        props = None
        if persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, clean_start=not persistent, properties=props)
        self.client.loop_start()

    def publish_raw(self, topic: str, payload: bytes | str, *, retain: bool = False) -> paho.MQTTMessageInfo:
        """Publish without waiting."""
        return self.client.publish(topic, payload, qos=1, retain=retain)

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> None:
        """Publish and wait until the broker has it."""
        self.publish_raw(topic, payload, retain=retain).wait_for_publish(timeout=10)

    def event(
        self,
        device: str,
        code: str,
        state: str = "raised",
        *,
        event_id: str | None = None,
        site: str = SITE,
        wait: bool = True,
    ) -> str:
        """Publish a device event; returns its eventId."""
        event_id = event_id or str(uuid.uuid4())
        body = msgspec.json.encode(
            {"eventId": event_id, "ts": device_time(), "code": code, "state": state, "detail": {}}
        )
        if wait:
            self.publish(event_topic(site, device), body)
        else:
            self.publish_raw(event_topic(site, device), body)
        return event_id

    def telemetry(
        self, device: str, metrics: dict[str, float], *, seq: int, ts: str, site: str = SITE
    ) -> None:
        """Publish one reading."""
        self.publish(
            telemetry_topic(site, device), msgspec.json.encode({"ts": ts, "seq": seq, "metrics": metrics})
        )

    def status(self, device: str, state: str, *, site: str = SITE) -> None:
        """Publish a retained status."""
        self.publish(status_topic(site, device), state, retain=True)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(broker: PrivateBroker) -> Iterator[Publisher]:
    """A connected publisher on the private broker."""
    p = Publisher(broker.port)
    try:
        yield p
    finally:
        p.close()


@dataclass
class RunningGateway:
    """A gateway running as a task of the test's event loop."""

    stop: asyncio.Event
    task: asyncio.Task[None]
    counters: GatewayCounters = field(default_factory=GatewayCounters)

    async def shutdown(self) -> None:
        """Stop it and wait."""
        self.stop.set()
        await asyncio.wait_for(self.task, 15)


StartGateway = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
async def start_gateway(db_url: str, broker: PrivateBroker) -> AsyncIterator[StartGateway]:
    """`gw = await start_gateway(client_id=..., clock=...)`: an in-process gateway, stopped at the end."""
    running: list[RunningGateway] = []

    async def _start(
        *,
        client_id: str = "gw-test",
        clock: Clock | None = None,
        mqtt_url: str | None = None,
        drop_log: DropLog | None = None,
    ) -> RunningGateway:
        settings = Settings(database_url=db_url, mqtt_url=mqtt_url or broker.url)
        stop = asyncio.Event()
        counters = GatewayCounters()
        task = asyncio.create_task(
            run_gateway(
                settings,
                stop,
                client_id=client_id,
                clock=clock or SystemClock(),
                counters=counters,
                drop_log=drop_log,
            )
        )
        gw = RunningGateway(stop=stop, task=task, counters=counters)
        running.append(gw)
        await _wait_subscribed(broker, client_id)
        return gw

    yield _start
    for gw in running:
        if not gw.task.done():
            await gw.shutdown()


async def _wait_subscribed(broker: PrivateBroker, client_id: str, within: float = 10) -> None:
    """Wait until the gateway's birth message (published right after it subscribes) is on the broker."""
    seen = asyncio.Event()
    loop = asyncio.get_running_loop()
    probe = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex[:8]}", protocol=paho.MQTTv5
    )

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        if message.payload == b"online":
            loop.call_soon_threadsafe(seen.set)

    probe.on_message = on_message
    probe.on_connect = lambda c, *a: c.subscribe(f"caretaker-gateway/{client_id}/status", qos=1)
    probe.connect("127.0.0.1", broker.port)
    probe.loop_start()
    try:
        await asyncio.wait_for(seen.wait(), within)
    finally:
        probe.disconnect()
        probe.loop_stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll until `check` returns something truthy; fail with its last value after `within` seconds."""
    deadline = time.monotonic() + within
    value = None
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within} s (last value {value!r})")


@dataclass
class GatewayProcess:
    """`python -m iot_gateway` as a child process (so that it can be SIGKILLed)."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it, appending to the log file."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "iot_gateway"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush, no acks."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self) -> None:
        """SIGTERM and wait."""
        if self.process:
            stop(self.process)


SpawnGateway = Callable[[str], GatewayProcess]


@pytest.fixture
def spawn_gateway(db_url: str, broker: PrivateBroker, tmp_path: Path) -> Iterator[SpawnGateway]:
    """`gp = spawn_gateway("gw-1")`: a gateway subprocess on the test database and private broker.

    Every one started is stopped by PID afterwards.
    """
    spawned: list[GatewayProcess] = []

    def _spawn(client_id: str) -> GatewayProcess:
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "MQTT_URL": broker.url,
            "CARETAKER_MQTT_CLIENT_ID": client_id,
            "PYTHONPATH": str(ROOT),
        }
        gp = GatewayProcess(env=env, log_path=tmp_path / f"{client_id}.log")
        gp.start()
        spawned.append(gp)
        return gp

    yield _spawn
    for gp in spawned:
        gp.terminate()
