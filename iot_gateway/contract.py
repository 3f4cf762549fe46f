"""The MQTT contract between devices and the gateway: topics and payload shapes, nothing else.

Devices (and the simulators) import this module, so it depends on nothing but msgspec. What an alarm code
means (severity, work order, who is told) is a rule of the domain: backend/domain/alarm_codes.py.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

TOPIC_ROOT = "caretaker"
KINDS_OF_MESSAGE = ("telemetry", "event", "status")
# Members of one group split the messages between them (MQTT v5 shared subscription).
SHARED_GROUP = "caretaker-gateway"
SUBSCRIPTION = f"{TOPIC_ROOT}/#"
SHARED_SUBSCRIPTION = f"$share/{SHARED_GROUP}/{SUBSCRIPTION}"
# Events (alarms) also come to the gateway over a connection of their own, never queued behind telemetry.
EVENT_SUBSCRIPTION = f"{TOPIC_ROOT}/+/+/event"
SHARED_EVENT_SUBSCRIPTION = f"$share/{SHARED_GROUP}-events/{EVENT_SUBSCRIPTION}"
# The gateway's own presence lives outside caretaker/# so that it never reads its own birth message.
GATEWAY_STATUS_TOPIC = "caretaker-gateway/{client_id}/status"

ONLINE = "online"
OFFLINE = "offline"


def telemetry_topic(site: str, device_id: str) -> str:
    """Where a device publishes its measurements."""
    return f"{TOPIC_ROOT}/{site}/{device_id}/telemetry"


def event_topic(site: str, device_id: str) -> str:
    """Where a device publishes alarm events (raised / cleared)."""
    return f"{TOPIC_ROOT}/{site}/{device_id}/event"


def status_topic(site: str, device_id: str) -> str:
    """Where a device publishes `online` (retained) and leaves `offline` as its Last Will."""
    return f"{TOPIC_ROOT}/{site}/{device_id}/status"


class Topic(msgspec.Struct, frozen=True):
    """A parsed device topic."""

    site: str
    device_id: str
    kind: Literal["telemetry", "event", "status"]


def parse_topic(topic: str) -> Topic | None:
    """`caretaker/{site}/{deviceId}/{kind}` → Topic, or None for anything else."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_ROOT or not parts[1] or not parts[2]:
        return None
    if parts[3] not in KINDS_OF_MESSAGE:
        return None
    return Topic(site=parts[1], device_id=parts[2], kind=parts[3])  # type: ignore[arg-type]


class Telemetry(msgspec.Struct, frozen=True, rename="camel"):
    """`{"ts": "...", "seq": 1842, "metrics": {"pressureKpa": 281.5}}`."""

    ts: str
    metrics: dict[str, float]
    seq: int | None = None


class Event(msgspec.Struct, frozen=True, rename="camel"):
    """`{"eventId": "uuid", "ts": "...", "code": "ELEVATOR_ENTRAPMENT", "state": "raised", "detail": {}}`."""

    event_id: str
    code: str
    state: Literal["raised", "cleared"]
    ts: str | None = None
    detail: dict[str, Any] = {}


class StatusBody(msgspec.Struct, frozen=True):
    """The JSON form of a status message (`{"state": "online"}`); the bare word is accepted too."""

    state: Literal["online", "offline"]


# Metric names (camelCase, as on the wire) that threshold rules and simulators agree on.
METRIC_PRESSURE = "pressureKpa"
METRIC_TANK_LEVEL = "tankLevelPct"
METRIC_VOLTAGE = "voltageV"
METRIC_CURRENT = "currentA"
METRIC_FREQUENCY = "frequencyHz"
METRIC_PUMP_RUNNING = "running"
METRIC_FLOW = "flowM3h"
METRIC_FLOOR = "floor"
METRIC_SPEED = "speedMs"
METRIC_DOOR_OPEN = "doorOpen"
METRIC_LOAD = "loadKg"
METRIC_LEAK = "leak"
METRIC_FUEL = "fuelPct"
