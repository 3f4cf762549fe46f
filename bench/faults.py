"""Fault injection: under a steady load of alarms and field actions, kill or restart each part in turn, then
count what was lost and what was applied twice.

Everything runs privately on 127.0.0.1 and free ports: an embedded PostgreSQL 16 (its own data dir, so
restarting it disturbs nobody), a Mosquitto with persistence and no queue cap, two `caretaker api`
processes and one gateway process. The load:
- device events over MQTT (QoS 1, unique eventIds, raise/clear pairs on 18 (device, code) pairs), so alarms
  and emergency work orders are created;
- field actions over HTTP from several "phones": intake, assign, accept, depart, arrive, pause, resume, each
  with its own Idempotency-Key, sent to the two API processes in turn and repeated with the same key on a
  connection error, a timeout or a 5xx until answered (what the PWA's outbox does).
The phases: baseline (no fault), SIGKILL of the gateway (then restarted), SIGKILL of an API process
(restarted), Mosquitto restarted, PostgreSQL restarted. Per phase it prints events sent / recorded / lost /
duplicated and actions sent / recorded / lost / duplicated, then `RESULT {json}`. Exit status 1 when anything
was lost or duplicated.

Usage: python bench/faults.py [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.db.migrate import migrate  # noqa: E402
from backend.db.pool import connect  # noqa: E402
from backend.embedded import EmbeddedPostgres, free_port  # noqa: E402
from backend.services.seed import seed_demo  # noqa: E402
from iot_gateway.contract import event_topic  # noqa: E402
from tests.conftest import DEMO_PASSWORD  # noqa: E402
from tests.gateway.conftest import GatewayProcess, PrivateBroker, Publisher  # noqa: E402
from tests.integration.replicas import ApiReplica, NoAnswer, OutboxClient, api_env  # noqa: E402

SECRET = "faults-bench-secret-key-0123456789abcdef"
WORK_ORDERS = "/api/v1/work-orders"
ELEVATORS = ["elev-a1", "elev-a2", "elev-b1", "elev-b2", "elev-c1", "elev-c2"]
# (device, code): every code here opens an emergency or repair work order when raised
ALARM_PAIRS = [(d, c) for d in ELEVATORS for c in ("ELEVATOR_ENTRAPMENT", "ELEVATOR_DOOR_FAULT")] + [
    ("leak-1", "WATER_LEAK"),
    ("leak-2", "WATER_LEAK"),
    ("pump-1", "PUMP_FAILURE"),
    ("pump-2", "PUMP_FAILURE"),
    ("mains-1", "PHASE_LOSS"),
    ("mains-2", "PHASE_LOSS"),
]
# (phone's technician, building): each phone works its own technician and building
PHONES = [("tech1", "A"), ("tech2", "B"), ("tech3", "C"), ("tech1", "B")]
FIELD_ACTIONS = ("assign", "accept", "depart", "arrive", "pause", "resume")
UNITS = [f"{floor}0{n}" for floor in range(1, 11) for n in range(1, 5)]


@dataclass(frozen=True)
class Profile:
    """How hard and how long."""

    phase_seconds: float
    events_per_second: float
    phones: int
    down_seconds: float


QUICK = Profile(phase_seconds=10, events_per_second=30, phones=3, down_seconds=2)
FULL = Profile(phase_seconds=25, events_per_second=50, phones=4, down_seconds=3)


@dataclass
class Phase:
    """The phase the load is in; what is sent is labelled with it."""

    name: str = "baseline"


@dataclass
class SentAction:
    """One field action as the phone saw it: its key, its work order and the final answer."""

    phase: str
    key: str
    action: str
    create_key: str
    work_order_id: str | None = None
    status: int | None = None


class EventLoad:
    """Publishes device events at a steady rate from a thread; remembers each eventId by phase."""

    def __init__(self, port: int, phase: Phase, rate: float) -> None:
        # a persistent session and an unlimited local queue: what is published while the broker is away
        # is sent when it is back, as a real device's client library does
        self.publisher = Publisher(port, "faults-devices", persistent=True)
        self.phase = phase
        self.rate = rate
        self.sent: dict[str, list[str]] = defaultdict(list)
        self.acked = 0
        self.publisher.client.on_publish = self._on_puback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-load", daemon=True)

    def _on_puback(self, client: object, userdata: object, mid: int, *rest: object) -> None:
        # paho's network thread is the only writer
        self.acked += 1

    def start(self) -> None:
        """Begin publishing."""
        self._thread.start()

    def _run(self) -> None:
        period = 1.0 / self.rate
        raised = dict.fromkeys(ALARM_PAIRS, False)
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            device, code = ALARM_PAIRS[n % len(ALARM_PAIRS)]
            state = "cleared" if raised[(device, code)] else "raised"
            raised[(device, code)] = not raised[(device, code)]
            phase = self.phase.name
            event_id = f"{phase}.{n}"
            ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            body = msgspec.json.encode(
                {"eventId": event_id, "ts": ts, "code": code, "state": state, "detail": {}}
            )
            self.publisher.publish_raw(event_topic("demo", device), body)
            self.sent[phase].append(event_id)
            n += 1
            next_at += period
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def stop(self, within: float = 120.0) -> int:
        """Stop publishing and wait for the broker's PUBACKs; returns how many were not acknowledged."""
        self._stop.set()
        self._thread.join()
        # a message published while the broker was away reports "not connected" at once but stays queued
        # in the client and is sent on reconnection, so the broker's PUBACKs are counted instead
        published = sum(len(ids) for ids in self.sent.values())
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.acked < published:
            time.sleep(0.2)
        return published - self.acked

    def close(self) -> None:
        """Disconnect the device client."""
        with contextlib.suppress(Exception):
            self.publisher.close()


