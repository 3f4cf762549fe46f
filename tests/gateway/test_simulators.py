"""The simulators drive the real gateway: every demo device reports, scenarios raise their alarms."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg

from simulators.devices import DEMO_DEVICES
from simulators.runner import run_simulators
from tests.gateway.conftest import PrivateBroker, StartGateway, eventually


class _Settings:
    def __init__(self, mqtt_url: str) -> None:
        self.mqtt_url = mqtt_url


async def _run_scenario(broker: PrivateBroker, scenario: str) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_simulators(_Settings(broker.url), stop, scenario=scenario, interval=0.2))
    return stop, task


async def test_entrapment_scenario_and_telemetry_from_every_device(
    db: asyncpg.Connection, start_gateway: StartGateway, broker: PrivateBroker
) -> None:
    await start_gateway()
    stop, task = await _run_scenario(broker, "entrapment")
    try:

        async def all_reported() -> bool:
            n = await db.fetchval("SELECT count(DISTINCT device_id) FROM telemetry")
            return n == len(DEMO_DEVICES)

        await eventually(all_reported, within=20)
        alarm = await eventually(
            lambda: db.fetchrow(
                "SELECT * FROM alarms WHERE device_id = 'elev-a1' AND code = 'ELEVATOR_ENTRAPMENT'"
            )
        )
        assert alarm["active"]
        # realistic readings raise nothing on their own
        assert await db.fetchval("SELECT count(*) FROM alarms") == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_a_device_that_dies_is_reported_offline_by_its_last_will(
    db: asyncpg.Connection, start_gateway: StartGateway, broker: PrivateBroker
) -> None:
    await start_gateway()
    stop, task = await _run_scenario(broker, "device-dies")
    try:
        alarm = await eventually(
            lambda: db.fetchrow(
                "SELECT * FROM alarms WHERE device_id = 'tank-1' AND code = 'DEVICE_OFFLINE'"
            ),
            within=40,
        )
        assert alarm["active"] and alarm["severity"] == "warning"
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def _simulate(broker: PrivateBroker, *args: str) -> subprocess.CompletedProcess[str]:
    """`caretaker simulate ARGS` as a user runs it; it must end by itself."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "backend.cli", "simulate", *args, "--mqtt-url", broker.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_simulate_entrapment_says_what_it_published_and_exits(
    db: asyncpg.Connection, start_gateway: StartGateway, broker: PrivateBroker
) -> None:
    await start_gateway()
    done = await _simulate(broker, "entrapment")
    assert done.returncode == 0, done.stderr
    said = done.stdout
    assert "caretaker/demo/elev-a1/event: ELEVATOR_ENTRAPMENT raised" in said
    event_id = said.split("(eventId ", 1)[1].split(")", 1)[0]
    assert "caretaker simulate entrapment --clear" in said
    alarm = await eventually(
        lambda: db.fetchrow(
            "SELECT * FROM alarms WHERE device_id = 'elev-a1' AND code = 'ELEVATOR_ENTRAPMENT'"
        )
    )
    assert alarm["active"]
    # the event the command named is the one the gateway recorded
    assert await eventually(
        lambda: db.fetchval("SELECT count(*) FROM device_events WHERE event_id = $1", event_id)
    )

    done = await _simulate(broker, "entrapment", "--clear")
    assert done.returncode == 0, done.stderr
    assert "ELEVATOR_ENTRAPMENT cleared" in done.stdout

    async def cleared() -> bool:
        return not await db.fetchval("SELECT active FROM alarms WHERE id = $1", alarm["id"])

    await eventually(cleared)


async def test_simulate_says_so_when_the_broker_is_not_there(broker: PrivateBroker) -> None:
    broker.stop()
    done = await _simulate(broker, "entrapment")
    assert done.returncode == 1
    assert "could not log in" in done.stderr
