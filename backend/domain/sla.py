"""SLA clocks: which clocks a work order carries, their due times, how they stand, the clientAt credit rule.

Clocks (DESIGN.md "Clocks"): respond, arrive, resolve, callback, and for a complaint the same-day
investigation. Which action meets which clock is a transition effect (domain/workflow.py). Pausing stops the
resolve clock: the owner not being home or a part on order is not the technician's delay, so on resume the
resolve due time moves later by the time spent paused (the SQL in db/queries does the shifting in place).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class ClockName(StrEnum):
    """The clocks a work order can carry."""

    RESPOND = "respond"
    INVESTIGATE = "investigate"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    CALLBACK = "callback"


# The order clocks are shown in: the order they fall due in a job's life.
CLOCK_ORDER = tuple(ClockName)


class ClockState(StrEnum):
    """How a clock stands at a moment."""

    RUNNING = "running"
    MET = "met"
    MET_LATE = "met_late"
    BREACHED = "breached"  # unmet and past its due time
    PAUSED = "paused"
    WAIVED = "waived"  # the job ended without it (a follow-up call nobody needed any more)


@dataclass(frozen=True)
class Policy:
    """Minutes allowed per clock; None means the clock does not apply (a complaint has no arrive clock).

    `investigate_same_day`: the investigation is due by the end of the receiving day in the site's zone.
    """

    respond: int | None
    arrive: int | None
    resolve: int | None
    callback: int | None
    investigate_same_day: bool = False


def end_of_day(at: datetime, zone: ZoneInfo) -> datetime:
    """Midnight after `at` in the site's zone (the same-day deadline), as an aware instant."""
    local_day = at.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time(0), tzinfo=zone)


def due_times(policy: Policy, created_at: datetime, zone: ZoneInfo) -> dict[ClockName, datetime]:
    """The due time of each clock that starts when the work order is created."""
    minutes = {
        ClockName.RESPOND: policy.respond,
        ClockName.ARRIVE: policy.arrive,
        ClockName.RESOLVE: policy.resolve,
    }
    due = {name: created_at + timedelta(minutes=m) for name, m in minutes.items() if m is not None}
    if policy.investigate_same_day:
        due[ClockName.INVESTIGATE] = end_of_day(created_at, zone)
    return due


def callback_due(policy: Policy, completed_at: datetime) -> datetime | None:
    """When the follow-up call is due after completion (None when the policy has no callback)."""
    return None if policy.callback is None else completed_at + timedelta(minutes=policy.callback)


def clock_state(
    due_at: datetime,
    met_at: datetime | None,
    paused_since: datetime | None,
    now: datetime,
    waived_at: datetime | None = None,
) -> ClockState:
    """Met (on time or late), waived, paused, breached (unmet past due), or still running."""
    if met_at is not None:
        return ClockState.MET if met_at <= due_at else ClockState.MET_LATE
    if waived_at is not None:
        return ClockState.WAIVED
    if paused_since is not None:
        return ClockState.PAUSED
    return ClockState.BREACHED if now > due_at else ClockState.RUNNING


def late_minutes(due_at: datetime, met_at: datetime | None, now: datetime) -> int | None:
    """Whole minutes a clock was met late by, or is overdue by now (None when on time)."""
    end = met_at or now
    if end <= due_at:
        return None
    return max(1, int((end - due_at).total_seconds() // 60))


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


# seeds-digest §3.1 row 18: a missed appointment is a named complaint cause (維修預約後未按時到達). The seeds
# give no tolerance; Caretaker allows this much after the agreed time before the visit counts as missed.
APPOINTMENT_GRACE = timedelta(minutes=30)


def missed_appointment_minutes(appointment_at: datetime | None, arrived_at: datetime) -> int | None:
    """Minutes past the agreed time (grace included) when the technician arrived too late, else None."""
    if appointment_at is None or arrived_at <= appointment_at + APPOINTMENT_GRACE:
        return None
    return int((arrived_at - appointment_at).total_seconds() // 60)


# An appointment is agreed for a visit ahead: not in the past, and not further out than a desk can promise.
APPOINTMENT_HORIZON = timedelta(days=60)


def appointment_refusal(appointment_at: datetime, now: datetime, *, kind: str) -> str | None:
    """Why an appointment time cannot be agreed for a job of `kind` now, or None when it can."""
    if kind == "complaint":
        return "a complaint has no visit to agree a time for"
    if appointment_at < now:
        return "the appointment agreed with the owner must lie ahead"
    if appointment_at > now + APPOINTMENT_HORIZON:
        return f"an appointment is agreed at most {APPOINTMENT_HORIZON.days} days ahead"
    return None
