"""No alarm lost, none doubled: two replicas sharing a subscription, a SIGKILLed gateway, a broker restart."""

from __future__ import annotations

import ast
import asyncio
import re
import threading
import uuid

import asyncpg
import pytest

from tests.gateway.conftest import (
    PrivateBroker,
    Publisher,
    SpawnGateway,
    StartGateway,
    device_time,
    eventually,
)

pytestmark = pytest.mark.slow

ELEVATORS = ["elev-a1", "elev-a2", "elev-b1", "elev-b2", "elev-c1", "elev-c2"]


async def _count(db: asyncpg.Connection, sql: str) -> int:
    return await db.fetchval(sql)


def _stopped_counters(log_text: str) -> dict[str, object]:
    match = re.search(r"gateway stopped: (\{.*\})", log_text)
    assert match, log_text[-2000:]
    return ast.literal_eval(match.group(1))


async def test_two_gateways_on_the_shared_subscription_make_one_alarm_and_work_order_each(
    db: asyncpg.Connection, spawn_gateway: SpawnGateway, broker: PrivateBroker, publisher: Publisher
) -> None:
    gateways = [spawn_gateway("gw-1"), spawn_gateway("gw-2")]
    await _wait_for_gateways(broker, ["gw-1", "gw-2"])
    codes = ["ELEVATOR_ENTRAPMENT", "ELEVATOR_DOOR_FAULT", "ELEVATOR_STOPPED"]
    sent = 0
    infos = []
    for _ in range(20):
        for device in ELEVATORS:
            for code in codes:
                event_id = str(uuid.uuid4())
                # each event twice, as a broker redelivering after a lost ack would
                infos.append(publisher.publish_raw(*_event(device, code, event_id)))
                infos.append(publisher.publish_raw(*_event(device, code, event_id)))
                sent += 1
    for info in infos:
        info.wait_for_publish(timeout=30)

    await eventually(lambda: _count(db, "SELECT count(*) FROM device_events"), within=60)
    await eventually(lambda: _equals(db, "SELECT count(*) FROM device_events", sent), within=60)
    await eventually(lambda: _equals(db, "SELECT COALESCE(sum(count), 0) FROM alarms", sent), within=30)
    pairs = len(ELEVATORS) * len(codes)
    assert await _count(db, "SELECT count(*) FROM alarms") == pairs
    assert await _count(db, "SELECT count(DISTINCT (device_id, code)) FROM alarms") == pairs
    assert await _count(db, "SELECT count(*) FROM work_orders WHERE alarm_id IS NOT NULL") == pairs
    assert await _count(db, "SELECT count(DISTINCT alarm_id) FROM work_orders") == pairs

    for gp in gateways:
        gp.terminate()
    received = [_stopped_counters(gp.log_path.read_text())["received"] for gp in gateways]
    # the broker split the load: each message went to one of the two, and both took part
    assert sum(received) == 2 * sent and all(r > 0 for r in received), received


async def test_sigkill_with_2000_events_in_flight_loses_and_doubles_nothing(
    db: asyncpg.Connection, spawn_gateway: SpawnGateway, broker: PrivateBroker, publisher: Publisher
) -> None:
    gp = spawn_gateway("gw-kill")
    await _wait_for_gateways(broker, ["gw-kill"])
    total = 2000
    infos = []
    for i in range(total):
        device = ELEVATORS[i % len(ELEVATORS)]
        # per device: raised, cleared, raised, cleared, ...
        state = "raised" if (i // len(ELEVATORS)) % 2 == 0 else "cleared"
        infos.append(publisher.publish_raw(*_event(device, "ELEVATOR_DOOR_FAULT", f"kill-{i}", state)))

    async def some_recorded() -> bool:
        return await _count(db, "SELECT count(*) FROM device_events") >= 100

    await eventually(some_recorded, within=30, interval=0.01)
    gp.kill()
    recorded_at_kill = await _count(db, "SELECT count(*) FROM device_events")
    assert recorded_at_kill < total, "the gateway finished before it could be killed"
    for info in infos:
        info.wait_for_publish(timeout=30)

    gp.start()
    await eventually(lambda: _equals(db, "SELECT count(*) FROM device_events", total), within=120)
    await asyncio.sleep(0.5)
    assert await _count(db, "SELECT count(*) FROM device_events") == total
    # every event had exactly one effect on its alarm's history
    assert await _count(db, "SELECT count(*) FROM alarm_events") == total
    assert await _count(db, "SELECT count(*) FROM alarms") == len(ELEVATORS)
    assert await _count(db, "SELECT count(*) FROM work_orders WHERE alarm_id IS NOT NULL") == len(ELEVATORS)


async def test_broker_restart_mid_stream_loses_nothing(
    db: asyncpg.Connection, start_gateway: StartGateway, broker: PrivateBroker
) -> None:
    # One gateway on a plain persistent subscription: Mosquitto 2.0 forgets shared subscriptions when it
    # restarts (see docs/GATEWAY.md), so a shared group would miss what arrives before it re-subscribes.
    await start_gateway(client_id="gw-restart", mqtt_url=f"{broker.url}?shared=false")
    publisher = Publisher(broker.port, "pub-restart", persistent=True)
    total = 600
    done = threading.Event()

    def publish_stream() -> None:
        for i in range(total):
            device = ELEVATORS[i % len(ELEVATORS)]
            publisher.publish_raw(*_event(device, "ELEVATOR_STOPPED", f"restart-{i}"))
            threading.Event().wait(0.004)
        done.set()

    thread = threading.Thread(target=publish_stream)
    thread.start()
    try:

        async def some_recorded() -> bool:
            return await _count(db, "SELECT count(*) FROM device_events") >= 50

        await eventually(some_recorded, within=30, interval=0.01)
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(broker.start)
        await asyncio.to_thread(done.wait, 60)
        await eventually(lambda: _equals(db, "SELECT count(*) FROM device_events", total), within=90)
        assert await _count(db, "SELECT sum(count) FROM alarms WHERE code = 'ELEVATOR_STOPPED'") == total
        assert await _count(db, "SELECT count(*) FROM work_orders WHERE alarm_id IS NOT NULL") == len(
            ELEVATORS
        )
    finally:
        thread.join(timeout=60)
        publisher.close()


def _event(device: str, code: str, event_id: str, state: str = "raised") -> tuple[str, bytes]:
    payload = f'{{"eventId": "{event_id}", "code": "{code}", "state": "{state}", "ts": "{device_time()}"}}'
    return f"caretaker/demo/{device}/event", payload.encode()


async def _equals(db: asyncpg.Connection, sql: str, expected: int) -> bool:
    return await db.fetchval(sql) == expected


async def _wait_for_gateways(broker: PrivateBroker, client_ids: list[str]) -> None:
    from tests.gateway.conftest import _wait_subscribed

    for client_id in client_ids:
        await _wait_subscribed(broker, client_id, within=30)
