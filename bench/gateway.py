"""Gateway benchmark: telemetry throughput against a bare paho subscriber, and alarm latency under load.

Prints (medians of several runs, the machine is shared and noisy):
- telemetry messages/s stored through the gateway (COPY + state + thresholds, ack after commit) vs. a bare
  paho subscriber draining the same broker's queue, and their ratio;
- alarm latency, publish → work order committed (seen through LISTEN, which fires at commit), p50/p99,
  with a background telemetry load of 1,000 messages/s;
- alarm latency behind a flood of junk (2,000 messages on unknown devices, malformed topics and payloads
  published just before the raise), and how many lines the flood wrote to the gateway's log;
- alarm latency behind a backlog of telemetry (10,000 good readings queued just before the raise while the
  gateway was held): what an alarm waits when the gateway is behind the telemetry rate.

Needs PostgreSQL (TEST_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres) and the
`mosquitto` binary; it starts a private Mosquitto on a free port with no queue cap. Load goes to 127.0.0.1.
Usage: python bench/gateway.py [--messages 20000] [--runs 3] [--alarms 40] [--junk 2000] [--backlog 10000]
                               [--only-floods]   (only the two alarm-behind-a-flood figures)
       python bench/gateway.py --backlog-only --messages 200000 --runs 1   (the backlog curve, with RSS)
       python bench/gateway.py --shared-only --messages 20000   (one gateway process against two)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
from collections.abc import Callable
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
from simulators.devices import DEMO_ALARM_SOURCES, now_iso

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TELEMETRY_DEVICES = ["pres-1", "pres-2", "tank-1", "tank-2", "mains-1", "mains-2", "pump-1", "pump-2"]
ALARM_SOURCES = DEMO_ALARM_SOURCES
# Raises timed before the telemetry load starts: the same-run idle baseline of the alarm latency.
IDLE_RAISES = 10
# Messages the publisher queues before waiting for their PUBACKs (its in-flight window is 1,000).
PRELOAD_WINDOW = 1000


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
    # In windows: paho walks its whole outgoing queue on every PUBACK once its in-flight window is full,
    # so queueing all n at once costs O(n²) (200,000 messages did not finish in 15 minutes).
    for start in range(0, n, PRELOAD_WINDOW):
        infos = []
        for i in range(start, min(n, start + PRELOAD_WINDOW)):
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


def rss_mib() -> float:
    """This process's resident set size now (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# RSS of this process sampled while the gateway drains: (before the gateway started, highest during the drain)
DRAIN_RSS: list[tuple[float, float]] = []


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
    before = highest = rss_mib()
    start = time.perf_counter()
    task = asyncio.create_task(run_gateway(settings, stop, client_id=client_id, counters=counters))
    while counters.telemetry_stored + counters.telemetry_duplicates < n:
        await asyncio.sleep(0.01)
        highest = max(highest, rss_mib())
    elapsed = time.perf_counter() - start
    DRAIN_RSS.append((before, highest))
    stop.set()
    await task
    return n / elapsed


async def _time_raises(
    pub: paho.Client,
    listener: asyncpg.Connection,
    ids: list[tuple[int, float]],
    sources: list[tuple[str, str]],
) -> list[float]:
    """Publish a raise from each source, 0.2 s apart; seconds from each publish to its commit (as NOTIFY
    reported it), for those committed within 30 s of the last."""
    committed: dict[tuple[str, str], float] = {}
    sent: dict[tuple[str, str], float] = {}
    for device, code in sources:
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
        if all(k in committed for k in sent):
            break
        await asyncio.sleep(0.1)
    missing = sum(1 for k in sent if k not in committed)
    if missing:
        raised = await listener.fetchval("SELECT count(*) FROM alarms")
        print(f"  ({missing} of {len(sent)} raises not seen committed; alarms in the database: {raised})")
    return sorted(committed[k] - sent[k] for k in sent if k in committed)


