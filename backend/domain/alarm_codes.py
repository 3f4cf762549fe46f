"""The alarm code table (DESIGN.md "MQTT"): which devices raise each code, how bad it is, what work order it
opens and who is told at once — plus the ladder an unacknowledged alarm climbs. The gateway, the services,
the catalogue of labels and the API all read these tables; nothing else keeps a copy.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from backend.domain.roles import Role

Severity = Literal["critical", "major", "minor", "warning"]
SEVERITIES: tuple[Severity, ...] = ("critical", "major", "minor", "warning")


class AlarmSpec(msgspec.Struct, frozen=True):
    """One row of the alarm code table: who may raise it, how bad, what work, who is told."""

    code: str
    label_zh: str
    label_en: str
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
ELEVATOR = frozenset({"elevator"})

_GUARDS, _TECHS = Role.GUARD.value, Role.TECHNICIAN.value
_SUP, _MGR = Role.SUPERVISOR.value, Role.MANAGER.value

ALARM_CODES: dict[str, AlarmSpec] = {
    spec.code: spec
    for spec in (
        AlarmSpec(code="ELEVATOR_ENTRAPMENT", label_zh="电梯困人", label_en="Elevator entrapment",
                  device_kinds=ELEVATOR, severity="critical", work_order_kind="emergency", priority=1,
                  category="elevator", tell_roles=(_GUARDS, _TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_STOPPED", label_zh="电梯停梯", label_en="Elevator stopped",
                  device_kinds=ELEVATOR, severity="major", work_order_kind="repair", priority=2,
                  category="elevator", tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_DOOR_FAULT", label_zh="电梯门故障", label_en="Elevator door fault",
                  device_kinds=ELEVATOR, severity="major", work_order_kind="repair", priority=2,
                  category="elevator", tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="ELEVATOR_OVERSPEED", label_zh="电梯超速", label_en="Elevator overspeed",
                  device_kinds=ELEVATOR, severity="critical", work_order_kind="emergency", priority=1,
                  category="elevator", tell_roles=(_GUARDS, _TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="WATER_LEAK", label_zh="漏水/水浸", label_en="Water leak",
                  device_kinds=frozenset({"leak"}), severity="critical", work_order_kind="emergency",
                  priority=1, category="water", tell_roles=(_GUARDS, _TECHS), cooldown_seconds=600),
        AlarmSpec(code="PUMP_FAILURE", label_zh="水泵故障", label_en="Pump failure",
                  device_kinds=frozenset({"pump"}), severity="critical", work_order_kind="emergency",
                  priority=1, category="water", tell_roles=(_TECHS, _GUARDS), cooldown_seconds=300),
        AlarmSpec(code="PRESSURE_LOW", label_zh="管网压力低", label_en="Water pressure low",
                  device_kinds=frozenset({"pressure"}), severity="major", work_order_kind="repair",
                  priority=2, category="water", tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="PRESSURE_HIGH", label_zh="管网压力高", label_en="Water pressure high",
                  device_kinds=frozenset({"pressure"}), severity="major", work_order_kind="repair",
                  priority=2, category="water", tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="TANK_LEVEL_LOW", label_zh="水箱液位低", label_en="Tank level low",
                  device_kinds=frozenset({"tank"}), severity="major", work_order_kind="repair",
                  priority=2, category="water", tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="TANK_LEVEL_HIGH", label_zh="水箱液位高", label_en="Tank level high",
                  device_kinds=frozenset({"tank"}), severity="major", work_order_kind="repair",
                  priority=2, category="water", tell_roles=(_TECHS,), cooldown_seconds=600),
        AlarmSpec(code="MAINS_LOSS", label_zh="市电停电", label_en="Mains power lost",
                  device_kinds=frozenset({"power"}), severity="critical", work_order_kind="emergency",
                  priority=1, category="electrical", tell_roles=(_GUARDS, _TECHS, _SUP, _MGR),
                  cooldown_seconds=300),
        AlarmSpec(code="GENERATOR_FAILURE", label_zh="发电机故障", label_en="Generator failure",
                  device_kinds=POWER, severity="critical", work_order_kind="emergency", priority=1,
                  category="electrical", tell_roles=(_TECHS, _SUP), cooldown_seconds=300),
        AlarmSpec(code="PHASE_LOSS", label_zh="缺相", label_en="Phase loss",
                  device_kinds=POWER, severity="major", work_order_kind="repair", priority=2,
                  category="electrical", tell_roles=(_TECHS,), cooldown_seconds=300),
        AlarmSpec(code="BREAKER_TRIP", label_zh="断路器跳闸", label_en="Breaker trip",
                  device_kinds=POWER, severity="major", work_order_kind="repair", priority=2,
                  category="electrical", tell_roles=(_TECHS,), cooldown_seconds=300),
        AlarmSpec(code="VOLTAGE_ABNORMAL", label_zh="电压异常", label_en="Voltage abnormal",
                  device_kinds=POWER, severity="minor", work_order_kind="repair", priority=3,
                  category="electrical", tell_roles=(_TECHS,), cooldown_seconds=900),
        # No work order at once: a device that stays offline for 10 minutes gets a P3 inspection instead.
        AlarmSpec(code="DEVICE_OFFLINE", label_zh="设备离线", label_en="Device offline",
                  device_kinds=ANY_DEVICE, severity="warning", work_order_kind=None, priority=None,
                  category="other", tell_roles=(_TECHS,), cooldown_seconds=300),
    )
}  # fmt: skip

DEVICE_OFFLINE = "DEVICE_OFFLINE"

# Which emergency plan (backend/domain/emergency.py) an alarm's emergency work order runs as its checklist.
EMERGENCY_SCENARIO: dict[str, str] = {
    "ELEVATOR_ENTRAPMENT": "entrapment",
    "WATER_LEAK": "flooding",
    "PUMP_FAILURE": "flooding",
    "MAINS_LOSS": "power_cut",
    "GENERATOR_FAILURE": "power_cut",
}
