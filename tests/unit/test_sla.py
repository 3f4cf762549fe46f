"""Clock arithmetic: due times, pause shifting, states, escalation time and the clientAt credit rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.domain.sla import (
    ClockName,
    ClockState,
    Policy,
    callback_due,
    clock_state,
    credited_time,
    due_times,
    late_minutes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # fixed-date: pure clock arithmetic from a given start
MIN = timedelta(minutes=1)


def test_emergency_p1_due_times() -> None:
    due = due_times(Policy(respond=5, arrive=30, resolve=240, callback=1440), T0, SHANGHAI)
    assert due == {
        ClockName.RESPOND: T0 + 5 * MIN,
        ClockName.ARRIVE: T0 + 30 * MIN,
        ClockName.RESOLVE: T0 + 4 * 60 * MIN,
    }


def test_a_complaint_has_no_arrive_clock_and_a_three_day_callback() -> None:
    policy = Policy(respond=1440, arrive=None, resolve=4320, callback=4320)
    assert set(due_times(policy, T0, SHANGHAI)) == {ClockName.RESPOND, ClockName.RESOLVE}
    assert callback_due(policy, T0) == T0 + timedelta(days=3)
    assert callback_due(Policy(1, 2, 3, None), T0) is None


def test_states_across_the_deadline() -> None:
    due = T0 + 30 * MIN
    assert clock_state(due, None, None, due - MIN) is ClockState.RUNNING
    assert clock_state(due, None, None, due) is ClockState.RUNNING
    assert clock_state(due, None, None, due + timedelta(seconds=1)) is ClockState.BREACHED
    assert clock_state(due, due, None, due + timedelta(days=1)) is ClockState.MET
    assert clock_state(due, due + MIN, None, due + MIN) is ClockState.MET_LATE
    assert clock_state(due, None, due - MIN, due + timedelta(days=1)) is ClockState.PAUSED


def test_lateness_in_minutes_met_or_running() -> None:
    due = T0 + 30 * MIN
    assert late_minutes(due, due, due + timedelta(days=1)) is None
    assert late_minutes(due, due + 16 * MIN, due + timedelta(days=1)) == 16
    assert late_minutes(due, None, due + 90 * MIN) == 90
    assert late_minutes(due, None, due + timedelta(seconds=20)) == 1


def test_a_complaint_is_investigated_by_the_end_of_its_day_in_the_site_zone() -> None:
    """DOMAIN.md "Complaint": same-day investigation, the day being the site's, not UTC's."""
    policy = Policy(respond=1440, arrive=None, resolve=4320, callback=4320, investigate_same_day=True)
    # 23:30 in Shanghai on the 23rd is 15:30 UTC: due at Shanghai midnight, 30 minutes later
    late_evening = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # fixed-date: pure arithmetic, no clock
    due = due_times(policy, late_evening, SHANGHAI)[ClockName.INVESTIGATE]
    assert due == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # fixed-date: pure arithmetic, no clock
    # 00:30 in Shanghai on the 24th (16:30 UTC on the 23rd) has the whole Shanghai day
    after_midnight = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)  # fixed-date: pure arithmetic, no clock
    due = due_times(policy, after_midnight, SHANGHAI)[ClockName.INVESTIGATE]
    assert due == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # fixed-date: pure arithmetic, no clock
    assert ClockName.INVESTIGATE not in due_times(Policy(1, 2, 3, None), T0, SHANGHAI)


def test_client_time_is_credited_only_between_the_previous_event_and_receipt() -> None:
    previous, received = T0, T0 + 40 * MIN
    inside = T0 + 10 * MIN
    assert credited_time(inside, previous, received) == inside
    assert credited_time(previous, previous, received) == previous
    assert credited_time(T0 - MIN, previous, received) == received
    assert credited_time(received + MIN, previous, received) == received
    assert credited_time(None, previous, received) == received