async def alarm_latency(port: int, db_url: str, samples: int) -> tuple[list[float], list[float]]:
    """Seconds from publishing a raise to the commit of its alarm and work order, under 1,000 msg/s; and
    the same for up to 10 other devices' raises before the load starts (the same-run idle baseline)."""
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
    listener = await connect(db_url)

    def on_notify(conn: object, pid: int, channel: str, payload: str) -> None:
        committed_at = time.perf_counter()
        ids.append((int(payload), committed_at))

    ids: list[tuple[int, float]] = []
    await listener.add_listener(STREAM_CHANNEL, on_notify)
    pub = _client("bench-alarms", port, persistent=False)
    pub.loop_start()
    # the last ten devices give the idle baseline, the others (up to `samples`) the loaded figure
    idle = await _time_raises(pub, listener, ids, ALARM_SOURCES[-IDLE_RAISES:])
    duration = int(samples * 0.25 + 5)
    load = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "simulators.runner", "--rate", "1000", "--duration", str(duration)],
        *["--devices", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(2)
    loaded = await _time_raises(
        pub, listener, ids, ALARM_SOURCES[: min(samples, len(ALARM_SOURCES) - IDLE_RAISES)]
    )
    await load.wait()
    pub.disconnect()
    pub.loop_stop()
    await listener.close()
    gateway.terminate()
    await gateway.wait()
    return loaded, idle


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


# Sequence numbers of the backlog readings: increasing across floods, so none is taken for a redelivery.
_backlog_seq = itertools.count(1)


def backlog_messages(n: int) -> list[tuple[str, bytes]]:
    """Good readings of real devices (normal values, no threshold crossed): a gateway behind the rate."""
    return [
        (
            telemetry_topic("demo", TELEMETRY_DEVICES[i % len(TELEMETRY_DEVICES)]),
            msgspec.json.encode(
                {
                    "ts": now_iso(),
                    "seq": next(_backlog_seq),
                    "metrics": {"pressureKpa": 300.0, "tankLevelPct": 60.0},
                }
            ),
        )
        for i in range(n)
    ]


Flood = list[tuple[str, bytes]]


def publish_flood_then_alarm(port: int, flood: Flood, device: str, code: str) -> bytes:
    """Publish a flood from a client of its own (as from other devices), then a raise from the device's
    client once the broker holds the flood: the raise is behind the flood on the way to every subscriber.
    Returns the raise's payload."""
    flooder = _client(f"bench-flood-{uuid.uuid4().hex[:6]}", port, persistent=False)
    flooder.loop_start()
    for start in range(0, len(flood), PRELOAD_WINDOW):  # in windows, as preload() does
        for info in [flooder.publish(t, p, qos=1) for t, p in flood[start : start + PRELOAD_WINDOW]]:
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
    process: asyncio.subprocess.Process, port: int, flood: Flood, source: tuple[str, str]
) -> bytes:
    """Hold the process (SIGSTOP) while the flood and the raise reach the broker, then let it go on."""
    process.send_signal(signal.SIGSTOP)
    try:
        return await asyncio.to_thread(publish_flood_then_alarm, port, flood, *source)
    finally:
        process.send_signal(signal.SIGCONT)


async def _drained(listener: asyncpg.Connection) -> None:
    """Wait until the gateway has stored the rest of a flood (the telemetry count holds still for a second),
    so that each raise waits behind one flood, not behind what is left of the ones before."""
    last = -1
    while (count := await listener.fetchval("SELECT count(*) FROM telemetry")) != last:
        last = count
        await asyncio.sleep(1.0)


