"""Scenarios on demand: faults played out by the simulated devices over real MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from simulators.devices import Broker, SimulatedDevice

Fleet = dict[str, SimulatedDevice]
Scenario = Callable[[Fleet, Broker], Awaitable[None]]


async def entrapment(fleet: Fleet, broker: Broker) -> None:
    """Someone is stuck in elevator A1 between floors 7 and 8; released after two minutes."""
    elevator = fleet["elev-a1"]
    elevator.overrides = {"speedMs": 0.0, "doorOpen": 0.0, "floor": 7.0}
    elevator.publish_event("ELEVATOR_ENTRAPMENT", detail={"floor": 7, "passengers": 1})
    await asyncio.sleep(120)
    elevator.publish_event("ELEVATOR_ENTRAPMENT", "cleared")
    elevator.overrides = {}


async def pipe_burst(fleet: Fleet, broker: Broker) -> None:
    """A riser bursts in pump room 1: pressure collapses, the leak sensor trips, the tank drains."""
    fleet["pres-1"].overrides = {"pressureKpa": 95.0}
    fleet["tank-1"].overrides = {"tankLevelPct": 18.0}
    fleet["leak-1"].overrides = {"leak": 1.0}
    fleet["leak-1"].publish_event("WATER_LEAK", detail={"zone": "pump room 1"})
    await asyncio.sleep(300)
    fleet["leak-1"].publish_event("WATER_LEAK", "cleared")
    for device_id in ("pres-1", "tank-1", "leak-1"):
        fleet[device_id].overrides = {}


async def power_cut(fleet: Fleet, broker: Broker) -> None:
    """Mains 1 is lost; the generator starts and carries the load; mains returns after five minutes."""
    fleet["mains-1"].overrides = {"voltageV": 0.0, "currentA": 0.0}
    fleet["mains-1"].publish_event("MAINS_LOSS", detail={"feeder": 1})
    await asyncio.sleep(10)
    fleet["gen-1"].overrides = {"voltageV": 228.0, "fuelPct": 91.0}
    await asyncio.sleep(290)
    fleet["mains-1"].publish_event("MAINS_LOSS", "cleared")
    fleet["mains-1"].overrides = {}
    fleet["gen-1"].overrides = {}


async def flapping_pressure(fleet: Fleet, broker: Broker) -> None:
    """Pressure 2 hovers around the low threshold for ten minutes: the hysteresis band keeps it quiet."""
    sensor = fleet["pres-2"]
    for i in range(120):
        sensor.overrides = {"pressureKpa": 145.0 if i % 2 else 158.0}
        await asyncio.sleep(5)
    sensor.overrides = {}


async def device_dies(fleet: Fleet, broker: Broker) -> None:
    """Tank 1's sensor loses power: its connection drops and the broker publishes its Last Will."""
    fleet["tank-1"].disconnect(gracefully=False)


SCENARIOS: dict[str, Scenario] = {
    "entrapment": entrapment,
    "pipe-burst": pipe_burst,
    "power-cut": power_cut,
    "flapping-pressure": flapping_pressure,
    "device-dies": device_dies,
}
