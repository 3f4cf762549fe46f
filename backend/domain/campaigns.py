"""Callback campaigns beyond single jobs (DOMAIN.md "Callbacks"): the rules, pure.

- **Routine sample (例行回访)**: once a month per site, ROUTINE_SHARE of the site's units, rounded up, at
  least ROUTINE_MIN (all of them when there are fewer). Units not sampled in the last ROUTINE_LOOKBACK
  months come first, then those sampled longest ago; within each, the order is a hash of site, month and
  unit: random-looking, the same every time it is drawn (reproducible). Due by the end of the month in the
  site's zone.
- **Move-in call (入住回访)**: a week (MOVE_IN_DELAY) after an owner or tenant is registered on a unit, one
  call; a resident registered more than MOVE_IN_WINDOW ago is no longer new and gets none.
- **Outcome**: reached (with a 1-5 satisfaction when the resident gives one), no answer, or refused; notes;
  a problem heard on a reached call becomes a follow-up job. An outcome is recorded once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, Code, LongText
from backend.domain.models import Model

ROUTINE_SHARE = 0.05
ROUTINE_MIN = 3
ROUTINE_LOOKBACK = 6
MOVE_IN_DELAY = timedelta(days=7)
MOVE_IN_WINDOW = timedelta(days=30)
MOVE_IN_RELATIONS = ("owner", "tenant")

CampaignName = Literal["routine_sample", "move_in"]
CAMPAIGNS: tuple[str, ...] = ("routine_sample", "move_in")
Outcome = Literal["reached", "no_answer", "refused"]
OUTCOMES: tuple[str, ...] = ("reached", "no_answer", "refused")


def month_of(now: datetime, zone: ZoneInfo) -> str:
    """The site's calendar month at `now`, as '2026-03'."""
    local = now.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def month_end(period: str, zone: ZoneInfo) -> datetime:
    """The first instant after the month `period` in the site's zone (a routine call is due by then)."""
    year, month = (int(p) for p in period.split("-"))
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return datetime.combine(first_next, datetime.min.time(), tzinfo=zone)


def months_before(period: str, count: int) -> str:
    """The month `count` months before `period`."""
    year, month = (int(p) for p in period.split("-"))
    index = year * 12 + (month - 1) - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def sample_size(units: int) -> int:
    """How many of a site's units the month's routine sample calls."""
    return min(units, max(ROUTINE_MIN, math.ceil(units * ROUTINE_SHARE)))


def _draw(site_id: UUID, period: str, unit_id: UUID) -> str:
    return hashlib.sha256(f"{site_id}:{period}:{unit_id}".encode()).hexdigest()


def pick_sample(units: Sequence[tuple[UUID, str | None]], *, site_id: UUID, period: str) -> list[UUID]:
    """The units of the month's routine sample, from (unit, last month it was sampled or None)."""
    since = months_before(period, ROUTINE_LOOKBACK)

    def key(unit: tuple[UUID, str | None]) -> tuple[int, str, str]:
        unit_id, last = unit
        recent = last is not None and last > since
        return (1 if recent else 0, last if recent and last else "", _draw(site_id, period, unit_id))

    ranked = sorted(units, key=key)
    return [unit_id for unit_id, _ in ranked[: sample_size(len(units))]]


def move_in_due(registered_at: datetime) -> datetime:
    """When a new resident's move-in call is owed."""
    return registered_at + MOVE_IN_DELAY


class FollowUp(Model, frozen=True):
    """A problem the resident raised on the call, recorded as a new job for the unit."""

    kind: Literal["repair", "complaint"]
    category: Code
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CampaignOutcomeRequest(ClientBody, frozen=True):
    """The outcome of a campaign call: reached (satisfaction 1-5 if given), no answer or refused; notes; and
    a follow-up job when a reached resident raised a problem."""

    outcome: Outcome
    satisfaction: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    notes: LongText = ""
    follow_up: FollowUp | None = None
    client_at: ClientTime | None = None


def outcome_refusal(data: CampaignOutcomeRequest) -> tuple[str, str] | None:
    """(field, why) when the outcome's parts do not fit together, else None."""
    if data.outcome != "reached" and data.satisfaction is not None:
        return "satisfaction", "only a resident who was reached gives a satisfaction score"
    if data.outcome != "reached" and data.follow_up is not None:
        return "followUp", "only a resident who was reached raises a problem to follow up"
    return None


class CampaignCall(Model, frozen=True):
    """One call owed by a campaign, and its outcome once worked."""

    id: UUID
    site_id: UUID
    campaign: CampaignName
    unit_id: UUID
    due_at: datetime
    created_at: datetime
    unit_label: str | None = None
    period: str | None = None
    resident_name: str | None = None
    owner_name: str | None = None
    owner_phone: str | None = None
    """The home's owner on file, for the desk to call (read like the callback queue's)."""
    outcome: Outcome | None = None
    satisfaction: int | None = None
    notes: str = ""
    follow_up_work_order_id: UUID | None = None
    follow_up_number: str | None = None
    called_by_name: str | None = None
    called_at: datetime | None = None


class CampaignCallPage(Model, frozen=True):
    """One page of a campaign worklist."""

    items: list[CampaignCall]
    total: int
    limit: int
    offset: int
