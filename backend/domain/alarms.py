"""Alarm rules without I/O: what a raise does to an open alarm; thresholds with hold time and hysteresis."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import msgspec

from backend.domain.models import Model, Page


class AlarmWorkOrder(Model, frozen=True):
    """The work order an alarm opened, as the guard follows it: who is going and since when."""

    id: UUID
    number: str
    kind: str
    status: str
    assignee_id: UUID | None = None
    assignee_name: str | None = None
    accepted_at: datetime | None = None
    arrived_at: datetime | None = None
    done: bool = False
    """Completed, signed, closed or cancelled: resolving the alarm then needs no reason."""


class Alarm(Model, frozen=True):
    """An alarm as the API, the live stream and the push payload show it.

    `ackDueAt` is when the next rung of the escalation ladder falls due if nobody acknowledges (the site's
    own setting, counted from the raise or latest re-raise) and `escalatesTo` the role it tells; both are
    null once acknowledged, resolved, at the top of the ladder or for a severity that does not escalate.
    `escalatedTo` is the role told at the rung reached so far (`escalationLevel`).
    """

    id: UUID
    site_id: UUID
    device_id: str
    code: str
    severity: str
    active: bool
    open: bool
    count: int
    detail: dict[str, Any]
    raised_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None = None
    acked_at: datetime | None = None
    acked_by: UUID | None = None
    resolved_at: datetime | None = None
    resolved_by: UUID | None = None
    escalation_level: int = 0
    device_name: str | None = None
    device_kind: str | None = None
    location: str | None = None
    building_name: str | None = None
    site_code: str | None = None
    ack_due_at: datetime | None = None
    escalates_to: str | None = None
    escalated_to: str | None = None
    work_order_id: UUID | None = None
    work_order: AlarmWorkOrder | None = None


class AlarmPage(Page[Alarm], frozen=True):
    """One page of alarms, newest first."""

    items: list[Alarm]


class AlarmEvent(Model, frozen=True):
    """One line of an alarm's history."""

    id: int
    action: str
    at: datetime
    actor_id: UUID | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class AlarmDetail(Alarm, frozen=True):
    """An alarm with its history."""

    events: tuple[AlarmEvent, ...] = ()


class RaiseOutcome(enum.Enum):
    """What a `raised` does given the open alarm of the same (device, code), if any."""

    NEW = "raised"
    REPEATED = "repeated"
    RERAISED = "reraised"
    REPLACE = "replace"  # the old alarm cleared longer ago than its cool-down: close it, start a new one


def decide_raise(
    *, open_active: bool | None, cleared_at: datetime | None, now: datetime, cooldown_seconds: int
) -> RaiseOutcome:
    """Decide what a raise means. `open_active` is None when no alarm of that (device, code) is open."""
    if open_active is None:
        return RaiseOutcome.NEW
    if open_active:
        return RaiseOutcome.REPEATED
    if cleared_at is not None and now - cleared_at <= timedelta(seconds=cooldown_seconds):
        return RaiseOutcome.RERAISED
    return RaiseOutcome.REPLACE


class ThresholdRule(msgspec.Struct, frozen=True):
    """Raise `code` when `metric` is past `raise_at` for `hold_seconds`; clear only once past `clear_at`."""

    metric: str
    code: str
    direction: Literal["below", "above"]
    raise_at: float
    clear_at: float
    hold_seconds: int

    @property
    def key(self) -> str:
        """Bookkeeping key: one code may have a rule on each side (voltage too low, too high)."""
        return f"{self.code}:{self.direction}"

    def breached(self, value: float) -> bool:
        """The raise condition holds."""
        return value < self.raise_at if self.direction == "below" else value > self.raise_at

    def recovered(self, value: float) -> bool:
        """The value is back past the hysteresis band."""
        return value > self.clear_at if self.direction == "below" else value < self.clear_at


class ThresholdDecision(msgspec.Struct, frozen=True):
    """A rule's verdict on one reading."""

    rule: ThresholdRule
    action: Literal["raise", "clear"]
    value: float


def evaluate_thresholds(
    rules: list[ThresholdRule], metrics: dict[str, float], pending: dict[str, Any], now: datetime
) -> tuple[list[ThresholdDecision], dict[str, Any]]:
    """Apply one reading to the rules; returns the raises/clears due and the new bookkeeping.

    `pending` maps rule key → {"since": iso time the condition began or null, "active": bool}. A breach must
    hold `hold_seconds` (server time) before it raises; a value inside the hysteresis band changes nothing.
    """
    state = {k: dict(v) for k, v in pending.items()}
    decisions: list[ThresholdDecision] = []
    for rule in rules:
        value = metrics.get(rule.metric)
        if value is None or isinstance(value, bool):
            continue
        entry = state.setdefault(rule.key, {"since": None, "active": False})
        if rule.breached(value):
            if entry["active"]:
                continue
            since = datetime.fromisoformat(entry["since"]) if entry["since"] else now
            entry["since"] = since.isoformat()
            if now - since >= timedelta(seconds=rule.hold_seconds):
                entry["active"] = True
                decisions.append(ThresholdDecision(rule=rule, action="raise", value=value))
        elif rule.recovered(value):
            entry["since"] = None
            if entry["active"]:
                entry["active"] = False
                decisions.append(ThresholdDecision(rule=rule, action="clear", value=value))
        else:
            # inside the band: a breach in progress must start over, an active alarm stays
            entry["since"] = None
    return decisions, state


def offline_inspection_due(raised_at: datetime, now: datetime, after_seconds: int) -> bool:
    """A device offline this long gets an inspection work order."""
    return now - raised_at >= timedelta(seconds=after_seconds)


def is_stale_event(state: str, ts: datetime, newest: tuple[datetime, str] | None) -> bool:
    """True when a newer event of the same (device, code) already said the opposite.

    Such an event is history, not news: a clear older than the latest raise must not free a trapped
    passenger's alarm, and a raise older than the latest clear must not re-open it. An older event that
    agrees with the newest one is only a late repeat and is applied as such.
    """
    return newest is not None and newest[0] > ts and newest[1] != state