async def phone(
    number: int,
    client: OutboxClient,
    agent: dict[str, str],
    tech: dict[str, str],
    tech_id: str,
    building: str,
    phase: Phase,
    stop: asyncio.Event,
    log: list[SentAction],
) -> None:
    """One field worker's day: intake, then the job's actions, each keyed, over and over until stopped."""
    cycle = 0
    while not stop.is_set():
        create_key = f"{phase.name}.p{number}.{cycle}.create"
        created = SentAction(phase.name, create_key, "created", create_key)
        log.append(created)
        body = {
            "kind": "repair",
            "category": "water",
            "channel": "phone",
            "title": "厨房水龙头滴水",
            "description": create_key,
            "building": building,
            "unitNumber": UNITS[cycle % len(UNITS)],
        }
        try:
            r = await client.send("POST", WORK_ORDERS, headers=agent, json=body, key=create_key)
        except NoAnswer:
            cycle += 1
            continue
        created.status = r.status_code
        if r.status_code != 201:
            cycle += 1
            continue
        wo_id = r.json()["id"]
        created.work_order_id = wo_id
        for action in FIELD_ACTIONS:
            key = f"{create_key.removesuffix('.create')}.{action}"
            sent = SentAction(phase.name, key, action, create_key, wo_id)
            log.append(sent)
            headers = agent if action == "assign" else tech
            payload: dict[str, Any] = {}
            if action == "assign":
                payload = {"assigneeId": tech_id}
            elif action == "pause":
                payload = {"reason": "等配件"}
            try:
                r = await client.send(
                    "POST", f"{WORK_ORDERS}/{wo_id}/{action}", headers=headers, json=payload, key=key
                )
            except NoAnswer:
                break
            sent.status = r.status_code
            if r.status_code != 200:
                break
        cycle += 1


