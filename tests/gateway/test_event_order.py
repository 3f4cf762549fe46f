"""Events of one device that reach the gateway out of order must not undo a newer state.

bench/faults.py saw it happen (docs/RELIABILITY.md): after a Mosquitto restart with messages in flight to
the gateway, a device's `cleared` event arrived ahead of five older events of the same (device, code). There
it only turned a clear into a repeat; the same reordering the other way round — a stale `cleared` arriving
after a newer `raised` — clears an alarm whose lift is still stuck. The gateway applies events in arrival
order and does not compare the device's timestamps, so this test fails until it does.
"""

from __future__ import annotations

import asyncpg

from tests.gateway.conftest import Publisher, StartGateway, eventually

DEVICE = "elev-a1"
CODE = "ELEVATOR_ENTRAPMENT"


async def test_a_stale_clear_arriving_after_a_newer_raise_leaves_the_alarm_active(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    await start_gateway(client_id="gw-order")
    # raised at 10:00, cleared at 10:01, raised again at 10:02; the broker delivers the 10:01 clear last
    arrivals = [
        ("first-raise", "raised", "10:00:00"),
        ("second-raise", "raised", "10:02:00"),
        ("stale-clear", "cleared", "10:01:00"),
    ]
    for event_id, state, ts in arrivals:
        body = f'{{"eventId": "{event_id}", "ts": "2026-11-23T{ts}Z", "code": "{CODE}", "state": "{state}"}}'
        publisher.publish(f"caretaker/demo/{DEVICE}/event", body)

    async def all_recorded() -> bool:
        return await db.fetchval("SELECT count(*) FROM device_events WHERE device_id = $1", DEVICE) == 3

    await eventually(all_recorded)
    # the device's last word (10:02) is "raised": someone is still trapped
    active = await db.fetchval(
        "SELECT active FROM alarms WHERE device_id = $1 AND code = $2 AND open", DEVICE, CODE
    )
    assert active is True
