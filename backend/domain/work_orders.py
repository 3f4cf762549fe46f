"""Work-order Structs on the wire: the row, clocks, events, callbacks, evidence, request bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, Code, LongText, ShortText
from backend.domain.models import Model

# The most a job can need: the on-site checklists have about a dozen items, a repair a handful of parts.
MAX_CHECKLIST_ITEMS = 100
MAX_PARTS = 50


class Clock(Model, frozen=True):
    """One SLA clock with its state at the time of reading."""

    clock: str
    due_at: datetime
    state: str
    met_at: datetime | None = None
    paused_since: datetime | None = None
    breached_at: datetime | None = None
    escalated_at: datetime | None = None


class WorkOrder(Model, frozen=True):
    """A work order as listed: the current row and its clocks."""

    id: UUID
    site_id: UUID
    number: str
    kind: str
    status: str
    priority: int
    category: str
    channel: str
    title: str
    description: str
    location: str
    in_home: bool
    major: bool
    version: int
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    unit_id: UUID | None = None
    unit_label: str | None = None
    asset_id: UUID | None = None
    alarm_id: UUID | None = None
    plan_id: UUID | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    appointment_at: datetime | None = None
    assignee_id: UUID | None = None
    assignee_name: str | None = None
    last_assignee_id: UUID | None = None
    created_by: UUID | None = None
    responded_at: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: dict[str, Any] = msgspec.field(default_factory=dict)
    clocks: list[Clock] = msgspec.field(default_factory=list)


class Event(Model, frozen=True):
    """One entry of the append-only log."""

    seq: int
    action: str
    to_status: str
    at: datetime
    from_status: str | None = None
    actor_id: UUID | None = None
    actor_name: str | None = None
    client_at: datetime | None = None
    geo: dict[str, Any] | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class Callback(Model, frozen=True):
    """One follow-up call (回访) attempt."""

    id: UUID
    attempt: int
    reached: bool
    comment: str
    called_at: datetime
    satisfaction: int | None = None
    called_by: UUID | None = None


class Photo(Model, frozen=True):
    """A photo of the job (the bytes are at `url`)."""

    id: UUID
    stage: str
    sha256: str
    width: int
    height: int
    url: str
    taken_at: datetime | None = None


class Signature(Model, frozen=True):
    """The owner's signature, or the recorded reason why there is none."""

    record_hash: str
    signed_at: datetime
    sha256: str | None = None
    signer_name: str | None = None
    relation: str | None = None
    no_sign_reason: str | None = None


class ChecklistItem(Model, frozen=True):
    """One on-site check the technician confirms before completing."""

    code: str
    label_zh: str
    label_en: str
    required: bool
    position: int


class WorkOrderDetail(WorkOrder, frozen=True):
    """A work order with its history and evidence, and the checklist its completion will demand."""

    events: list[Event] = msgspec.field(default_factory=list)
    callbacks: list[Callback] = msgspec.field(default_factory=list)
    photos: list[Photo] = msgspec.field(default_factory=list)
    signature: Signature | None = None
    checklist: list[ChecklistItem] = msgspec.field(default_factory=list)


class WorkOrderPage(Model, frozen=True):
    """One page of a list, most urgent first."""

    items: list[WorkOrder]
    total: int
    limit: int
    offset: int


class WorkOrderCreate(ClientBody, frozen=True):
    """Intake of a repair or complaint; the unit by id, by building + unit number, or by owner phone."""

    kind: Code
    category: Code
    channel: Code
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: LongText = ""
    site: ShortText | None = None
    unit_id: UUID | None = None
    building: ShortText | None = None
    unit_number: ShortText | None = None
    owner_phone: ShortText | None = None
    asset_id: UUID | None = None
    reporter_name: ShortText | None = None
    reporter_phone: ShortText | None = None
    location: ShortText = ""
    priority: Annotated[int, msgspec.Meta(ge=1, le=4)] | None = None
    in_home: bool | None = None
    major: bool = False
    appointment_requested: bool = False
    appointment_at: ClientTime | None = None


class Geo(Model, frozen=True):
    """Where the phone was (the Geolocation API's coords): degrees, and the accuracy in metres."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class Part(Model, frozen=True):
    """A spare part used on the job (更换配件)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    qty: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1


class ActionRequest(ClientBody, frozen=True):
    """Body of an action: when and where it happened on the phone, plus the action's own fields."""

    client_at: ClientTime | None = None
    geo: Geo | None = None
    reason: LongText | None = None
    # UNSET (left out) differs from null (back to the pool)
    assignee_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    appointment_at: ClientTime | None = None
    checklist: Annotated[dict[Code, bool], msgspec.Meta(max_length=MAX_CHECKLIST_ITEMS)] | None = None
    cause: LongText | None = None
    work_done: LongText | None = None
    parts: Annotated[list[Part], msgspec.Meta(max_length=MAX_PARTS)] | None = None
    chargeable: bool | None = None
    advice: LongText | None = None


class CallbackRequest(ClientBody, frozen=True):
    """A follow-up call: reached or not, satisfaction 1-5 when reached, a comment."""

    reached: bool
    satisfaction: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    comment: LongText = ""
    client_at: ClientTime | None = None


class TechnicianSuggestion(Model, frozen=True):
    """An on-duty technician ranked for a job: skill match first, then the fewest open jobs."""

    user_id: UUID
    username: str
    display_name: str
    skilled: bool
    open_jobs: int
    skills: list[str] = msgspec.field(default_factory=list)


class CallbackDue(Model, frozen=True):
    """A row of the callback queue."""

    work_order_id: UUID
    number: str
    kind: str
    status: str
    title: str
    due_at: datetime
    attempts: int
    site_id: UUID
    unit_label: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    assignee_name: str | None = None


class MaintenancePlan(Model, frozen=True):
    """A planned-maintenance schedule for one asset: every N days or a crontab."""

    id: UUID
    site_id: UUID
    asset_id: UUID
    title: str
    lead_days: int
    next_due_on: Any
    active: bool
    interval_days: int | None = None
    cron: str | None = None


class MaintenancePlanCreate(Model, frozen=True):
    """A new plan: interval_days or cron (5-field), not both."""

    asset_id: UUID
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    interval_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | None = None
    cron: ShortText | None = None
    lead_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 2
    first_due_on: date | None = None
