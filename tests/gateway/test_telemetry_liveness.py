"""Telemetry through the gateway: stored by COPY, latest state kept, thresholds raise and clear; liveness."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from backend.domain.clock import ManualClock
from backend.services.alarms import check_device_heartbeats
from tests.gateway.conftest import Publisher, StartGateway, eventually


async def _alarm(db: asyncpg.Connection, device: str, code: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT * FROM alarms WHERE device_id = $1 AND code = $2 AND open", device, code)


async def test_low_pressure_held_30_s_raises_and_clears_past_the_band(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    clock = ManualClock()
    gw = await start_gateway(clock=clock)
    ts = clock.now().isoformat()

    async def stored(n: int) -> bool:
        return gw.counters.telemetry_stored == n

    publisher.telemetry("pres-1", {"pressureKpa": 140.0}, seq=1, ts=ts)
    await eventually(lambda: stored(1))
    clock.advance(20)
    publisher.telemetry("pres-1", {"pressureKpa": 139.0}, seq=2, ts=ts)
    await eventually(lambda: stored(2))
    assert await _alarm(db, "pres-1", "PRESSURE_LOW") is None  # not held long enough yet

    clock.advance(11)
    publisher.telemetry("pres-1", {"pressureKpa": 138.0}, seq=3, ts=ts)
    alarm = await eventually(lambda: _alarm(db, "pres-1", "PRESSURE_LOW"))
    assert alarm["severity"] == "major" and alarm["active"]
    order = await db.fetchrow("SELECT kind, priority FROM work_orders WHERE alarm_id = $1", alarm["id"])
    assert (order["kind"], order["priority"]) == ("repair", 2)

    # inside the hysteresis band (150..170): still active
    publisher.telemetry("pres-1", {"pressureKpa": 165.0}, seq=4, ts=ts)
    await eventually(lambda: stored(4))
    assert (await _alarm(db, "pres-1", "PRESSURE_LOW"))["active"]
    publisher.telemetry("pres-1", {"pressureKpa": 175.0}, seq=5, ts=ts)

    async def cleared() -> bool:
        a = await _alarm(db, "pres-1", "PRESSURE_LOW")
        return a is not None and not a["active"]

    await eventually(cleared)
    assert await db.fetchval("SELECT count(*) FROM telemetry WHERE device_id = 'pres-1'") == 5
    state = await db.fetchrow("SELECT metrics, last_seq FROM device_state WHERE device_id = 'pres-1'")
    assert state["metrics"] == {"pressureKpa": 175.0} and state["last_seq"] == 5

    # the same reading delivered again is not stored twice
    publisher.telemetry("pres-1", {"pressureKpa": 175.0}, seq=5, ts=ts)
    await eventually(lambda: _is(gw.counters.telemetry_duplicates == 1))
    assert await db.fetchval("SELECT count(*) FROM telemetry WHERE device_id = 'pres-1'") == 5


async def test_offline_status_raises_device_offline_and_online_clears_it(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    await start_gateway()
    publisher.status("tank-1", "online")
    publisher.status("tank-1", "offline")
    alarm = await eventually(lambda: _alarm(db, "tank-1", "DEVICE_OFFLINE"))
    assert alarm["severity"] == "warning" and alarm["active"]
    assert await db.fetchval("SELECT count(*) FROM work_orders WHERE alarm_id = $1", alarm["id"]) == 0
    publisher.status("tank-1", "online")

    async def cleared() -> bool:
        a = await _alarm(db, "tank-1", "DEVICE_OFFLINE")
        return a is not None and not a["active"]

    await eventually(cleared)


async def test_silent_device_goes_offline_and_gets_one_inspection_after_10_minutes(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    clock = ManualClock()
    gw = await start_gateway(clock=clock)
    publisher.telemetry("tank-2", {"tankLevelPct": 60.0}, seq=1, ts=clock.now().isoformat())
    await eventually(lambda: _is(gw.counters.telemetry_stored == 1))

    async def heartbeat_check() -> tuple[int, int]:
        async with db.transaction():
            return await check_device_heartbeats(db, now=clock.now())

    clock.advance(60)
    assert await heartbeat_check() == (0, 0)
    clock.advance(61)
    assert await heartbeat_check() == (1, 0)
    alarm = await _alarm(db, "tank-2", "DEVICE_OFFLINE")
    assert alarm is not None and alarm["active"]
    clock.advance(timedelta(minutes=9))
    assert await heartbeat_check() == (0, 0)
    clock.advance(timedelta(minutes=1, seconds=1))
    assert await heartbeat_check() == (0, 1)
    assert await heartbeat_check() == (0, 0)  # exactly once
    order = await db.fetchrow(
        "SELECT kind, priority, category FROM work_orders WHERE alarm_id = $1", alarm["id"]
    )
    assert (order["kind"], order["priority"], order["category"]) == ("inspection", 3, "water")

    # the device speaks again: DEVICE_OFFLINE clears
    publisher.telemetry("tank-2", {"tankLevelPct": 61.0}, seq=2, ts=clock.now().isoformat())

    async def cleared() -> bool:
        a = await _alarm(db, "tank-2", "DEVICE_OFFLINE")
        return a is not None and not a["active"]

    await eventually(cleared)


async def _is(value: bool) -> bool:
    return value
