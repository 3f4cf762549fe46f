"""Gateway benchmark: telemetry throughput against a bare paho subscriber, and alarm latency under load.

Prints (medians of several runs, the machine is shared and noisy):
- telemetry messages/s stored through the gateway (COPY + state + thresholds, ack after commit) vs. a bare
  paho subscriber draining the same broker's queue, and their ratio;
- alarm latency, publish → work order committed (seen through LISTEN, which fires at commit), p50/p99,
  with a background telemetry load of 1,000 messages/s;
- alarm latency behind a flood of junk (2,000 messages on unknown devices, malformed topics and payloads
  published just before the raise), and how many lines the flood wrote to the gateway's log.

Needs PostgreSQL (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres) and the
`mosquitto` binary; it starts a private Mosquitto on a free port with no queue cap. Load goes to 127.0.0.1.
Usage: python bench/gateway.py [--messages 20000] [--runs 3] [--alarms 40] [--junk 2000] [--only-junk]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.db.migrate import migrate
from backend.db.pool import connect
from backend.db.queries.outbox import STREAM_CHANNEL
from backend.services.seed import seed_demo
from backend.settings import Settings
from iot_gateway.contract import event_topic, telemetry_topic
from iot_gateway.handlers import GatewayCounters
from iot_gateway.runner import run_gateway
from simulators.devices import now_iso

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TELEMETRY_DEVICES = ["pres-1", "pres-2", "tank-1", "tank-2", "mains-1", "mains-2", "pump-1", "pump-2"]
ELEVATOR_CODES = ("ELEVATOR_ENTRAPMENT", "ELEVATOR_STOPPED", "ELEVATOR_DOOR_FAULT", "ELEVATOR_OVERSPEED")
ALARM_SOURCES = [(f"elev-{b}{n}", code) for b in "abc" for n in (1, 2) for code in ELEVATOR_CODES] + [
    ("leak-1", "WATER_LEAK"),
    ("leak-2", "WATER_LEAK"),
    ("pump-1", "PUMP_FAILURE"),
    ("pump-2", "PUMP_FAILURE"),
    ("mains-1", "MAINS_LOSS"),
    ("mains-2", "MAINS_LOSS"),
    ("mains-1", "PHASE_LOSS"),
    ("mains-2", "PHASE_LOSS"),
    ("gen-1", "GENERATOR_FAILURE"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A private broker: persistence, no queue cap, a wide in-flight window."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-mosq-"))
        self.port = free_port()
        conf = self.dir / "m.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "max_queued_messages 0",
            "max_inflight_messages 1000",
            "user root",
        ]
        conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


async def fresh_database() -> tuple[str, str]:
    name = f"bench_gw_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(SERVER_URL)._replace(path=f"/{name}"))
    conn = await connect(url)
    await migrate(conn)
    async with conn.transaction():
        await seed_demo(conn)
    await conn.close()
    return name, url


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def _client(client_id: str, port: int, *, persistent: bool) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    c.max_queued_messages_set(0)
    c.max_inflight_messages_set(1000)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600 if persistent else 0
    c.connect("127.0.0.1", port, clean_start=not persistent, properties=props)
    return c


def preload(port: int, n: int) -> None:
    """Queue n telemetry messages on the broker (for sessions subscribed and offline)."""
    pub = _client(f"bench-pub-{uuid.uuid4().hex[:6]}", port, persistent=False)
    pub.loop_start()
    infos = []
    for i in range(n):
        device = TELEMETRY_DEVICES[i % len(TELEMETRY_DEVICES)]
        body = {
            "ts": now_iso(),
            "seq": i,
            "metrics": {"pressureKpa": 300.0, "tankLevelPct": 60.0},
        }
        infos.append(pub.publish(telemetry_topic("demo", device), msgspec.json.encode(body), qos=1))
    for info in infos:
        info.wait_for_publish(timeout=60)
    pub.disconnect()
    pub.loop_stop()


def bare_drain(port: int, n: int) -> float:
    """msg/s of a bare paho QoS 1 subscriber draining n queued messages."""
    client_id = f"bench-bare-{uuid.uuid4().hex[:6]}"
    subscribed = threading.Event()
    sub = _client(client_id, port, persistent=True)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.loop_start()
    sub.subscribe("caretaker/#", qos=1)
    subscribed.wait(10)
    sub.disconnect()
    sub.loop_stop()
    preload(port, n)
    got = 0
    done = threading.Event()
    first: list[float] = []

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        nonlocal got
        if not first:
            first.append(time.perf_counter())
        got += 1
        if got == n:
            done.set()

    sub = _client(client_id, port, persistent=True)
    sub.on_message = on_message
    start = time.perf_counter()
    sub.loop_start()
    done.wait(300)
    elapsed = time.perf_counter() - start
    sub.disconnect()
    sub.loop_stop()
    return n / elapsed


async def gateway_drain(port: int, db_url: str, n: int) -> float:
    """msg/s stored by the gateway draining n queued messages."""
    # A plain subscription: a persistent session left in the shared group would keep taking its share of
    # later messages while offline (Mosquitto queues them for it), starving the latency run.
    settings = Settings(database_url=db_url, mqtt_url=f"mqtt://127.0.0.1:{port}?shared=false")
    client_id = f"bench-gw-{uuid.uuid4().hex[:6]}"
    stop = asyncio.Event()
    task = asyncio.create_task(run_gateway(settings, stop, client_id=client_id))
    await asyncio.sleep(1.5)  # subscribed
    stop.set()
    await task
    await asyncio.to_thread(preload, port, n)
    counters = GatewayCounters()
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(run_gateway(settings, stop, client_id=client_id, counters=counters))
    while counters.telemetry_stored + counters.telemetry_duplicates < n:  # noqa: ASYNC110 - counters are plain ints
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    return n / elapsed


async def alarm_latency(port: int, db_url: str, samples: int) -> list[float]:
    """Seconds from publishing a raise to the commit of its alarm and work order, under 1,000 msg/s."""
    # The gateway and the telemetry load run as processes of their own, as in production: in this process
    # they would share one event loop (and the GIL) with the measurement and time each other instead.
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": f"mqtt://127.0.0.1:{port}",
        "CARETAKER_MQTT_CLIENT_ID": "bench-latency",
    }
    gateway = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "iot_gateway", env=env, stderr=subprocess.DEVNULL
    )
    await asyncio.sleep(2.0)
    committed: dict[tuple[str, str], float] = {}
    listener = await connect(db_url)

    def on_notify(conn: object, pid: int, channel: str, payload: str) -> None:
        committed_at = time.perf_counter()
        ids.append((int(payload), committed_at))

    ids: list[tuple[int, float]] = []
    await listener.add_listener(STREAM_CHANNEL, on_notify)
    duration = int(samples * 0.25 + 5)
    load = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "simulators.runner", "--rate", "1000", "--duration", str(duration)],
        *["--devices", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(2)
    pub = _client("bench-alarms", port, persistent=False)
    pub.loop_start()
    sent: dict[tuple[str, str], float] = {}
    for device, code in ALARM_SOURCES[:samples]:
        body = {"eventId": str(uuid.uuid4()), "code": code, "state": "raised", "ts": now_iso()}
        sent[(device, code)] = time.perf_counter()
        pub.publish(event_topic("demo", device), msgspec.json.encode(body), qos=1)
        await asyncio.sleep(0.2)
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        rows = await listener.fetch(
            """SELECT id, data->>'deviceId' AS device, data->>'code' AS code FROM stream_events
               WHERE type = 'alarm.raised' AND id = ANY($1::bigint[])""",
            [i for i, _ in ids],
        )
        at = dict(ids)
        for r in rows:
            committed.setdefault((r["device"], r["code"]), at[r["id"]])
        if len(committed) >= len(sent):
            break
        await asyncio.sleep(0.1)
    raised = await listener.fetchval("SELECT count(*) FROM alarms")
    if len(committed) < len(sent):
        missing = len(sent) - len(committed)
        print(f"  ({missing} of {len(sent)} raises not seen committed; alarms in the database: {raised})")
    await load.wait()
    pub.disconnect()
    pub.loop_stop()
    await listener.close()
    gateway.terminate()
    await gateway.wait()
    return sorted(committed[k] - sent[k] for k in sent if k in committed)


def junk_messages(n: int) -> list[tuple[str, bytes]]:
    """A flood of what a gateway must drop: unknown devices (on event topics too), topics outside the
    contract, and unreadable payloads from real devices."""
    raise_body = b'{"eventId": "junk", "code": "ELEVATOR_ENTRAPMENT", "state": "raised"}'
    kinds = [
        lambda i: (event_topic("demo", f"ghost-{i}"), raise_body),
        lambda i: (f"caretaker/junk/{i}", b"{}"),
        lambda i: (telemetry_topic("demo", f"ghost-{i}"), b'{"ts": "x", "metrics": {}}'),
        lambda i: (telemetry_topic("demo", "pres-1"), b"\x00\xff not json"),
    ]
    return [kinds[i % len(kinds)](i) for i in range(n)]


def publish_junk_then_alarm(port: int, junk: int, device: str, code: str) -> bytes:
    """Publish a flood from a client of its own (as from other devices), then a raise from the device's
    client once the broker holds the flood: the raise is behind the junk on the way to every subscriber.
    Returns the raise's payload."""
    flooder = _client(f"bench-flood-{uuid.uuid4().hex[:6]}", port, persistent=False)
    flooder.loop_start()
    for info in [flooder.publish(topic, payload, qos=1) for topic, payload in junk_messages(junk)]:
        info.wait_for_publish(timeout=60)
    flooder.disconnect()
    flooder.loop_stop()
    body = msgspec.json.encode({"eventId": str(uuid.uuid4()), "code": code, "state": "raised"})
    pub = _client(f"bench-device-{uuid.uuid4().hex[:6]}", port, persistent=False)
    pub.loop_start()
    pub.publish(event_topic("demo", device), body, qos=1).wait_for_publish(timeout=10)
    pub.disconnect()
    pub.loop_stop()
    return body


