"""Benchmark: alarm end to end — MQTT publish of a raise → a guard's SSE client receives `alarm.raised`.

Starts a private Mosquitto (max_queued_messages 0) on a free port, a fresh database (migrated, demo estate),
the real gateway process (`caretaker gateway`) and a real API process (uvicorn, the SSE stream), and a
background telemetry load from the simulators' load mode (`caretaker simulate --rate 1000`). Then publishes
alarm raises one at a time (each cleared again before its device's next turn, so every raise is a new
`alarm.raised`) and times two observers of the same publish in this process:
- the guard's live stream, GET /api/v1/stream as guard1 (the whole path: broker, gateway, commit, LISTEN,
  hub, HTTP);
- the baseline: a bare paho subscriber on the same broker (the broker hop only).
The same number of raises is timed first with no telemetry at all (the same-run idle baseline), and the
gateway's CPU per telemetry message is read over the loaded phase (CPU time / rows stored).
Prints p50/p99 of each and the ratio; stops every process by PID and drops the database.

    .venv/bin/python bench/alarm_latency.py [--quick] [--alarms 100] [--rate 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import msgspec
import paho.mqtt.client as paho
import psutil
import stack
from paho.mqtt.enums import CallbackAPIVersion
from stack import (
    Process,
    caretaker_env,
    create_demo_database,
    drop_database,
    load_average,
    running,
    start_mosquitto,
    start_uvicorn,
)

from iot_gateway.contract import event_topic

CARETAKER = str(Path(sys.executable).with_name("caretaker"))
# Devices of the demo estate and an alarm code each of them may raise.
SOURCES = [(f"elev-{b}{n}", "ELEVATOR_STOPPED") for b in "abc" for n in (1, 2)] + [
    ("leak-1", "WATER_LEAK"),
    ("leak-2", "WATER_LEAK"),
    ("pump-1", "PUMP_FAILURE"),
    ("pump-2", "PUMP_FAILURE"),
    ("mains-1", "MAINS_LOSS"),
    ("mains-2", "MAINS_LOSS"),
    ("gen-1", "GENERATOR_FAILURE"),
]
SEEN_TIMEOUT = 15.0


class Sightings:
    """When each observer first saw (device, code) after a given moment; written from two threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, list[tuple[str, str, float]]] = {"stream": [], "broker": []}

    def add(self, observer: str, device: str, code: str) -> None:
        """Record a sighting now."""
        at = time.perf_counter()
        with self._lock:
            self._seen[observer].append((device, code, at))

    def first_after(self, observer: str, device: str, code: str, since: float) -> float | None:
        """The first sighting of (device, code) at or after `since`."""
        with self._lock:
            return next(
                (t for d, c, t in self._seen[observer] if d == device and c == code and t >= since), None
            )


def message(code: str, state: str) -> bytes:
    """A device event as the contract has it."""
    body = {"eventId": str(uuid.uuid4()), "code": code, "state": state, "ts": datetime.now(UTC).isoformat()}
    return msgspec.json.encode(body)


def mqtt_client(port: int, name: str) -> paho.Client:
    """A connected MQTT v5 client with its network loop running."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:6]}", protocol=paho.MQTTv5
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def bare_subscriber(port: int, sightings: Sightings) -> paho.Client:
    """The baseline observer: a plain QoS 1 subscriber to every device's event topic."""
    subscribed = threading.Event()

    def on_message(client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        body = json.loads(msg.payload)
        if body.get("state") == "raised":
            sightings.add("broker", msg.topic.split("/")[2], body["code"])

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
                         protocol=paho.MQTTv5)  # fmt: skip
    client.on_message = on_message
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe(event_topic("demo", "+"), qos=1)
    if not subscribed.wait(10):
        raise RuntimeError("the bare subscriber was not subscribed within 10 s")
    return client


async def guard_stream(base_url: str, token: str, sightings: Sightings, connected: asyncio.Event) -> None:
    """Read the guard's SSE stream and record each `alarm.raised` as it arrives."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, read=None)) as http,
        http.stream("GET", "/api/v1/stream", headers=headers) as response,
    ):
        response.raise_for_status()
        connected.set()
        event, data = None, []
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data.append(line.partition(":")[2].strip())
            elif line == "":
                if event == "alarm.raised" and data:
                    alarm = json.loads("\n".join(data))
                    sightings.add("stream", alarm["deviceId"], alarm["code"])
                event, data = None, []


async def raise_and_time(
    publisher: paho.Client, sightings: Sightings, device: str, code: str
) -> tuple[float, float]:
    """Publish one raise, wait for both observers, clear it; (stream seconds, broker seconds)."""
    sent = time.perf_counter()
    publisher.publish(event_topic("demo", device), message(code, "raised"), qos=1)
    deadline = sent + SEEN_TIMEOUT
    stream = broker = None
    while time.perf_counter() < deadline:
        stream = sightings.first_after("stream", device, code, sent)
        broker = sightings.first_after("broker", device, code, sent)
        if stream is not None and broker is not None:
            break
        await asyncio.sleep(0.002)
    publisher.publish(event_topic("demo", device), message(code, "cleared"), qos=1)
    if stream is None or broker is None:
        raise RuntimeError(
            f"{device} {code}: not seen within {SEEN_TIMEOUT} s (stream {stream}, broker {broker})"
        )
    return stream - sent, broker - sent


def pct(samples: list[float], p: float) -> float:
    """Percentile in ms (nearest rank)."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))] * 1000


