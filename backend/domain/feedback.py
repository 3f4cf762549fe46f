"""Suggestions and praise (建议/表扬): recorded, routed, answered and counted (DOMAIN.md "Complaint").

Feedback is not a work order: nothing is repaired or investigated, no clock runs. It is recorded at the desk
(or filed by an owner), goes to the site's supervisor (praise also onto the praised person's record, and
they are told), and an answer to the owner — how, and what was said — closes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args
from uuid import UUID

import msgspec

from backend.domain.models import Model
from backend.domain.work_orders import ContactVia
from backend.errors import ValidationFailed

FeedbackKind = Literal["suggestion", "praise"]
FEEDBACK_KINDS = get_args(FeedbackKind)
# Feedback always has a person behind it: the channels a person uses.
FeedbackChannel = Literal["phone", "counter", "app"]
FEEDBACK_CHANNELS = get_args(FeedbackChannel)
# Who a suggestion or praise is routed to: the site's supervisor (chosen as an escalated complaint's is).
ROUTED_TO_LEVEL = "supervisor"

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
ShortText = Annotated[str, msgspec.Meta(max_length=100)]


class FeedbackCreate(Model, frozen=True):
    """A suggestion or praise taken at the desk: the home by id or building + number (optional), the words,
    and for praise the member of staff praised (optional)."""

    kind: FeedbackKind
    text: Text
    channel: FeedbackChannel = "phone"
    site: ShortText | None = None
    unit_id: UUID | None = None
    building: ShortText | None = None
    unit_number: ShortText | None = None
    reporter_name: ShortText | None = None
    reporter_phone: ShortText | None = None
    praised_user_id: UUID | None = None


class FeedbackAnswer(Model, frozen=True):
    """The answer given to the owner: how, and what was said. It closes the feedback."""

    via: ContactVia
    summary: Text


class Feedback(Model, frozen=True):
    """One suggestion or praise as the desk sees it."""

    id: UUID
    site_id: UUID
    kind: str
    text: str
    channel: str
    created_at: datetime
    unit_id: UUID | None = None
    unit_label: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    praised_user_id: UUID | None = None
    praised_name: str | None = None
    routed_to_id: UUID | None = None
    routed_to_name: str | None = None
    received_by_id: UUID | None = None
    received_by_name: str | None = None
    answered_at: datetime | None = None
    answered_by_name: str | None = None
    answer_via: str | None = None
    answer: str | None = None


def check_praised(kind: str, praised_user_id: UUID | None) -> None:
    """Only praise names a member of staff."""
    if praised_user_id is not None and kind != "praise":
        raise ValidationFailed("only praise names a member of staff", field="praisedUserId")
