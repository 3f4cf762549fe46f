"""An elevator entrapment over real MQTT: one critical alarm, one P1 emergency, idempotent repeats."""

from __future__ import annotations

import time
from datetime import timedelta

import asyncpg

from tests.gateway.conftest import Publisher, StartGateway, eventually


async def _alarms(db: asyncpg.Connection, device: str, code: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM alarms WHERE device_id = $1 AND code = $2 ORDER BY raised_at", device, code
    )


async def _work_orders(db: asyncpg.Connection, device: str, code: str) -> list[asyncpg.Record]:
    return await db.fetch(
        """SELECT w.* FROM work_orders w JOIN alarms a ON a.id = w.alarm_id
           WHERE a.device_id = $1 AND a.code = $2""",
        device,
        code,
    )


async def test_entrapment_raises_one_critical_alarm_and_one_p1_emergency(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher, record_property
) -> None:
    gw = await start_gateway()
    sent_at = time.monotonic()
    event_id = publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT")

    orders = await eventually(lambda: _work_orders(db, "elev-a1", "ELEVATOR_ENTRAPMENT"), within=5)
    # reported (junit property), not asserted: a shared machine's load is no fault of the gateway
    record_property("work_order_committed_seconds", round(time.monotonic() - sent_at, 3))

    [alarm] = await _alarms(db, "elev-a1", "ELEVATOR_ENTRAPMENT")
    assert alarm["severity"] == "critical" and alarm["active"] and alarm["open"] and alarm["count"] == 1
    [order] = orders
    assert order["kind"] == "emergency" and order["priority"] == 1 and order["channel"] == "sensor"
    assert order["asset_id"] is not None
    # auto-assigned to an on-duty technician
    assignee = await db.fetchrow("SELECT role, on_duty FROM users WHERE id = $1", order["assignee_id"])
    assert assignee is not None and assignee["role"] == "technician" and assignee["on_duty"]
    arrive = await db.fetchval(
        "SELECT due_at FROM work_order_clocks WHERE work_order_id = $1 AND clock = 'arrive'", order["id"]
    )
    assert arrive - order["created_at"] == timedelta(minutes=30)
    # guards were told, urgently, in the same transaction
    told = await db.fetch(
        """SELECT u.role, n.urgency FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'alarm' AND n.data->>'alarmId' = $1""",
        str(alarm["id"]),
    )
    assert {r["role"] for r in told} >= {"guard", "technician", "supervisor"}
    assert {r["urgency"] for r in told} == {"high"}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM stream_events WHERE type = 'alarm.raised' AND data->>'id' = $1",
            str(alarm["id"]),
        )
        == 1
    )

    # the same message delivered again changes nothing (its copy on the general connection neither)
    publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT", event_id=event_id)
    await eventually(lambda: _counter(gw.counters.events_duplicate >= 1 and gw.counters.event_copies == 2))
    assert gw.counters.events_recorded == 1
    [alarm] = await _alarms(db, "elev-a1", "ELEVATOR_ENTRAPMENT")
    assert alarm["count"] == 1
    assert len(await _work_orders(db, "elev-a1", "ELEVATOR_ENTRAPMENT")) == 1

    # a second eventId bumps the count and still leaves one work order
    publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT")

    async def bumped() -> bool:
        [a] = await _alarms(db, "elev-a1", "ELEVATOR_ENTRAPMENT")
        return a["count"] == 2

    await eventually(bumped)
    assert len(await _work_orders(db, "elev-a1", "ELEVATOR_ENTRAPMENT")) == 1

    # cleared clears it
    publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT", "cleared")

    async def cleared() -> bool:
        [a] = await _alarms(db, "elev-a1", "ELEVATOR_ENTRAPMENT")
        return not a["active"] and a["cleared_at"] is not None

    await eventually(cleared)
    actions = await db.fetch("SELECT action FROM alarm_events WHERE alarm_id = $1 ORDER BY id", alarm["id"])
    assert [r["action"] for r in actions] == ["raised", "repeated", "cleared"]


async def test_re_raise_within_cool_down_reopens_the_same_alarm(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    gw = await start_gateway()
    for state in ("raised", "cleared", "raised"):
        publisher.event("elev-b1", "ELEVATOR_DOOR_FAULT", state)
    await eventually(lambda: _counter(gw.counters.events_recorded == 3))
    [alarm] = await _alarms(db, "elev-b1", "ELEVATOR_DOOR_FAULT")
    assert alarm["active"] and alarm["count"] == 2 and alarm["severity"] == "major"
    [order] = await _work_orders(db, "elev-b1", "ELEVATOR_DOOR_FAULT")
    assert order["kind"] == "repair" and order["priority"] == 2
    actions = await db.fetch("SELECT action FROM alarm_events WHERE alarm_id = $1 ORDER BY id", alarm["id"])
    assert [r["action"] for r in actions] == ["raised", "cleared", "reraised"]


async def _counter(value: bool) -> bool:
    return value