async def alarm_behind_flood(
    port: int, db_url: str, flood: Callable[[], Flood], samples: int
) -> tuple[list[float], int]:
    """Seconds from a running gateway finding a flood (`flood()`) and then a raise waiting for it, to the
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
            await _held_while_flooded(gateway, port, flood(), (device, code))
            released = time.perf_counter()
            deadline = released + 60
            while time.perf_counter() < deadline:
                if await listener.fetchval(
                    "SELECT count(*) FROM alarms WHERE device_id = $1 AND code = $2 AND open", device, code
                ):
                    latencies.append(time.perf_counter() - released)
                    break
                await asyncio.sleep(0.002)
            await _drained(listener)
    finally:
        await listener.close()
        gateway.terminate()
        await gateway.wait()
    lines = sum(1 for line in log_path.read_bytes().splitlines() if b"dropped" in line)
    return latencies, lines


async def bare_behind_flood(port: int, flood: Callable[[], Flood], samples: int) -> list[float]:
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
            body = await _held_while_flooded(bare, port, flood(), (device, code))
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


async def backlog_only(messages: int, runs: int) -> None:
    """The drain of a queued backlog: bare subscriber and gateway msg/s, and this process's RSS while the
    gateway (which runs in it) drains."""
    bare, through = [], []
    for _ in range(runs):
        broker = Mosquitto()
        name, url = await fresh_database()
        try:
            bare.append(await asyncio.to_thread(bare_drain, broker.port, messages))
            through.append(await gateway_drain(broker.port, url, messages))
        finally:
            await drop_database(name)
            broker.stop()
    b, g = statistics.median(bare), statistics.median(through)
    before, highest = DRAIN_RSS[-1]
    print(
        f"backlog {messages:,}: bare {b:,.0f} msg/s, gateway {g:,.0f} msg/s, ratio {g / b:.2f}; "
        f"RSS before the gateway {before:.0f} MiB, highest while it drains {highest:.0f} MiB; "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


async def processes_drain(port: int, db_url: str, n: int, processes: int) -> float:
    """msg/s stored by `processes` gateway processes on the shared subscription draining n queued messages."""
    env = {**os.environ, "DATABASE_URL": db_url, "MQTT_URL": f"mqtt://127.0.0.1:{port}"}
    ids = [f"bench-share-{uuid.uuid4().hex[:6]}" for _ in range(processes)]

    async def start() -> list[asyncio.subprocess.Process]:
        return [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "iot_gateway",
                env={**env, "CARETAKER_MQTT_CLIENT_ID": client_id},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for client_id in ids
        ]

    async def stop(gateways: list[asyncio.subprocess.Process]) -> None:
        for gateway in gateways:
            gateway.terminate()
        for gateway in gateways:
            await gateway.wait()

    # join the share group, leave (the sessions persist and the broker queues their shares), queue the backlog
    first = await start()
    await asyncio.sleep(3.0)
    await stop(first)
    await asyncio.to_thread(preload, port, n)
    db = await connect(db_url)
    try:
        start_at = time.perf_counter()
        gateways = await start()
        stored = 0
        while stored < n:
            await asyncio.sleep(0.05)
            stored = await db.fetchval("SELECT count(*) FROM telemetry")
        elapsed = time.perf_counter() - start_at
        await stop(gateways)
    finally:
        await db.close()
    return n / elapsed


async def shared_only(messages: int) -> None:
    """One gateway process against two on the shared subscription, each draining the same backlog."""
    rates = {}
    for processes in (1, 2):
        broker = Mosquitto()
        name, url = await fresh_database()
        try:
            rates[processes] = await processes_drain(broker.port, url, messages, processes)
        finally:
            await drop_database(name)
            broker.stop()
    print(
        f"backlog {messages:,} on the shared subscription: one gateway process {rates[1]:,.0f} msg/s, "
        f"two {rates[2]:,.0f} msg/s, ratio {rates[2] / rates[1]:.2f}; "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--alarms", type=int, default=len(ALARM_SOURCES))
    parser.add_argument("--junk", type=int, default=2000)
    parser.add_argument("--backlog", type=int, default=10000, help="telemetry readings queued before a raise")
    parser.add_argument(
        "--only-floods", action="store_true", help="only the two alarm-behind-a-flood figures"
    )
    parser.add_argument(
        "--backlog-only",
        action="store_true",
        help="only the queued-backlog drain (bare subscriber and gateway) at --messages, with RSS",
    )
    parser.add_argument(
        "--shared-only",
        action="store_true",
        help="only the backlog drain by one gateway process against two on the shared subscription",
    )
    args = parser.parse_args()
    if args.shared_only:
        await shared_only(args.messages)
        return
    if args.backlog_only:
        await backlog_only(args.messages, args.runs)
        return
    floods = {
        f"{args.junk:,} junk messages": lambda: junk_messages(args.junk),
        f"{args.backlog:,} queued telemetry readings": lambda: backlog_messages(args.backlog),
    }
    for what, flood in floods.items():
        found, bare_found, log_lines = [], [], []
        for _ in range(args.runs):
            broker = Mosquitto()
            name, url = await fresh_database()
            try:
                bare_found.extend(await bare_behind_flood(broker.port, flood, samples=5))
                latencies, lines = await alarm_behind_flood(broker.port, url, flood, samples=5)
                found.extend(latencies)
                log_lines.append(lines)
            finally:
                await drop_database(name)
                broker.stop()
        through_ms, bare_ms = statistics.median(found) * 1000, statistics.median(bare_found) * 1000
        print(f"an alarm waiting behind {what}, median of {len(found)} (max):")
        print(f"  gateway released -> alarm committed: {through_ms:.0f} ms ({max(found) * 1000:.0f})")
        bare_max = max(bare_found) * 1000
        print(f"  bare paho subscriber released -> raise received: {bare_ms:.0f} ms ({bare_max:.0f})")
        print(f"  the gateway's log lines about dropped messages, per run of 5 floods: {log_lines}")
    if args.only_floods:
        return
    bare, through, latencies, idle = [], [], [], []
    for run in range(args.runs):
        # A broker per run: every persistent session of a run is subscribed to caretaker/#, so a broker kept
        # across runs would queue each run's 2 x messages for the next run's latency gateway to wade through.
        broker = Mosquitto()
        name, url = await fresh_database()
        try:
            bare.append(await asyncio.to_thread(bare_drain, broker.port, args.messages))
            through.append(await gateway_drain(broker.port, url, args.messages))
            loaded, quiet = await alarm_latency(broker.port, url, args.alarms)
            latencies.extend(loaded)
            idle.extend(quiet)
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
    if idle:
        print(f"  idle baseline, same gateway before the load, n={len(idle)}:")
        print(f"  idle p50 {pct(idle, 50) * 1000:.0f} ms, idle p99 {pct(idle, 99) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
