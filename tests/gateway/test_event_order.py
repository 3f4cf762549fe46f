"""Events of one device that reach the gateway out of order must not undo a newer state.

bench/faults.py saw it happen (docs/RELIABILITY.md): after a Mosquitto restart with messages in flight to
the gateway, a device's `cleared` event arrived ahead of five older events of the same (device, code). There
it only turned a clear into a repeat; the same reordering the other way round — a stale `cleared` arriving
after a newer `raised` — clears an alarm whose lift is still stuck. The gateway therefore compares the
device's timestamps instead of trusting arrival order.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from tests.gateway.conftest import Publisher, StartGateway, device_time, eventually

DEVICE = "elev-a1"
CODE = "ELEVATOR_ENTRAPMENT"


async def test_a_stale_clear_arriving_after_a_newer_raise_leaves_the_alarm_active(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    await start_gateway(client_id="gw-order")
    # raised three minutes ago, cleared two minutes ago, raised again a minute ago; the broker delivers the
    # clear last. The times are recent: the gateway replaces a device time more than a day off with its own.
    arrivals = [
        ("first-raise", "raised", timedelta(minutes=-3)),
        ("second-raise", "raised", timedelta(minutes=-1)),
        ("stale-clear", "cleared", timedelta(minutes=-2)),
    ]
    for event_id, state, ago in arrivals:
        body = (
            f'{{"eventId": "{event_id}", "ts": "{device_time(ago)}", "code": "{CODE}", "state": "{state}"}}'
        )
        publisher.publish(f"caretaker/demo/{DEVICE}/event", body)

    async def all_recorded() -> bool:
        return await db.fetchval("SELECT count(*) FROM device_events WHERE device_id = $1", DEVICE) == 3

    await eventually(all_recorded)
    # the device's last word (a minute ago) is "raised": someone is still trapped
    active = await db.fetchval(
        "SELECT active FROM alarms WHERE device_id = $1 AND code = $2 AND open", DEVICE, CODE
    )
    assert active is True