# The baseline: a bare paho subscriber (QoS 1, auto ack) in a process of its own, so that it can be held
# with SIGSTOP like the gateway. It prints the wall-clock time at which each raise of a real device arrives.
BARE_SUBSCRIBER = """
import sys, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare-junk", protocol=paho.MQTTv5)
c.on_subscribe = lambda *a: print("subscribed", flush=True)
def on_message(client, userdata, m):
    if m.topic.endswith("/event") and "ghost" not in m.topic:
        print(time.time(), m.payload.decode(), flush=True)
c.on_message = on_message
c.connect("127.0.0.1", int(sys.argv[1]))
c.subscribe("caretaker/#", qos=1)
c.loop_forever()
"""


async def _held_while_flooded(
    process: asyncio.subprocess.Process, port: int, junk: int, source: tuple[str, str]
) -> bytes:
    """Hold the process (SIGSTOP) while the flood and the raise reach the broker, then let it go on."""
    process.send_signal(signal.SIGSTOP)
    try:
        return await asyncio.to_thread(publish_junk_then_alarm, port, junk, *source)
    finally:
        process.send_signal(signal.SIGCONT)


async def alarm_behind_junk(port: int, db_url: str, junk: int, samples: int) -> tuple[list[float], int]:
    """Seconds from a running gateway finding `junk` junk messages and then a raise waiting for it, to the
    raise's alarm committed; and the gateway's log lines about dropped messages over all the floods (its
    log goes to a file, as under systemd)."""
    log_path = Path(tempfile.mkdtemp(prefix="bench-gw-log-")) / "gateway.log"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": f"mqtt://127.0.0.1:{port}?shared=false",
        "CARETAKER_MQTT_CLIENT_ID": f"bench-junk-{uuid.uuid4().hex[:6]}",
    }
    with log_path.open("wb") as log_file:
        gateway = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "iot_gateway", env=env, stdout=log_file, stderr=log_file
        )
    await asyncio.sleep(2.0)  # connected and subscribed
    listener = await connect(db_url)
    latencies = []
    try:
        for device, code in ALARM_SOURCES[:samples]:
            await _held_while_flooded(gateway, port, junk, (device, code))
            released = time.perf_counter()
            deadline = released + 60
            while time.perf_counter() < deadline:
                if await listener.fetchval(
                    "SELECT count(*) FROM alarms WHERE device_id = $1 AND code = $2 AND open", device, code
                ):
                    latencies.append(time.perf_counter() - released)
                    break
                await asyncio.sleep(0.002)
            await asyncio.sleep(1.0)  # the rest of the flood drains before the next one
    finally:
        await listener.close()
        gateway.terminate()
        await gateway.wait()
    lines = sum(1 for line in log_path.read_bytes().splitlines() if b"dropped" in line)
    return latencies, lines


