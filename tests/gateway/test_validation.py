"""Garbage, unknown devices and other sites' topics are dropped and counted; valid events still get in."""

from __future__ import annotations

import asyncpg

from tests.gateway.conftest import Publisher, StartGateway, eventually


async def test_bad_messages_are_dropped_counted_and_do_not_stop_the_gateway(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    other_site = await db.fetchval("INSERT INTO sites (code, name) VALUES ('other', '别的小区') RETURNING id")
    await db.execute(
        "INSERT INTO devices (id, site_id, kind, name) VALUES ('elev-x1', $1, 'elevator', '别处电梯')",
        other_site,
    )
    gw = await start_gateway()
    garbage = [
        ("caretaker/demo/elev-a1/event", b"\x00\xff not json"),
        ("caretaker/demo/elev-a1/event", b'{"eventId": 5, "code": []}'),
        ("caretaker/demo/elev-a1/event", b'{"eventId": "e1", "code": "NO_SUCH_CODE", "state": "raised"}'),
        ("caretaker/demo/elev-a1/event", b'{"eventId": "e2", "code": "WATER_LEAK", "state": "raised"}'),
        ("caretaker/demo/elev-a1/telemetry", b'{"ts": "x", "metrics": {"speedMs": "fast"}}'),
        ("caretaker/demo/elev-a1/status", b"maybe"),
        (
            "caretaker/demo/ghost-9/event",
            b'{"eventId": "e3", "code": "ELEVATOR_ENTRAPMENT", "state": "raised"}',
        ),
        # a device of another site speaking on demo's topics, and a demo device on another site's
        (
            "caretaker/demo/elev-x1/event",
            b'{"eventId": "e4", "code": "ELEVATOR_ENTRAPMENT", "state": "raised"}',
        ),
        (
            "caretaker/other/elev-a2/event",
            b'{"eventId": "e5", "code": "ELEVATOR_ENTRAPMENT", "state": "raised"}',
        ),
        ("caretaker/demo/elev-a1/bogus", b"{}"),
        ("caretaker/demo/elev-a1/telemetry", b"{" * 20000),
    ]
    for topic, payload in garbage:
        publisher.publish(topic, payload)
    publisher.event("elev-a2", "ELEVATOR_ENTRAPMENT")

    async def valid_alarm_raised() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM alarms WHERE device_id = 'elev-a2'"))

    await eventually(valid_alarm_raised)
    await eventually(lambda: _true(sum(gw.counters.dropped.values()) == len(garbage)))
    assert gw.counters.dropped == {
        "malformed_payload": 4,
        "unknown_code": 1,
        "code_not_for_device": 1,
        "unknown_device": 1,
        "site_mismatch": 2,
        "malformed_topic": 1,
        "too_large": 1,
    }
    # nothing but the valid event left a trace
    assert await db.fetchval("SELECT count(*) FROM alarms") == 1
    assert await db.fetchval("SELECT count(*) FROM device_events") == 1
    assert await db.fetchval("SELECT count(*) FROM telemetry") == 0
    assert not gw.task.done()


async def _true(value: bool) -> bool:
    return value
