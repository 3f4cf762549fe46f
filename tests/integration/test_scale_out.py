"""Beyond one machine: two API processes and two gateway processes on one PostgreSQL and one Mosquitto.

The broker splits a burst of device events between the gateways (MQTT 5 shared subscription) and nothing is
doubled; a keyed request sent to both API processes has one effect; both processes run the scheduler and a
breached clock is escalated once.
"""

from __future__ import annotations

import ast
import asyncio
import re
import uuid
from pathlib import Path

import asyncpg
import msgspec
import pytest

from simulators.devices import DEMO_ALARM_SOURCES, now_iso
from tests.conftest import DEMO_PASSWORD, TEST_SECRET
from tests.gateway.conftest import (  # noqa: F401 (fixtures used by name)
    GatewayProcess,
    PrivateBroker,
    Publisher,
    SpawnGateway,
    _wait_subscribed,
    broker,
    eventually,
    publisher,
    spawn_gateway,
)
from tests.integration.replicas import ApiReplica, OutboxClient, api_env

pytestmark = pytest.mark.slow

SOURCES = DEMO_ALARM_SOURCES
RAISES_PER_SOURCE = 20
WORK_ORDERS = "/api/v1/work-orders"


async def _value(db: asyncpg.Connection, sql: str, *args: object) -> int:
    return await db.fetchval(sql, *args)


def _received(gateway: GatewayProcess) -> int:
    """Messages this gateway process received, from the counters it logs when it stops."""
    match = re.search(r"gateway stopped: (\{.*\})", gateway.log_path.read_text())
    assert match, gateway.log_path.read_text()[-2000:]
    return ast.literal_eval(match.group(1))["received"]


async def test_two_apis_and_two_gateways_split_the_work_and_double_nothing(
    db: asyncpg.Connection,
    db_url: str,
    broker: PrivateBroker,  # noqa: F811
    publisher: Publisher,  # noqa: F811
    spawn_gateway: SpawnGateway,  # noqa: F811
    tmp_path: Path,
) -> None:
    apis = [
        ApiReplica(api_env(db_url, TEST_SECRET, tmp_path / name, scheduler=True), tmp_path / f"{name}.log")
        for name in ("api-1", "api-2")
    ]
    try:
        for api in apis:
            api.start()
        gateways = [spawn_gateway("scale-gw-1"), spawn_gateway("scale-gw-2")]
        await asyncio.gather(
            *(api.wait_until_up() for api in apis),
            *(_wait_subscribed(broker, g.env["CARETAKER_MQTT_CLIENT_ID"], within=30) for g in gateways),
        )

        # -- a burst of device events over both gateways --------------------------------------------
        infos = []
        for _ in range(RAISES_PER_SOURCE):
            for device, code in SOURCES:
                body = {
                    "eventId": str(uuid.uuid4()),
                    "ts": now_iso(),
                    "code": code,
                    "state": "raised",
                }
                infos.append(
                    publisher.publish_raw(f"caretaker/demo/{device}/event", msgspec.json.encode(body))
                )
        for info in infos:
            info.wait_for_publish(timeout=30)
        sent = len(infos)

        async def all_recorded() -> bool:
            return await _value(db, "SELECT count(*) FROM device_events") == sent

        await eventually(all_recorded, within=60, interval=0.2)
        # one alarm per (device, code), counting every raise once; one work order per alarm
        assert await _value(db, "SELECT count(*) FROM alarms") == len(SOURCES)
        assert await _value(db, "SELECT count(DISTINCT (device_id, code)) FROM alarms") == len(SOURCES)
        assert await _value(db, "SELECT sum(count) FROM alarms") == sent
        assert await _value(db, "SELECT count(*) FROM work_orders WHERE alarm_id IS NOT NULL") == len(SOURCES)
        assert await _value(db, "SELECT count(DISTINCT alarm_id) FROM work_orders") == len(SOURCES)
        for gateway in gateways:
            gateway.terminate()
        received = [_received(g) for g in gateways]
        assert sum(received) == sent, received
        # the broker shared the burst: each process took a real part of it, not a token message
        assert all(r >= sent // 5 for r in received), received

        # -- the same keyed request at both API processes at once: one effect --------------------------
        async with OutboxClient([api.url for api in apis]) as client:
            agent = await client.login("agent", DEMO_PASSWORD)
            tech1 = await client.login("tech1", DEMO_PASSWORD)
            tech1_id = str(await _value(db, "SELECT id FROM users WHERE username = 'tech1'"))
            marker = f"scale-out {uuid.uuid4()}"
            intake = {
                "kind": "repair",
                "category": "water",
                "channel": "phone",
                "title": "地下室水管爆裂",
                "description": marker,
                "building": "A",
                "unitNumber": "101",
            }
            first, second = await asyncio.gather(
                *(
                    client.send("POST", WORK_ORDERS, headers=agent, json=intake, key=f"{marker} create")
                    for _ in apis
                )
            )
            assert first.status_code == second.status_code == 201, (first.text, second.text)
            assert first.json()["id"] == second.json()["id"]
            replayed = [r.headers.get("Idempotent-Replayed") for r in (first, second)]
            assert sorted(replayed, key=str) == [None, "true"], replayed
            wo_id = first.json()["id"]
            assert await _value(db, "SELECT count(*) FROM work_orders WHERE description = $1", marker) == 1

            steps = [
                ("assign", agent, {"assigneeId": tech1_id}),
                ("accept", tech1, {}),
                ("depart", tech1, {}),
            ]
            for action, headers, body in steps:
                answers = await asyncio.gather(
                    *(
                        client.send(
                            "POST",
                            f"{WORK_ORDERS}/{wo_id}/{action}",
                            headers=headers,
                            json=body,
                            key=f"{marker} {action}",
                        )
                        for _ in range(4)  # round-robin: each replica gets it twice
                    )
                )
                assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
            actions = [
                r["action"]
                for r in await db.fetch(
                    "SELECT action FROM work_order_events WHERE work_order_id = $1 ORDER BY seq",
                    uuid.UUID(wo_id),
                )
            ]
            assert actions == ["created", "assign", "accept", "depart"]

            # -- both schedulers see the breached arrive clock; it is escalated once -------------------
            await db.execute(
                """UPDATE work_order_clocks SET due_at = now() - interval '1 second'
                   WHERE work_order_id = $1 AND clock = 'arrive'""",
                uuid.UUID(wo_id),
            )

            async def breached() -> int:
                return await _value(
                    db,
                    """SELECT count(*) FROM work_order_events
                       WHERE work_order_id = $1 AND action = 'sla_breached'""",
                    uuid.UUID(wo_id),
                )

            await eventually(breached, within=20, interval=0.2)
            # both processes run the job every 5 s: after 6 s more each has run it again at least once
            await asyncio.sleep(6)
            assert await breached() == 1
            told = await db.fetch(
                """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
                   WHERE n.kind = 'sla_breach' AND n.data->>'workOrderId' = $1 ORDER BY u.username""",
                wo_id,
            )
            assert [r["username"] for r in told] == ["supervisor", "tech1"]
        # the API processes both ran; neither of them fell over along the way
        assert all(api.process is not None and api.process.poll() is None for api in apis)
    finally:
        for api in apis:
            api.terminate()