async def bare_behind_junk(port: int, junk: int, samples: int) -> list[float]:
    """The same floods and raises for the bare subscriber: seconds from its release to the raise's arrival,
    what the broker and paho cost without a gateway."""
    bare = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BARE_SUBSCRIBER, str(port), stdout=subprocess.PIPE
    )
    assert bare.stdout is not None
    await bare.stdout.readline()  # subscribed
    latencies = []
    try:
        for device, code in ALARM_SOURCES[:samples]:
            body = await _held_while_flooded(bare, port, junk, (device, code))
            released = time.time()
            while True:
                arrived, _, payload = (
                    (await asyncio.wait_for(bare.stdout.readline(), 60)).decode().partition(" ")
                )
                if payload.strip() == body.decode():
                    latencies.append(float(arrived) - released)
                    break
            await asyncio.sleep(1.0)
    finally:
        bare.terminate()
        await bare.wait()
    return latencies


def pct(values: list[float], p: float) -> float:
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return sorted(values)[k]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--alarms", type=int, default=len(ALARM_SOURCES))
    parser.add_argument("--junk", type=int, default=2000)
    parser.add_argument("--only-junk", action="store_true", help="only the alarm-behind-junk figure")
    args = parser.parse_args()
    junk_latencies, junk_bare, junk_lines = [], [], []
    for _ in range(args.runs):
        broker = Mosquitto()
        name, url = await fresh_database()
        try:
            junk_bare.extend(await bare_behind_junk(broker.port, args.junk, samples=5))
            found, lines = await alarm_behind_junk(broker.port, url, args.junk, samples=5)
            junk_latencies.extend(found)
            junk_lines.append(lines)
        finally:
            await drop_database(name)
            broker.stop()
    through_ms, bare_ms = statistics.median(junk_latencies) * 1000, statistics.median(junk_bare) * 1000
    print(f"an alarm waiting behind {args.junk:,} junk messages, median of {len(junk_latencies)} (max):")
    print(f"  gateway released -> alarm committed: {through_ms:.0f} ms ({max(junk_latencies) * 1000:.0f})")
    print(
        f"  bare paho subscriber released -> raise received: {bare_ms:.0f} ms ({max(junk_bare) * 1000:.0f})"
    )
    print(f"  the gateway's log lines about dropped messages, per run of 5 floods: {junk_lines}")
    if args.only_junk:
        return
    bare, through, latencies = [], [], []
    for run in range(args.runs):
        # A broker per run: every persistent session of a run is subscribed to caretaker/#, so a broker kept
        # across runs would queue each run's 2 x messages for the next run's latency gateway to wade through.
        broker = Mosquitto()
        name, url = await fresh_database()
        try:
            bare.append(await asyncio.to_thread(bare_drain, broker.port, args.messages))
            through.append(await gateway_drain(broker.port, url, args.messages))
            latencies.extend(await alarm_latency(broker.port, url, args.alarms))
        finally:
            await drop_database(name)
            broker.stop()
        print(f"run {run + 1}: bare {bare[-1]:,.0f} msg/s, gateway {through[-1]:,.0f} msg/s", flush=True)
    b, g = statistics.median(bare), statistics.median(through)
    print(f"telemetry, {args.messages:,} queued messages, median of {args.runs} runs:")
    print(f"  bare paho subscriber (QoS 1, auto ack): {b:,.0f} msg/s")
    print(f"  through the gateway (stored, ack after commit): {g:,.0f} msg/s")
    print(f"  ratio gateway / bare: {g / b:.2f}")
    print(f"alarm latency publish -> work order committed, 1,000 msg/s telemetry load, n={len(latencies)}:")
    print(f"  p50 {pct(latencies, 50) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
