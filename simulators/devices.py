"""Simulated devices: each is its own MQTT client with its own Last Will, publishing realistic telemetry."""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from iot_gateway.contract import (
    METRIC_CURRENT,
    METRIC_DOOR_OPEN,
    METRIC_FLOOR,
    METRIC_FLOW,
    METRIC_FREQUENCY,
    METRIC_FUEL,
    METRIC_LEAK,
    METRIC_LOAD,
    METRIC_PRESSURE,
    METRIC_PUMP_RUNNING,
    METRIC_SPEED,
    METRIC_TANK_LEVEL,
    METRIC_VOLTAGE,
    OFFLINE,
    ONLINE,
    event_topic,
    status_topic,
    telemetry_topic,
)

# The demo estate's devices (backend/services/seed.py): id → kind.
DEMO_DEVICES: dict[str, str] = {
    **{f"elev-{b}{n}": "elevator" for b in "abc" for n in (1, 2)},
    "pump-1": "pump", "pres-1": "pressure", "tank-1": "tank", "leak-1": "leak",
    "pump-2": "pump", "pres-2": "pressure", "tank-2": "tank", "leak-2": "leak",
    "mains-1": "power", "mains-2": "power", "gen-1": "generator",
}  # fmt: skip
_ELEVATOR_CODES = ("ELEVATOR_ENTRAPMENT", "ELEVATOR_STOPPED", "ELEVATOR_DOOR_FAULT", "ELEVATOR_OVERSPEED")
# Every (device, alarm code) the demo estate's devices raise: 33 sources, elevators first.
DEMO_ALARM_SOURCES: list[tuple[str, str]] = [
    *((f"elev-{b}{n}", code) for b in "abc" for n in (1, 2) for code in _ELEVATOR_CODES),
    ("leak-1", "WATER_LEAK"), ("leak-2", "WATER_LEAK"),
    ("pump-1", "PUMP_FAILURE"), ("pump-2", "PUMP_FAILURE"),
    ("mains-1", "MAINS_LOSS"), ("mains-2", "MAINS_LOSS"),
    ("mains-1", "PHASE_LOSS"), ("mains-2", "PHASE_LOSS"),
    ("gen-1", "GENERATOR_FAILURE"),
]  # fmt: skip

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Broker:
    """Where the simulators connect (from MQTT_URL; `?protocol=3.1.1` for the embedded broker)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    v5: bool = True


def load_credentials(path: str | Path) -> dict[str, str]:
    """Each device's password by device id, from a JSON object such as the embedded broker writes
    (`.caretaker/mqtt-credentials.json` while `caretaker up` runs)."""
    credentials = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(credentials, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in credentials.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of device id -> password")
    return credentials


def broker_from_url(url: str) -> Broker:
    """Parse mqtt://user:pass@host:port?protocol=..."""
    parts = urlsplit(url)
    protocol = parse_qs(parts.query).get("protocol", ["5"])[0]
    return Broker(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 1883,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        v5=protocol != "3.1.1",
    )


