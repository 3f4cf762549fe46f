"""Load mode: R telemetry messages per second for D seconds spread over N devices, from one client."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import msgspec
import paho.mqtt.client as paho

from iot_gateway.contract import telemetry_topic
from simulators.devices import DEMO_DEVICES, Broker, new_client, now_iso

_encode = msgspec.json.Encoder().encode
# Messages are sent in small bursts per tick; 100 ticks a second keeps the rate smooth.
TICK_SECONDS = 0.01


def _wait_until_sent(client: paho.Client, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while client.want_write() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)


@dataclass(frozen=True)
class LoadResult:
    """What was sent, how long it took, and each message's topic order for checking."""

    sent: int
    seconds: float

    @property
    def rate(self) -> float:
        """Messages per second achieved."""
        return self.sent / self.seconds if self.seconds else 0.0


async def run_load(
    broker: Broker,
    *,
    site: str = "demo",
    rate: float,
    duration: float,
    devices: int,
    stop: asyncio.Event | None = None,
) -> LoadResult:
    """Publish `rate` msg/s for `duration` s over `devices` demo devices (ids cycle through the estate's)."""
    ids = [d for d in DEMO_DEVICES if DEMO_DEVICES[d] in ("pressure", "tank", "power", "pump")]
    ids = (ids * (devices // len(ids) + 1))[:devices] if devices > 0 else ids
    client = new_client(broker, f"sim-load-{time.monotonic_ns()}")
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port)
    client.loop_start()
    sent = 0
    seq = 0
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < duration and not (stop and stop.is_set()):
            due = int(elapsed * rate) - sent
            for _ in range(max(0, due)):
                device = ids[sent % len(ids)]
                seq += 1
                body = {"ts": now_iso(), "seq": seq, "metrics": {"pressureKpa": 300.0, "tankLevelPct": 60.0,
                                                                  "voltageV": 221.0}}  # fmt: skip
                client.publish(telemetry_topic(site, device), _encode(body), qos=1)
                sent += 1
            await asyncio.sleep(TICK_SECONDS)
        seconds = time.monotonic() - start
    finally:
        # let the in-flight messages reach the broker before leaving
        await asyncio.to_thread(_wait_until_sent, client)
        client.disconnect()
        client.loop_stop()
    return LoadResult(sent=sent, seconds=seconds)
