"""The emergency plan and drill rules: due times from the alarm, overdue only while not done, and a drill
due a year after the last one (at once when there was none)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from backend.domain.alarm_codes import ALARM_CODES, EMERGENCY_SCENARIO
from backend.domain.emergency import (
    DEFAULT_PHONES,
    DEFAULT_STEPS,
    NEVER_DRILLED,
    SCENARIOS,
    STEP_ROLES,
    default_plan,
    drill_due_from,
    drill_is_due,
    is_overdue,
    step_due_at,
)


def test_every_default_step_names_a_role_and_every_plan_the_emergency_numbers() -> None:
    for scenario in SCENARIOS:
        assert all(step.role in STEP_ROLES for step in DEFAULT_STEPS[scenario])
        assert {"119", "110", "120"} <= {p.number for p in DEFAULT_PHONES[scenario]}
    # TSG T5002: on site within 30 minutes of an entrapment
    on_site = next(s for s in DEFAULT_STEPS["entrapment"] if s.role == "technician")
    assert on_site.due_minutes == 30
    assert default_plan("power_cut").welfare_visits and not default_plan("fire").welfare_visits


def test_only_emergency_alarms_run_plans() -> None:
    for code, spec in ALARM_CODES.items():
        if code in EMERGENCY_SCENARIO:
            assert spec.work_order_kind == "emergency"
    assert EMERGENCY_SCENARIO["ELEVATOR_ENTRAPMENT"] == "entrapment"
    assert EMERGENCY_SCENARIO["MAINS_LOSS"] == "power_cut"


def test_a_step_is_due_from_the_alarm_and_overdue_only_while_not_done() -> None:
    opened = datetime.now(UTC)
    step = DEFAULT_STEPS["entrapment"][2]
    due = step_due_at(opened, step)
    assert due == opened + timedelta(minutes=30)
    assert not is_overdue(due, None, due)
    assert is_overdue(due, None, due + timedelta(seconds=1))
    assert not is_overdue(due, due + timedelta(minutes=5), due + timedelta(hours=1))  # done late: not overdue
    assert not is_overdue(None, None, opened + timedelta(days=3))  # no time limit


def test_a_drill_falls_due_a_year_after_the_last() -> None:
    today = datetime.now(UTC).date()
    last = today - timedelta(days=364)
    assert not drill_is_due(last, today)
    assert drill_is_due(last, today + timedelta(days=1))
    assert drill_due_from(last) == last + timedelta(days=365)
    assert drill_is_due(None, today) and drill_due_from(None) == NEVER_DRILLED
    assert isinstance(NEVER_DRILLED, date)
