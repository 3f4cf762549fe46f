"""Promises made to an owner on a case ("回复您在下午 3 点前"): the rules, pure.

A promise names what was promised, when it is due and who made it. It is kept when someone marks it so;
kept on time when that was no later than its due time. The scheduler reminds its maker REMINDER_LEAD before
it is due (once), and when it passes its due time unkept it is broken: the maker and the site's supervisors
are told (once).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.models import Model
from backend.domain.workflow import needs_callback

# The maker is reminded this long before the promise is due.
REMINDER_LEAD = timedelta(minutes=15)
# A promise is for the near future: a date further out is a plan, not a promise to call back.
PROMISE_HORIZON = timedelta(days=30)
# Staff who speak with owners make promises on the cases they can see.
PROMISE_ROLES = frozenset({"agent", "supervisor", "manager", "technician"})

PromiseState = Literal["open", "kept", "broken"]

PromiseText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class PromiseCreate(ClientBody, frozen=True):
    """A promise made to the owner on this case: what, and by when (an instant; screens enter it on the
    site's clock)."""

    text: PromiseText
    due_at: ClientTime


class PromiseKeep(ClientBody, frozen=True):
    """Mark a promise kept, with an optional note of how."""

    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Promise(Model, frozen=True):
    """A promise on a case and where it stands at the time of reading."""

    id: UUID
    work_order_id: UUID
    text: str
    due_at: datetime
    made_at: datetime
    state: PromiseState
    made_by: UUID
    made_by_name: str | None = None
    kept_at: datetime | None = None
    kept_by_name: str | None = None
    kept_note: str | None = None
    kept_on_time: bool | None = None
    reminded_at: datetime | None = None
    broken_at: datetime | None = None


def may_promise(role: str, *, channel: str, reporter_name: str | None, reporter_phone: str | None) -> bool:
    """A promise is made to a person: only on a case someone reported (the callback rule, DOMAIN.md), and
    only by the roles that speak with owners."""
    return role in PROMISE_ROLES and needs_callback(channel, reporter_name, reporter_phone)


def promise_refusal(due_at: datetime, now: datetime) -> str | None:
    """Why a promise due then cannot be recorded now, or None when it can."""
    if due_at <= now:
        return "a promise is due at a time still ahead"
    if due_at > now + PROMISE_HORIZON:
        return f"a promise is due within {PROMISE_HORIZON.days} days"
    return None


def promise_state(*, kept_at: datetime | None, due_at: datetime, now: datetime) -> PromiseState:
    """Kept once marked so; broken once past due unkept; open before."""
    if kept_at is not None:
        return "kept"
    return "broken" if now >= due_at else "open"


def reminder_due(due_at: datetime, now: datetime) -> bool:
    """True from REMINDER_LEAD before the due time until the due time itself."""
    return due_at - REMINDER_LEAD <= now < due_at
