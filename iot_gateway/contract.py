"""The MQTT contract between devices and the gateway: topics, payloads and the alarm code table.

Devices (and the simulators) import this module, so it depends on nothing but msgspec.
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

Severity = Literal["critical", "major", "minor", "warning"]


class AlarmSpec(msgspec.Struct, frozen=True):
    """One row of the alarm code table (DESIGN.md): who may raise it, how bad, what work, who is told."""

    code: str
    label: str
    device_kinds: frozenset[str]
    severity: Severity
    work_order_kind: Literal["emergency", "repair"] | None
    priority: int | None
    category: str
    tell_roles: tuple[str, ...]
    # A re-raise this soon after a clear re-opens the same alarm instead of starting a new one (flapping).
    cooldown_seconds: int


ANY_DEVICE = frozenset({"elevator", "pump", "pressure", "tank", "leak", "power", "generator"})
POWER = frozenset({"power", "generator"})

_GUARDS, _TECHS, _SUP, _MGR = "guard", "technician", "supervisor", "manager"

ALARM_CODES: dict[str, AlarmSpec] = {
    spec.code: spec
    for spec in (
        AlarmSpec(code="ELEVATOR_ENTRAPMENT", label="电梯困人", device_kinds=frozenset({"elevator"}),
                  severity="critical", work_order_kind="emergency", priority=1, category="elevator",
                  tell_roles=(_GUARDS, _TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_STOPPED", label="电梯停梯", device_kinds=frozenset({"elevator"}),
                  severity="major", work_order_kind="repair", priority=2, category="elevator",
                  tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_DOOR_FAULT", label="电梯门故障", device_kinds=frozenset({"elevator"}),
                  severity="major", work_order_kind="repair", priority=2, category="elevator",
                  tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_OVERSPEED", label="电梯超速", device_kinds=frozenset({"elevator"}),
                  severity="critical", work_order_kind="emergency", priority=1, category="elevator",
                  tell_roles=(_GUARDS, _TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="WATER_LEAK", label="漏水/水浸", device_kinds=frozenset({"leak"}),
                  severity="critical", work_order_kind="emergency", priority=1, category="water",
                  tell_roles=(_GUARDS, _TECHS), cooldown_seconds=600),
        AlarmSpec(code="PUMP_FAILURE", label="水泵故障", device_kinds=frozenset({"pump"}),
                  severity="critical", work_order_kind="emergency", priority=1, category="water",
                  tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="PRESSURE_LOW", label="管网压力低", device_kinds=frozenset({"pressure"}),
                  severity="major", work_order_kind="repair", priority=2, category="water",
                  tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="PRESSURE_HIGH", label="管网压力高", device_kinds=frozenset({"pressure"}),
                  severity="major", work_order_kind="repair", priority=2, category="water",
                  tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="TANK_LEVEL_LOW", label="水箱液位低", device_kinds=frozenset({"tank"}),
                  severity="major", work_order_kind="repair", priority=2, category="water",
                  tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="TANK_LEVEL_HIGH", label="水箱液位高", device_kinds=frozenset({"tank"}),
                  severity="major", work_order_kind="repair", priority=2, category="water",
                  tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="MAINS_LOSS", label="市电停电", device_kinds=frozenset({"power"}),
                  severity="critical", work_order_kind="emergency", priority=1, category="electrical",
                  tell_roles=(_GUARDS, _TECHS, _SUP, _MGR), cooldown_seconds=300),
        AlarmSpec(code="GENERATOR_FAILURE", label="发电机故障", device_kinds=POWER,
                  severity="critical", work_order_kind="emergency", priority=1, category="electrical",
                  tell_roles=(_TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="PHASE_LOSS", label="缺相", device_kinds=POWER,
                  severity="major", work_order_kind="repair", priority=2, category="electrical",
                  tell_roles=(_TECHS,), cooldown_seconds=300),
        AlarmSpec(code="BREAKER_TRIP", label="断路器跳闸", device_kinds=POWER,
                  severity="major", work_order_kind="repair", priority=2, category="electrical",
                  tell_roles=(_TECHS,), cooldown_seconds=300),
        AlarmSpec(code="VOLTAGE_ABNORMAL", label="电压异常", device_kinds=POWER,
                  severity="minor", work_order_kind="repair", priority=3, category="electrical",
                  tell_roles=(_TECHS,), cooldown_seconds=900),
        # No work order at once: a device that stays offline for 10 minutes gets a P3 inspection instead.
        AlarmSpec(code="DEVICE_OFFLINE", label="设备离线", device_kinds=ANY_DEVICE,
                  severity="warning", work_order_kind=None, priority=None, category="other",
                  tell_roles=(_TECHS,), cooldown_seconds=300),
    )
}  # fmt: skip

DEVICE_OFFLINE = "DEVICE_OFFLINE"
