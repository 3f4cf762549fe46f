"""Pure alarm rules: what a raise does to an open alarm, and thresholds with hold time and hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.alarm_codes import ALARM_CODES
from backend.domain.alarms import (
    RaiseOutcome,
    ThresholdRule,
    decide_raise,
    evaluate_thresholds,
    is_stale_event,
)
from iot_gateway.contract import parse_topic

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # fixed-date: pure rules, every call is given its `now`
LOW = ThresholdRule(
    metric="pressureKpa", code="PRESSURE_LOW", direction="below", raise_at=150, clear_at=170, hold_seconds=30
)
HIGH_V = ThresholdRule(
    metric="voltageV", code="VOLTAGE_ABNORMAL", direction="above", raise_at=242, clear_at=235, hold_seconds=0
)


def test_raise_decisions() -> None:
    assert decide_raise(open_active=None, cleared_at=None, now=T0, cooldown_seconds=300) is RaiseOutcome.NEW
    assert (
        decide_raise(open_active=True, cleared_at=None, now=T0, cooldown_seconds=300) is RaiseOutcome.REPEATED
    )
    cleared = T0 - timedelta(seconds=299)
    assert (
        decide_raise(open_active=False, cleared_at=cleared, now=T0, cooldown_seconds=300)
        is RaiseOutcome.RERAISED
    )
    long_ago = T0 - timedelta(seconds=301)
    assert (
        decide_raise(open_active=False, cleared_at=long_ago, now=T0, cooldown_seconds=300)
        is RaiseOutcome.REPLACE
    )


def _run(rule: ThresholdRule, readings: list[tuple[float, float]]) -> list[tuple[float, str]]:
    """Feed (seconds after T0, value) readings; return (seconds, action) of every decision."""
    pending: dict = {}
    out = []
    for seconds, value in readings:
        decisions, pending = evaluate_thresholds(
            [rule], {rule.metric: value}, pending, T0 + timedelta(seconds=seconds)
        )
        out.extend((seconds, d.action) for d in decisions)
    return out


def test_a_breach_raises_only_after_holding_for_the_hold_time() -> None:
    assert _run(LOW, [(0, 140), (10, 140), (29, 145)]) == []
    assert _run(LOW, [(0, 140), (10, 140), (30, 145)]) == [(30, "raise")]


def test_a_dip_that_recovers_into_the_band_starts_the_hold_over() -> None:
    assert _run(LOW, [(0, 140), (20, 160), (25, 140), (50, 140)]) == []
    assert _run(LOW, [(0, 140), (20, 160), (25, 140), (55, 140)]) == [(55, "raise")]


def test_hysteresis_clears_only_past_the_clear_level_and_never_twice() -> None:
    readings = [(0, 140), (30, 140), (40, 160), (50, 169), (60, 171), (70, 180)]
    assert _run(LOW, readings) == [(30, "raise"), (60, "clear")]


def test_a_flapping_value_around_the_raise_level_raises_once() -> None:
    readings = [(0, 140), (30, 140)] + [(30 + i, 149 if i % 2 else 152) for i in range(1, 40)]
    assert _run(LOW, readings) == [(30, "raise")]


def test_above_rule_with_no_hold_raises_at_once() -> None:
    assert _run(HIGH_V, [(0, 230), (1, 250), (2, 238), (3, 234)]) == [(1, "raise"), (3, "clear")]


def test_missing_metrics_and_booleans_are_ignored() -> None:
    decisions, pending = evaluate_thresholds([LOW], {"running": True}, {}, T0)
    assert decisions == [] and pending == {}


def test_topic_parsing() -> None:
    topic = parse_topic("caretaker/demo/elev-a1/event")
    assert topic is not None and (topic.site, topic.device_id, topic.kind) == ("demo", "elev-a1", "event")
    for bad in (
        "caretaker/demo/elev-a1",
        "caretaker/demo/elev-a1/other",
        "x/demo/a/event",
        "caretaker//a/event",
    ):
        assert parse_topic(bad) is None


def test_alarm_code_table_matches_the_design() -> None:
    entrapment = ALARM_CODES["ELEVATOR_ENTRAPMENT"]
    assert (entrapment.severity, entrapment.work_order_kind, entrapment.priority) == (
        "critical",
        "emergency",
        1,
    )
    assert set(entrapment.tell_roles) == {"guard", "technician", "supervisor"}
    assert ALARM_CODES["VOLTAGE_ABNORMAL"].priority == 3
    assert ALARM_CODES["DEVICE_OFFLINE"].work_order_kind is None
    assert set(ALARM_CODES["MAINS_LOSS"].tell_roles) == {"guard", "technician", "supervisor", "manager"}


def test_an_event_older_than_the_newest_opposite_one_is_stale() -> None:
    t0 = T0
    later = t0 + timedelta(minutes=1)
    # a clear from 10:00 after a raise from 10:01 has been applied: history, not news
    assert is_stale_event("cleared", t0, (later, "raised"))
    assert is_stale_event("raised", t0, (later, "cleared"))
    # an older repeat of the newest state is a late repeat, not stale
    assert not is_stale_event("raised", t0, (later, "raised"))
    # in order, or the first event of its kind
    assert not is_stale_event("cleared", later, (t0, "raised"))
    assert not is_stale_event("raised", t0, None)
