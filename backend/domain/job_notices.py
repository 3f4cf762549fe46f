"""Building notices from maintenance work (DOMAIN.md "Owners", docs/OWNERS.md "Notices from maintenance
work"): a job on a building's shared asset tells every resident of the building what it interrupts (停水,
停电, 停梯) and when, once, and once more when the job is completed or cancelled. Pure rules.

A maintenance plan may carry the same flag: each job it generates announces itself `lead_hours` before the
work, which is taken to start at NOTICE_START_HOUR (site time) on the period's due day and to last
`window_hours`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, LongText
from backend.domain.models import Model
from backend.domain.workflow import CLOSED_STATUSES, DONE_STATUSES

NoticeKind = Literal["water", "power", "lift"]
# Who tells the residents: the desk and those above it (docs/OWNERS.md).
NOTICE_MARKERS = frozenset({"agent", "supervisor", "manager", "admin"})
# Who sets a plan's notice: those who plan maintenance.
PLAN_EDITORS = frozenset({"supervisor", "manager", "admin"})
# The job actions after which the service is back: the residents are told "restored" (once).
RESTORING_ACTIONS = frozenset({"complete", "cancel", "close"})
# A job done or over interrupts nothing more: it is not announced (any more).
FINISHED_STATUSES = frozenset(s.value for s in CLOSED_STATUSES | DONE_STATUSES)
# Planned work is taken to start at this hour of its due day, site time.
NOTICE_START_HOUR = 9

LeadHours = Annotated[int, msgspec.Meta(ge=1, le=168)]
WindowHours = Annotated[int, msgspec.Meta(ge=1, le=72)]


class ResidentNoticeCreate(ClientBody, frozen=True):
    """Tell the residents of the job's building: what stops, from when until when, and a note."""

    kind: NoticeKind
    starts_at: ClientTime
    ends_at: ClientTime
    note: LongText = ""


class ResidentNotice(Model, frozen=True):
    """A job's notice to its building (a planned outage linked to the job)."""

    id: UUID
    work_order_id: UUID
    building_id: UUID
    building: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    note: str
    created_at: datetime
    restored_at: datetime | None
    recipients: int


class PlanNotice(ClientBody, frozen=True):
    """A maintenance plan's notice: what its work interrupts (null: nothing), how long ahead, how long."""

    kind: NoticeKind | None
    lead_hours: LeadHours = 24
    window_hours: WindowHours = 4


class PlanNoticeView(Model, frozen=True):
    plan_id: UUID
    kind: str | None
    lead_hours: int
    window_hours: int


def plan_work_window(due_on: date, timezone: str, window_hours: int) -> tuple[datetime, datetime]:
    """When a plan's work on its due day interrupts the service: from the start hour, for window_hours."""
    starts = datetime.combine(due_on, time(NOTICE_START_HOUR), tzinfo=ZoneInfo(timezone))
    return starts, starts + timedelta(hours=window_hours)


def plan_notice_due(starts_at: datetime, ends_at: datetime, lead_hours: int, now: datetime) -> bool:
    """Whether a plan's job should announce itself now: from lead_hours before the work until it ends."""
    return starts_at - timedelta(hours=lead_hours) <= now < ends_at