def new_client(broker: Broker, client_id: str) -> paho.Client:
    """A paho client for this broker (no connection yet)."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5 if broker.v5 else paho.MQTTv311
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.max_queued_messages_set(0)
    return client


def now_iso() -> str:
    """Device time, ISO 8601 UTC."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class SimulatedDevice:
    """One device: its physical state drifts realistically; scenarios push it into faults."""

    device_id: str
    kind: str
    site: str
    rng: random.Random = field(default_factory=random.Random)
    seq: int = 0
    overrides: dict[str, float] = field(default_factory=dict)
    client: paho.Client | None = None
    say: Callable[[str], None] | None = None
    """Told a line for every message published, when someone wants to know (`caretaker simulate SCENARIO`)."""
    sent: list[paho.MQTTMessageInfo] = field(default_factory=list)
    _connected: threading.Event = field(default_factory=threading.Event)

    def connect(self, broker: Broker, password: str | None = None, *, client_suffix: str = "") -> None:
        """Connect with a Last Will of `offline` and announce `online` (retained). With a password the device
        logs in as itself (its id is the username), as a real one does on a broker with per-device ACLs;
        without, it uses the broker URL's login. `client_suffix` gives a second connection of the same device
        its own session, so it does not take over the running fleet's."""
        if password is not None:
            broker = replace(broker, username=self.device_id, password=password)
        client = new_client(broker, f"sim-{self.device_id}{client_suffix}")
        client.will_set(status_topic(self.site, self.device_id), OFFLINE, qos=1, retain=True)
        client.on_connect = self._on_connect
        client.connect_async(broker.host, broker.port, keepalive=15)
        client.loop_start()
        self.client = client

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, *_: Any) -> None:
        if not reason.is_failure:
            client.publish(status_topic(self.site, self.device_id), ONLINE, 1, True)
            self._connected.set()

    def wait_connected(self, timeout: float) -> bool:
        """Whether the broker accepted the connection within `timeout` seconds (blocks: call in a thread)."""
        return self._connected.wait(timeout)

    def wait_sent(self, timeout: float) -> bool:
        """Whether every message published so far reached the broker within `timeout` (blocks)."""
        deadline = time.monotonic() + timeout
        for info in self.sent:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        return all(info.is_published() for info in self.sent)

    def leave_quietly(self) -> None:
        """Disconnect cleanly without announcing `offline`: a clean DISCONNECT suppresses the Last Will, so
        a second connection of a device that is still running does not report it dead."""
        if self.client is None:
            return
        self.client.disconnect()
        self.client.loop_stop()
        self.client = None

    def disconnect(self, *, gracefully: bool = True) -> None:
        """Say `offline` and leave; without grace, drop the socket so the broker fires the Last Will."""
        if self.client is None:
            return
        if gracefully:
            self.client.publish(status_topic(self.site, self.device_id), OFFLINE, 1, True).wait_for_publish(2)
            self.client.disconnect()
        else:
            sock = self.client.socket()
            if sock is not None:
                sock.close()
        self.client.loop_stop()
        self.client = None

    def reading(self, t: float) -> dict[str, float]:
        """Plausible measurements at t seconds since start (daily cycles plus noise), then any overrides."""
        r = self.rng
        day = math.sin(2 * math.pi * t / 86400)
        metrics: dict[str, float]
        if self.kind == "elevator":
            moving = r.random() < 0.4
            metrics = {
                METRIC_FLOOR: float(r.randint(1, 10)),
                METRIC_SPEED: round(r.uniform(1.4, 1.6), 2) if moving else 0.0,
                METRIC_DOOR_OPEN: float(not moving and r.random() < 0.5),
                METRIC_LOAD: float(r.randint(0, 800)),
            }
        elif self.kind == "pump":
            metrics = {
                METRIC_PUMP_RUNNING: 1.0,
                METRIC_FLOW: round(18 + 6 * day + r.gauss(0, 0.5), 1),
                METRIC_CURRENT: round(22 + r.gauss(0, 0.4), 1),
            }
        elif self.kind == "pressure":
            metrics = {METRIC_PRESSURE: round(300 - 40 * day + r.gauss(0, 3), 1)}
        elif self.kind == "tank":
            metrics = {METRIC_TANK_LEVEL: round(65 + 15 * day + r.gauss(0, 0.3), 1)}
        elif self.kind == "leak":
            metrics = {METRIC_LEAK: 0.0}
        elif self.kind == "power":
            metrics = {
                METRIC_VOLTAGE: round(221 + r.gauss(0, 1.5), 1),
                METRIC_FREQUENCY: round(50 + r.gauss(0, 0.02), 2),
                METRIC_CURRENT: round(180 + 60 * day + r.gauss(0, 5), 1),
            }
        else:  # generator on standby
            metrics = {METRIC_VOLTAGE: 0.0, METRIC_FUEL: 92.0}
        metrics.update(self.overrides)
        return metrics

    def publish_telemetry(self, t: float) -> None:
        """Publish one reading (QoS 1)."""
        if self.client is None:
            return
        self.seq += 1
        body = {"ts": now_iso(), "seq": self.seq, "metrics": self.reading(t)}
        topic = telemetry_topic(self.site, self.device_id)
        self._sent(self.client.publish(topic, _encode(body), qos=1))
        if self.say is not None:
            readings = " ".join(f"{k}={v}" for k, v in sorted(body["metrics"].items()))
            self.say(f"published {topic}: {readings}")

    def _sent(self, info: paho.MQTTMessageInfo) -> None:
        # only a device someone listens to keeps its receipts (the fleet publishes for hours)
        if self.say is not None:
            self.sent.append(info)

    def publish_event(self, code: str, state: str = "raised", detail: dict[str, Any] | None = None) -> str:
        """Publish an alarm event; returns its eventId."""
        event_id = str(uuid.uuid4())
        body = {"eventId": event_id, "ts": now_iso(), "code": code, "state": state, "detail": detail or {}}
        if self.client is not None:
            topic = event_topic(self.site, self.device_id)
            self._sent(self.client.publish(topic, _encode(body), qos=1))
            if self.say is not None:
                shown = f" {json.dumps(detail, ensure_ascii=False)}" if detail else ""
                self.say(f"published {topic}: {code} {state} (eventId {event_id}){shown}")
        return event_id


def demo_fleet(site: str = "demo", seed: int | None = None) -> dict[str, SimulatedDevice]:
    """One simulated device per demo estate device."""
    rng = random.Random(seed)
    return {
        device_id: SimulatedDevice(device_id=device_id, kind=kind, site=site, rng=random.Random(rng.random()))
        for device_id, kind in DEMO_DEVICES.items()
    }
