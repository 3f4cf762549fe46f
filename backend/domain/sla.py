"""SLA clock arithmetic: due times, pause shifting, clock state, escalation time, clientAt credit.

Clocks (DESIGN.md "Clocks"): respond (met by accept), arrive (met by arrive), resolve (met by complete),
callback (started at completion, met by a callback that reaches the owner). Pausing stops the resolve clock:
the owner not being home or a part on order is not the technician's delay, so on resume the resolve due time
moves later by the time spent paused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class ClockName(StrEnum):
    """The four clocks a work order can carry."""

    RESPOND = "respond"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    CALLBACK = "callback"


class ClockState(StrEnum):
    """How a clock stands at a moment."""

    RUNNING = "running"
    MET = "met"
    BREACHED = "breached"
    PAUSED = "paused"


@dataclass(frozen=True)
class Policy:
    """Minutes allowed per clock; None means the clock does not apply (a complaint has no arrive clock)."""

    respond: int | None
    arrive: int | None
    resolve: int | None
    callback: int | None


# Which action meets which clock.
MET_BY = {"accept": ClockName.RESPOND, "arrive": ClockName.ARRIVE, "complete": ClockName.RESOLVE}
# Clocks that start when the work order is created; the callback clock starts at completion.
START_AT_CREATION = (ClockName.RESPOND, ClockName.ARRIVE, ClockName.RESOLVE)


def due_times(policy: Policy, created_at: datetime) -> dict[ClockName, datetime]:
    """The due time of each clock that starts at creation."""
    minutes = {
        ClockName.RESPOND: policy.respond,
        ClockName.ARRIVE: policy.arrive,
        ClockName.RESOLVE: policy.resolve,
    }
    return {name: created_at + timedelta(minutes=m) for name, m in minutes.items() if m is not None}


def callback_due(policy: Policy, completed_at: datetime) -> datetime | None:
    """When the follow-up call is due after completion (None when the policy has no callback)."""
    return None if policy.callback is None else completed_at + timedelta(minutes=policy.callback)


def resumed_due(due_at: datetime, paused_since: datetime, resumed_at: datetime) -> datetime:
    """The due time after a pause: later by the time spent paused (never earlier)."""
    return due_at + max(resumed_at - paused_since, timedelta(0))


def clock_state(
    due_at: datetime, met_at: datetime | None, paused_since: datetime | None, now: datetime
) -> ClockState:
    """Met on time, breached (met late or overdue), paused, or still running."""
    if met_at is not None:
        return ClockState.MET if met_at <= due_at else ClockState.BREACHED
    if paused_since is not None:
        return ClockState.PAUSED
    return ClockState.BREACHED if now > due_at else ClockState.RUNNING


def escalation_time(starts_at: datetime, due_at: datetime) -> datetime:
    """When a breached clock goes to the manager: a further half of the clock's length after the due time."""
    return due_at + (due_at - starts_at) / 2


def credited_time(
    client_at: datetime | None, previous_event_at: datetime | None, received_at: datetime
) -> datetime:
    """The time an action counts as done for SLA purposes.

    A phone's clientAt is trusted only between the previous server-confirmed event and the receipt: an offline
    technician who arrived at 10:00 and synced at 10:40 gets 10:00, but a phone clock set in the past (before
    the job existed) or the future earns nothing.
    """
    if client_at is None:
        return received_at
    if previous_event_at is not None and client_at < previous_event_at:
        return received_at
    if client_at > received_at:
        return received_at
    return client_at
