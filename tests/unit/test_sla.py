"""Clock arithmetic: due times, pause shifting, states, escalation time and the clientAt credit rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.sla import (
    ClockName,
    ClockState,
    Policy,
    callback_due,
    clock_state,
    credited_time,
    due_times,
    escalation_time,
    resumed_due,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # fixed-date: pure clock arithmetic from a given start
MIN = timedelta(minutes=1)


def test_emergency_p1_due_times() -> None:
    due = due_times(Policy(respond=5, arrive=30, resolve=240, callback=1440), T0)
    assert due == {
        ClockName.RESPOND: T0 + 5 * MIN,
        ClockName.ARRIVE: T0 + 30 * MIN,
        ClockName.RESOLVE: T0 + 4 * 60 * MIN,
    }


def test_a_complaint_has_no_arrive_clock_and_a_three_day_callback() -> None:
    policy = Policy(respond=1440, arrive=None, resolve=4320, callback=4320)
    assert set(due_times(policy, T0)) == {ClockName.RESPOND, ClockName.RESOLVE}
    assert callback_due(policy, T0) == T0 + timedelta(days=3)
    assert callback_due(Policy(1, 2, 3, None), T0) is None


def test_states_across_the_deadline() -> None:
    due = T0 + 30 * MIN
    assert clock_state(due, None, None, due - MIN) is ClockState.RUNNING
    assert clock_state(due, None, None, due) is ClockState.RUNNING
    assert clock_state(due, None, None, due + timedelta(seconds=1)) is ClockState.BREACHED
    assert clock_state(due, due, None, due + timedelta(days=1)) is ClockState.MET
    assert clock_state(due, due + MIN, None, due + MIN) is ClockState.BREACHED
    assert clock_state(due, None, due - MIN, due + timedelta(days=1)) is ClockState.PAUSED


def test_resume_moves_the_due_time_by_the_pause() -> None:
    due = T0 + timedelta(hours=24)
    assert resumed_due(due, T0 + timedelta(hours=1), T0 + timedelta(hours=3)) == due + timedelta(hours=2)
    # a resume stamped before its pause never makes the due time earlier
    assert resumed_due(due, T0 + timedelta(hours=3), T0 + timedelta(hours=1)) == due


def test_escalation_after_a_further_half_of_the_clock() -> None:
    assert escalation_time(T0, T0 + 30 * MIN) == T0 + 45 * MIN
    assert escalation_time(T0, T0 + timedelta(hours=24)) == T0 + timedelta(hours=36)


def test_client_time_is_credited_only_between_the_previous_event_and_receipt() -> None:
    previous, received = T0, T0 + 40 * MIN
    inside = T0 + 10 * MIN
    assert credited_time(inside, previous, received) == inside
    assert credited_time(previous, previous, received) == previous
    assert credited_time(T0 - MIN, previous, received) == received
    assert credited_time(received + MIN, previous, received) == received
    assert credited_time(None, previous, received) == received