@dataclass
class Stack:
    """The processes of the run, stopped by PID in reverse order (also on Ctrl-C)."""

    stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def push(self, name: str, stop: Callable[[], None]) -> None:
        """Remember how to stop something just started."""
        self.stops.append((name, stop))

    def close(self) -> None:
        """Stop everything, newest first; one failure does not stop the rest."""
        while self.stops:
            name, stop = self.stops.pop()
            try:
                stop()
            except Exception as exc:  # every part must get its chance to stop
                print(f"stopping {name} failed: {exc!r}", file=sys.stderr)


async def run(profile: Profile, work: Path, stack: Stack) -> dict[str, Any]:
    """Start everything, run the phases, count; returns the result."""
    pg = EmbeddedPostgres(work / "pg", port=free_port())
    await asyncio.to_thread(pg.start)
    stack.push("postgresql", pg.stop)
    conn = await connect(pg.dsn)
    try:
        await migrate(conn)
        async with conn.transaction():
            await seed_demo(conn)
        tech_ids = {
            r["username"]: str(r["id"])
            for r in await conn.fetch("SELECT username, id FROM users WHERE role = 'technician'")
        }
    finally:
        await conn.close()

    broker = PrivateBroker(directory=work / "mosquitto", port=free_port())
    broker.directory.mkdir()
    broker.start()
    stack.push("mosquitto", broker.stop)

    gateway = GatewayProcess(
        env={
            **api_env(pg.dsn, SECRET, work / "gw", scheduler=False),
            # one gateway on a plain persistent subscription: Mosquitto 2.0 does not restore shared
            # subscriptions from its persistence file (docs/GATEWAY.md), so a shared group would miss what
            # arrives between a broker restart and its re-subscription
            "MQTT_URL": f"{broker.url}?shared=false",
            "CARETAKER_MQTT_CLIENT_ID": "faults-gw",
            "CARETAKER_LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        },
        log_path=work / "gateway.log",
    )
    gateway.start()
    stack.push("gateway", gateway.terminate)

    apis = []
    for name in ("api-1", "api-2"):
        replica = ApiReplica(api_env(pg.dsn, SECRET, work / name, scheduler=True), work / f"{name}.log")
        replica.start()
        stack.push(name, replica.terminate)
        apis.append(replica)
    await asyncio.gather(*(a.wait_until_up() for a in apis))

    phase = Phase()
    events = EventLoad(broker.port, phase, profile.events_per_second)
    stack.push("device publisher", events.close)
    actions: list[SentAction] = []
    stop_phones = asyncio.Event()

    async def pause(seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def kill_gateway() -> None:
        gateway.kill()
        await pause(profile.down_seconds)
        gateway.start()

    async def kill_api() -> None:
        apis[0].kill()
        await pause(profile.down_seconds)
        apis[0].start()
        await apis[0].wait_until_up()

    async def restart_broker() -> None:
        await asyncio.to_thread(broker.stop)
        await pause(profile.down_seconds)
        await asyncio.to_thread(broker.start)

    async def restart_postgres() -> None:
        await asyncio.to_thread(pg.stop)
        await pause(profile.down_seconds)
        await asyncio.to_thread(pg.start)

    faults: list[tuple[str, Callable[[], Awaitable[None]] | None]] = [
        ("baseline", None),
        ("gateway SIGKILL", kill_gateway),
        ("API SIGKILL", kill_api),
        ("Mosquitto restart", restart_broker),
        ("PostgreSQL restart", restart_postgres),
    ]

    async with OutboxClient([a.url for a in apis]) as client:
        agent = await client.login("agent", DEMO_PASSWORD)
        phones = []
        for number in range(profile.phones):
            tech_name, building = PHONES[number % len(PHONES)]
            tech = await client.login(tech_name, DEMO_PASSWORD)
            phones.append(
                asyncio.create_task(
                    phone(
                        number,
                        client,
                        agent,
                        tech,
                        tech_ids[tech_name],
                        building,
                        phase,
                        stop_phones,
                        actions,
                    )
                )
            )
        events.start()
        injected: dict[str, float] = {}
        for name, fault in faults:
            phase.name = name
            print(f"-- {name}", flush=True)
            await asyncio.sleep(profile.phase_seconds / 3)
            if fault is not None:
                began = time.monotonic()
                await fault()
                injected[name] = round(time.monotonic() - began, 2)
            await asyncio.sleep(profile.phase_seconds * 2 / 3)
        stop_phones.set()
        await asyncio.gather(*phones)
        unacked = await asyncio.to_thread(events.stop)
        attempts, retries = client.attempts, client.retries

    conn = await connect(pg.dsn)
    try:
        published = sum(len(ids) for ids in events.sent.values())
        await _wait_for_events(conn, published)
        result = await _count(conn, events.sent, actions)
    finally:
        await conn.close()
    result["unackedPublishes"] = unacked
    result["httpAttempts"] = attempts
    result["httpRetries"] = retries
    result["faultSeconds"] = injected
    result["profile"] = dataclasses.asdict(profile)
    return result


async def _wait_for_events(conn: asyncpg.Connection, published: int, quiet: float = 20.0) -> None:
    """Until every published event is recorded, or the count has not moved for `quiet` seconds."""
    last, since = -1, time.monotonic()
    while True:
        recorded = await conn.fetchval("SELECT count(*) FROM device_events")
        if recorded >= published:
            return
        if recorded != last:
            last, since = recorded, time.monotonic()
        elif time.monotonic() - since > quiet:
            return
        await asyncio.sleep(0.5)


async def _count(
    conn: asyncpg.Connection, sent_events: dict[str, list[str]], actions: list[SentAction]
) -> dict[str, Any]:
    """Compare what was sent with what the database holds, per phase."""
    recorded_ids = Counter(r["event_id"] for r in await conn.fetch("SELECT event_id FROM device_events"))
    history = await conn.fetch(
        # 'stale': an event that arrived after a newer opposite one, kept in history without effect
        """SELECT payload->>'eventId' AS event_id, action FROM alarm_events
           WHERE action IN ('raised', 'repeated', 'cleared', 'reraised', 'stale') AND payload ? 'eventId'"""
    )
    effects = Counter(r["event_id"] for r in history)
    out_of_order = {r["event_id"] for r in history if r["action"] == "stale"}
    created = Counter(
        r["description"]
        for r in await conn.fetch("SELECT description FROM work_orders WHERE alarm_id IS NULL")
    )
    event_counts = Counter(
        (str(r["work_order_id"]), r["action"])
        for r in await conn.fetch("SELECT work_order_id, action FROM work_order_events")
    )
    phases: dict[str, dict[str, int]] = {}
    for name in dict.fromkeys([*sent_events, *(a.phase for a in actions)]):
        ids = sent_events.get(name, [])
        rows = [recorded_ids[i] for i in ids]
        alarm_effects = [effects[i] for i in ids]
        mine = [a for a in actions if a.phase == name]
        seen = [
            created[a.key] if a.action == "created" else event_counts[(a.work_order_id or "", a.action)]
            for a in mine
        ]
        phases[name] = {
            "eventsSent": len(ids),
            "eventsRecorded": sum(1 for n in rows if n),
            "eventsLost": sum(1 for n in rows if n == 0),
            # impossible by the primary key, counted anyway; then the alarm history: one effect per event
            "eventsDuplicated": sum(n - 1 for n in [*rows, *alarm_effects] if n > 1),
            "alarmEffectsMissing": sum(1 for n, e in zip(rows, alarm_effects, strict=True) if n and not e),
            "eventsOutOfOrder": sum(1 for i in ids if i in out_of_order),
            "actionsSent": len(mine),
            "actionsRecorded": sum(1 for n in seen if n),
            "actionsLost": sum(1 for n in seen if n == 0),
            "actionsDuplicated": sum(n - 1 for n in seen if n > 1),
            "actionsRefused": sum(1 for a in mine if a.status is not None and a.status >= 400),
            "actionsUnanswered": sum(1 for a in mine if a.status is None),
        }
    invariants: dict[str, int] = {
        "openAlarmsPerDeviceCodeMax": await conn.fetchval(
            """SELECT COALESCE(max(n), 0)::int FROM
               (SELECT count(*) AS n FROM alarms WHERE open GROUP BY device_id, code) x"""
        ),
        "alarms": await conn.fetchval("SELECT count(*) FROM alarms"),
        "alarmsWithoutWorkOrder": await conn.fetchval(
            """SELECT count(*) FROM alarms a
               WHERE NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.alarm_id = a.id)"""
        ),
        "workOrdersBeyondOnePerAlarm": await conn.fetchval(
            """SELECT COALESCE(sum(n - 1), 0)::int FROM
               (SELECT count(*) AS n FROM work_orders WHERE alarm_id IS NOT NULL GROUP BY alarm_id) x"""
        ),
    }
    lost = sum(p["eventsLost"] + p["alarmEffectsMissing"] + p["actionsLost"] for p in phases.values())
    duplicated = sum(p["eventsDuplicated"] + p["actionsDuplicated"] for p in phases.values())
    duplicated += invariants["workOrdersBeyondOnePerAlarm"]
    duplicated += max(0, invariants["openAlarmsPerDeviceCodeMax"] - 1)
    lost += invariants["alarmsWithoutWorkOrder"]
    refused = sum(p["actionsRefused"] + p["actionsUnanswered"] for p in phases.values())
    return {
        "phases": phases,
        "invariants": invariants,
        "lost": lost,
        "duplicated": duplicated,
        "refusedOrUnanswered": refused,
        "ok": lost == 0 and duplicated == 0 and refused == 0,
    }


def print_table(result: dict[str, Any]) -> None:
    """One row per fault."""
    head = (
        f"{'fault':<20}{'events sent':>12}{'recorded':>10}{'lost':>6}{'dup':>5}"
        f"{'actions sent':>14}{'recorded':>10}{'lost':>6}{'dup':>5}{'refused':>9}{'late events':>13}"
    )
    print(head)
    print("-" * len(head))
    for name, p in result["phases"].items():
        print(
            f"{name:<20}{p['eventsSent']:>12}{p['eventsRecorded']:>10}"
            f"{p['eventsLost'] + p['alarmEffectsMissing']:>6}{p['eventsDuplicated']:>5}"
            f"{p['actionsSent']:>14}{p['actionsRecorded']:>10}{p['actionsLost']:>6}{p['actionsDuplicated']:>5}"
            f"{p['actionsRefused'] + p['actionsUnanswered']:>9}{p['eventsOutOfOrder']:>13}"
        )
    inv = result["invariants"]
    print(
        f"alarms {inv['alarms']}, open per (device, code) at most {inv['openAlarmsPerDeviceCodeMax']}, "
        f"without a work order {inv['alarmsWithoutWorkOrder']}, "
        f"work orders beyond one per alarm {inv['workOrdersBeyondOnePerAlarm']}"
    )
    print(
        f"HTTP attempts {result['httpAttempts']} (retries {result['httpRetries']}), "
        f"unacknowledged publishes {result['unackedPublishes']}"
    )


def main() -> int:
    """Parse the arguments, run, print; Ctrl-C and SIGTERM stop everything that was started."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter phases and a lighter load")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, database) afterwards")
    args = parser.parse_args()
    profile = QUICK if args.quick else FULL
    # SIGTERM unwinds like Ctrl-C, so that the stack below stops every process it started
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    work = Path(tempfile.mkdtemp(prefix="caretaker-faults-"))
    # PostgreSQL runs as an unprivileged user when we are root; it must be able to reach its data dir here
    work.chmod(0o755)
    print(f"work dir {work}", flush=True)
    stack = Stack()
    try:
        result = asyncio.run(run(profile, work, stack))
    except KeyboardInterrupt:
        print("interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        stack.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(result)
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
