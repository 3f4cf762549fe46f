"""Scenarios on demand: faults played out by the simulated devices over real MQTT.

Each scenario is its fault and, where the fault ends by itself, its all-clear, with how long the fault lasts
when played through (`play`). `caretaker simulate SCENARIO` publishes the fault alone and exits, leaving it
raised as a real fault stays until someone deals with it; `--clear` publishes the all-clear.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from simulators.devices import SimulatedDevice

Fleet = dict[str, SimulatedDevice]
Step = Callable[[Fleet], Awaitable[None]]
# Pressure 2's readings while it hovers around the low threshold (150 kPa, cleared above 170).
FLAP_READINGS = 120
FLAP_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class Scenario:
    """A fault: what it is, the devices it takes, how it starts and ends, and how long it lasts in play."""

    summary: str
    devices: tuple[str, ...]
    fault: Step
    clear: Step | None
    hold_seconds: float


async def play(scenario: Scenario, fleet: Fleet) -> None:
    """The fault, its duration, then the all-clear (the fleet keeps publishing telemetry meanwhile)."""
    await scenario.fault(fleet)
    if scenario.clear is not None:
        await asyncio.sleep(scenario.hold_seconds)
        await scenario.clear(fleet)


async def _entrapment(fleet: Fleet) -> None:
    elevator = fleet["elev-a1"]
    elevator.overrides = {"speedMs": 0.0, "doorOpen": 0.0, "floor": 7.0}
    elevator.publish_event("ELEVATOR_ENTRAPMENT", detail={"floor": 7, "passengers": 1})


async def _released(fleet: Fleet) -> None:
    fleet["elev-a1"].publish_event("ELEVATOR_ENTRAPMENT", "cleared")
    fleet["elev-a1"].overrides = {}


async def _pipe_burst(fleet: Fleet) -> None:
    fleet["pres-1"].overrides = {"pressureKpa": 95.0}
    fleet["tank-1"].overrides = {"tankLevelPct": 18.0}
    fleet["leak-1"].overrides = {"leak": 1.0}
    fleet["leak-1"].publish_event("WATER_LEAK", detail={"zone": "pump room 1"})


async def _pipe_mended(fleet: Fleet) -> None:
    fleet["leak-1"].publish_event("WATER_LEAK", "cleared")
    for device_id in ("pres-1", "tank-1", "leak-1"):
        fleet[device_id].overrides = {}


async def _power_cut(fleet: Fleet) -> None:
    fleet["mains-1"].overrides = {"voltageV": 0.0, "currentA": 0.0}
    fleet["mains-1"].publish_event("MAINS_LOSS", detail={"feeder": 1})
    # the generator takes a few seconds to start and carry the load
    await asyncio.sleep(10)
    fleet["gen-1"].overrides = {"voltageV": 228.0, "fuelPct": 91.0}


async def _power_back(fleet: Fleet) -> None:
    fleet["mains-1"].publish_event("MAINS_LOSS", "cleared")
    fleet["mains-1"].overrides = {}
    fleet["gen-1"].overrides = {}


async def _flapping_pressure(fleet: Fleet) -> None:
    sensor = fleet["pres-2"]
    for i in range(FLAP_READINGS):
        sensor.overrides = {"pressureKpa": 145.0 if i % 2 else 158.0}
        sensor.publish_telemetry(i * FLAP_INTERVAL_SECONDS)
        await asyncio.sleep(FLAP_INTERVAL_SECONDS)


async def _pressure_steady(fleet: Fleet) -> None:
    fleet["pres-2"].overrides = {}


async def _device_dies(fleet: Fleet) -> None:
    fleet["tank-1"].disconnect(gracefully=False)


SCENARIOS: dict[str, Scenario] = {
    "entrapment": Scenario(
        "Someone is trapped in elevator A1 between floors 7 and 8 (released after two minutes in play).",
        ("elev-a1",),
        _entrapment,
        _released,
        120,
    ),
    "pipe-burst": Scenario(
        "A riser bursts in pump room 1: pressure collapses, the leak sensor trips, the tank drains.",
        ("pres-1", "tank-1", "leak-1"),
        _pipe_burst,
        _pipe_mended,
        300,
    ),
    "power-cut": Scenario(
        "Mains 1 is lost; the generator starts and carries the load (mains is back in five minutes in play).",
        ("mains-1", "gen-1"),
        _power_cut,
        _power_back,
        290,
    ),
    "flapping-pressure": Scenario(
        "Pressure 2 hovers around the low threshold for ten minutes: the hysteresis band keeps it quiet.",
        ("pres-2",),
        _flapping_pressure,
        _pressure_steady,
        0,
    ),
    "device-dies": Scenario(
        "Tank 1's sensor loses power: its connection drops and the broker publishes its Last Will.",
        ("tank-1",),
        _device_dies,
        None,
        0,
    ),
}
