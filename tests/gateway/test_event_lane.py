"""An alarm never waits behind telemetry: with the gateway unable to store a single reading (the telemetry
table held by another transaction) and more readings queued than the broker may have in flight to it, an
entrapment still becomes its work order at once; once the table is free every reading is stored, and the
alarm's copy on the general connection changes nothing."""

from __future__ import annotations

import asyncpg
import msgspec

from iot_gateway.contract import telemetry_topic
from iot_gateway.mqtt import RECEIVE_MAXIMUM
from tests.gateway.conftest import SITE, Publisher, StartGateway, device_time, eventually

# more than the general connection's in-flight window, so the broker holds the rest back
READINGS = RECEIVE_MAXIMUM + 500


async def _count(db: asyncpg.Connection, sql: str, *args: object) -> int:
    return await db.fetchval(sql, *args)


async def test_an_alarm_is_recorded_while_no_telemetry_can_be_stored(
    db: asyncpg.Connection, db_url: str, start_gateway: StartGateway, publisher: Publisher
) -> None:
    gw = await start_gateway()
    blocker = await asyncpg.connect(db_url)
    try:
        held = blocker.transaction()
        await held.start()
        await blocker.execute("LOCK TABLE telemetry IN ACCESS EXCLUSIVE MODE")

        infos = [
            publisher.publish_raw(
                telemetry_topic(SITE, "pres-1"),
                msgspec.json.encode({"ts": device_time(), "seq": seq, "metrics": {"pressureKpa": 300.0}}),
            )
            for seq in range(1, READINGS + 1)
        ]
        for info in infos:
            info.wait_for_publish(timeout=30)

        async def window_full() -> bool:
            return gw.counters.received >= RECEIVE_MAXIMUM

        await eventually(window_full, within=30)
        publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT")

        async def work_order() -> int:
            return await _count(
                db,
                """SELECT count(*) FROM work_orders w JOIN alarms a ON a.id = w.alarm_id
                   WHERE a.device_id = 'elev-a1' AND a.code = 'ELEVATOR_ENTRAPMENT'""",
            )

        await eventually(work_order, within=30)
        # not one reading was stored meanwhile, and the general connection had not seen the alarm yet
        assert gw.counters.telemetry_stored == 0
        assert gw.counters.received < READINGS
        assert gw.counters.event_copies == 0

        await held.rollback()
    finally:
        await blocker.close()

    async def all_stored() -> bool:
        return await _count(db, "SELECT count(*) FROM telemetry WHERE device_id = 'pres-1'") == READINGS

    await eventually(all_stored, within=60)

    async def copy_seen() -> bool:
        return gw.counters.event_copies == 1

    await eventually(copy_seen, within=30)
    assert gw.counters.events_recorded == 1
    assert await work_order() == 1
    assert await _count(db, "SELECT sum(count) FROM alarms WHERE device_id = 'elev-a1'") == 1