async def measure(args: argparse.Namespace) -> tuple[list[float], list[float], list[float], float]:
    """Bring the system up, time the raises; (stream latencies under load, broker latencies under load,
    stream latencies idle) in seconds, and the gateway's CPU µs per telemetry message under load."""
    name, db_url = await create_demo_database("ct_bench_alarm")
    try:
        with ExitStack() as stack:
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-alarm-"))
            broker, port, _ = start_mosquitto()
            stack.enter_context(running(broker))
            mqtt_url = f"mqtt://127.0.0.1:{port}"
            env = {**caretaker_env(db_url, data_dir), "MQTT_URL": mqtt_url}
            gateway = stack.enter_context(running(Process("gateway", [CARETAKER, "gateway"], env)))
            api = stack.enter_context(running(start_uvicorn("api", "caretaker", env, "/health")))
            async with httpx.AsyncClient(base_url=api.base_url) as http:
                r = await http.post("/api/v1/auth/login", json={"username": "guard1", "password": "demo1234"})
                r.raise_for_status()
            sightings = Sightings()
            bare = bare_subscriber(port, sightings)
            stack.callback(bare.loop_stop)
            stack.callback(bare.disconnect)
            publisher = mqtt_client(port, "bench-alarms")
            stack.callback(publisher.loop_stop)
            stack.callback(publisher.disconnect)
            connected = asyncio.Event()
            reader = asyncio.create_task(guard_stream(api.base_url, r.json()["token"], sightings, connected))
            try:
                await asyncio.wait_for(connected.wait(), 15)
                # the first raise also proves the gateway is subscribed (it may take a moment to connect)
                for _ in range(30):
                    try:
                        await raise_and_time(publisher, sightings, *SOURCES[0])
                        break
                    except RuntimeError:
                        continue
                # the same-run baseline: the same raises with no telemetry at all
                idle = []
                for i in range(args.alarms):
                    s, _ = await raise_and_time(publisher, sightings, *SOURCES[(i + 1) % len(SOURCES)])
                    idle.append(s)
                    await asyncio.sleep(0.1)
                seconds = args.alarms * 0.5 + 30
                load = [CARETAKER, "simulate", "--rate", str(args.rate), "--duration", str(seconds),
                        "--devices", "8", "--mqtt-url", mqtt_url]  # fmt: skip
                stack.enter_context(running(Process("telemetry-load", load)))
                await asyncio.sleep(3)
                cpu_before, stored_before = await gateway_cost(gateway.pid, db_url)
                stream, broker_hop = [], []
                for i in range(args.alarms):
                    s, b = await raise_and_time(publisher, sightings, *SOURCES[(i + 1) % len(SOURCES)])
                    stream.append(s)
                    broker_hop.append(b)
                    await asyncio.sleep(0.1)
                cpu_after, stored_after = await gateway_cost(gateway.pid, db_url)
                cost = (cpu_after - cpu_before) / max(1, stored_after - stored_before) * 1e6
                print(f"load average at the end of the raises: {load_average()}", flush=True)
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
    finally:
        await drop_database(name)
    return stream, broker_hop, idle, cost


async def gateway_cost(pid: int, db_url: str) -> tuple[float, int]:
    """The gateway's CPU seconds so far and the telemetry rows stored so far: their ratio between two
    moments is the gateway's CPU per message, a figure the machine's other load hardly moves."""
    times = psutil.Process(pid).cpu_times()
    conn = await asyncpg.connect(db_url)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM telemetry")
    finally:
        await conn.close()
    return times.user + times.system, stored


def main() -> None:
    """Parse arguments, measure, print the figures and the RESULT line."""
    parser = stack.argument_parser(__doc__, "20 raises")
    parser.add_argument("--alarms", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000, help="background telemetry messages per second")
    args = parser.parse_args()
    if args.quick:
        args.alarms = 20
    print(f"load average before: {load_average()}", flush=True)
    stream, broker_hop, idle, cost = asyncio.run(measure(args))
    result = {
        "bench": "alarm_latency",
        "alarms": len(stream),
        "telemetry_rate": args.rate,
        "stream_p50_ms": round(pct(stream, 50), 1),
        "stream_p99_ms": round(pct(stream, 99), 1),
        "idle_p50_ms": round(pct(idle, 50), 1),
        "idle_p99_ms": round(pct(idle, 99), 1),
        "broker_p50_ms": round(pct(broker_hop, 50), 2),
        "broker_p99_ms": round(pct(broker_hop, 99), 2),
        "gateway_cpu_us_per_msg": round(cost),
        "load": load_average(),
    }
    result["p50_ratio"] = round(statistics.median(stream) / statistics.median(broker_hop), 1)
    print(f"alarm raise → guard's SSE alarm.raised, {len(stream)} raises, {args.rate} telemetry msg/s:")
    print(
        f"  through Caretaker   p50 {result['stream_p50_ms']:8.1f} ms   p99 {result['stream_p99_ms']:8.1f} ms"
    )
    print(f"  idle (no telemetry) p50 {result['idle_p50_ms']:8.1f} ms   p99 {result['idle_p99_ms']:8.1f} ms")
    print(
        f"  bare paho (broker)  p50 {result['broker_p50_ms']:8.1f} ms   p99 {result['broker_p99_ms']:8.1f} ms"
    )
    print(f"  ratio (p50): {result['p50_ratio']}×")
    print(f"  gateway CPU per telemetry message under load: {result['gateway_cpu_us_per_msg']} µs")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
