"""Work-order Structs on the wire: the row, clocks, events, callbacks, evidence, history, request bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, Code, LongText, ShortText
from backend.domain.completion import ChecklistItem, Requirements
from backend.domain.intake import DeskChannel, DeskKind
from backend.domain.models import Model, Page
from backend.domain.promises import Promise
from backend.domain.registry import SKILLS
from backend.domain.workflow import Kind, Status


class Clock(Model, frozen=True):
    """One SLA clock with its state at the time of reading; late_minutes when met late or overdue now."""

    clock: str
    due_at: datetime
    state: str
    met_at: datetime | None = None
    paused_since: datetime | None = None
    breached_at: datetime | None = None
    escalated_at: datetime | None = None
    late_minutes: int | None = None


class WorkOrder(Model, frozen=True):
    """A work order as listed: the current row, its clocks, and what the caller may do with it now."""

    id: UUID
    site_id: UUID
    number: str
    kind: Kind
    status: Status
    priority: PriorityCode
    category: str
    channel: str
    title: str
    description: str
    location: str
    in_home: bool
    major: bool
    version: int
    reopen_count: int
    visit: int
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[str]
    requirements: Requirements
    unit_id: UUID | None = None
    unit_label: str | None = None
    asset_id: UUID | None = None
    asset_name: str | None = None
    alarm_id: UUID | None = None
    plan_id: UUID | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    appointment_at: datetime | None = None
    assignee_id: UUID | None = None
    assignee_name: str | None = None
    last_assignee_id: UUID | None = None
    complained_about_id: UUID | None = None
    complained_about_name: str | None = None
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
    speed: int | None = None
    attitude: int | None = None
    quality: int | None = None
    recommend: int | None = None
    called_by: UUID | None = None
    called_by_name: str | None = None


class Photo(Model, frozen=True):
    """A photo of the job at a stage of a visit (the bytes are at `url`, a small preview at `thumbUrl`)."""

    id: UUID
    work_order_id: UUID
    stage: str
    visit: int
    sha256: str
    media_type: str
    size: int
    width: int
    height: int
    uploaded_at: datetime
    url: str
    thumb_url: str
    taken_at: datetime | None = None
    client_at: datetime | None = None


class Signature(Model, frozen=True):
    """The owner's signature for the current visit, or the recorded reason why there is none."""

    visit: int
    record_hash: str
    signed_at: datetime
    sha256: str | None = None
    signer_name: str | None = None
    relation: str | None = None
    no_sign_reason: str | None = None


class HistoryItem(Model, frozen=True):
    """An earlier job at the same unit or on the same asset (the facility's file, 维护设施设备档案)."""

    id: UUID
    number: str
    kind: str
    status: str
    category: str
    title: str
    created_at: datetime
    completed_at: datetime | None = None
    assignee_name: str | None = None
    work_done: str | None = None


class Reopened(Model, frozen=True):
    """Why the job came back: the reason and, when a follow-up call sent it back, the owner's words."""

    at: datetime
    reason: str
    visit: int
    by_name: str | None = None
    satisfaction: int | None = None
    comment: str | None = None


class WorkOrderDetail(WorkOrder, frozen=True, kw_only=True):
    """A work order with its history and evidence, the checklist its completion demands, and the next steps
    the caller could take while offline (`transitions`: status -> {action: next status})."""

    events: list[Event] = msgspec.field(default_factory=list)
    callbacks: list[Callback] = msgspec.field(default_factory=list)
    photos: list[Photo] = msgspec.field(default_factory=list)
    signature: Signature | None = None
    checklist: list[ChecklistItem] = msgspec.field(default_factory=list)
    transitions: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    reopened: Reopened | None = None
    unit_history: list[HistoryItem] = msgspec.field(default_factory=list)
    asset_history: list[HistoryItem] = msgspec.field(default_factory=list)
    promises: list[Promise] = msgspec.field(default_factory=list)
    """Promises made to the owner on this case (承诺), oldest first, each with its state now."""
    may_promise: bool = False
    """Whether the caller may record a promise: someone reported the case, the role speaks with owners."""


class WorkOrderPage(Page[WorkOrder], frozen=True):
    """One page of a list, most urgent first."""

    items: list[WorkOrder]


PriorityCode = Literal["P1", "P2", "P3", "P4"]


class JobListClock(Model, frozen=True):
    """A clock as the job list shows it: which one, when it is due, and whether it still runs."""

    clock: str
    due_at: datetime
    state: str
    met_at: datetime | None = None


class JobListItem(Model, frozen=True):
    """One of the caller's open jobs as their list shows it (the detail, GET /work-orders/{id}, carries the
    rest: description, reporter, evidence, what the caller may do)."""

    id: UUID
    number: str
    kind: Kind
    status: Status
    priority: PriorityCode
    title: str
    location: str
    version: int
    created_at: datetime
    unit_label: str | None = None
    clocks: list[JobListClock] = msgspec.field(default_factory=list)


class JobListPage(Model, frozen=True):
    """One page of the caller's open jobs, most urgent first."""

    items: list[JobListItem]
    total: int
    limit: int
    offset: int


class WorkOrderCreate(ClientBody, frozen=True):
    """Intake of a repair or complaint; the unit by id, by building + unit number, or by owner phone."""

    kind: DeskKind
    category: Code
    channel: DeskChannel
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
    priority: PriorityCode | None = None
    in_home: bool | None = None
    major: bool = False
    # a complaint about a member of staff names them: they may not handle it
    complained_about_id: UUID | None = None
    appointment_requested: bool = False
    appointment_at: ClientTime | None = None
    # when the agent recorded it (an intake queued on a tablet that lost the network)
    client_at: ClientTime | None = None


class Geo(Model, frozen=True):
    """Where the phone was when the action happened."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None


class StepRequest(ClientBody, frozen=True):
    """Body of an action that carries nothing of its own: when and where it happened on the phone."""

    client_at: ClientTime | None = None
    geo: Geo | None = None


class ReasonRequest(StepRequest, frozen=True, kw_only=True):
    """decline, pause, cancel, reopen, close: a reason (required by all but close)."""

    reason: LongText | None = None


class AssignRequest(StepRequest, frozen=True, kw_only=True):
    """assign: a technician (or handler) of the site, or null to hand the job back to the pool."""

    assignee_id: UUID | None
    appointment_at: ClientTime | None = None


class Part(Model, frozen=True):
    """A part used on the job."""

    name: ShortText
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1


CheckCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CompleteRequest(StepRequest, frozen=True, kw_only=True):
    """complete: the checklist ticks and what was done (the job's `requirements` say what is needed)."""

    checklist: Annotated[dict[CheckCode, bool], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=dict
    )
    work_done: LongText | None = None
    cause: LongText | None = None
    parts: Annotated[list[Part], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    chargeable: bool | None = None
    advice: LongText | None = None


class InvestigateRequest(StepRequest, frozen=True, kw_only=True):
    """investigate: what the handler found out (notes, findings)."""

    findings: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


ContactVia = Literal["phone", "sms", "visit", "other"]


class ContactRequest(StepRequest, frozen=True, kw_only=True):
    """reply and inform: a contact with the owner — how, and what was said."""

    via: ContactVia
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Mediation(Model, frozen=True):
    """A neighbour dispute's mediation: who met (both parties) and what they agreed."""

    parties: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    agreed: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class SolveRequest(StepRequest, frozen=True, kw_only=True):
    """solve: the written solution, any compensation or fee adjustment, and who approved it; for a
    neighbour dispute, the mediation with both parties first."""

    solution: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    compensation: ShortText | None = None
    approved_by: ShortText | None = None
    mediation: Mediation | None = None


EscalationReason = Literal["agitated", "beyond_authority", "legal_risk", "repeated", "media_or_group"]


class EscalateRequest(StepRequest, frozen=True, kw_only=True):
    """escalate: why, and to whom (the supervisor, or the manager for a major matter)."""

    reason: EscalationReason
    to: Literal["supervisor", "manager"] = "supervisor"
    note: LongText = ""


class ApologyCallRequest(StepRequest, frozen=True, kw_only=True):
    """apology_call_done: the manager's apology call was made — how, what was said, and who called (the
    one recording it when left out)."""

    via: ContactVia
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    called_by: Annotated[str, msgspec.Meta(max_length=100)] = ""


Score = Annotated[int, msgspec.Meta(ge=1, le=5)]


class CallbackRequest(ClientBody, frozen=True):
    """A follow-up call: reached or not; when reached, satisfaction 1-5 and, if the owner answers them, the
    seeds' drivers (response speed, attitude, quality of the work, 1-5) and willingness to recommend 0-10."""

    reached: bool
    satisfaction: Score | None = None
    speed: Score | None = None
    attitude: Score | None = None
    quality: Score | None = None
    recommend: Annotated[int, msgspec.Meta(ge=0, le=10)] | None = None
    comment: LongText = ""
    client_at: ClientTime | None = None


class SuggestionReason(Model, frozen=True):
    """One reason a technician is (or is not) a good fit: `code` is skilled, not_skilled, open_jobs or
    nearby; `skill` names the matching skill, `count` the open jobs."""

    code: str
    skill: str | None = None
    count: int | None = None


class TechnicianSuggestion(Model, frozen=True):
    """An on-duty technician ranked for a job: skill match first, then working in the same building now,
    then the fewest open jobs; `reasons` say so in codes the interface puts into words."""

    user_id: UUID
    username: str
    display_name: str
    skilled: bool
    open_jobs: int
    skills: list[str] = msgspec.field(default_factory=list)
    nearby: bool = False
    reasons: list[SuggestionReason] = msgspec.field(default_factory=list)


def suggestion_reasons(
    category: str, *, skilled: bool, open_jobs: int, nearby: bool
) -> list[SuggestionReason]:
    """Why a technician ranks where they do: their skill for the category (a complaint's category needs no
    trade, so it says nothing there), where they are, their workload."""
    reasons = []
    if category in SKILLS:
        reasons.append(SuggestionReason(code="skilled" if skilled else "not_skilled", skill=category))
    if nearby:
        reasons.append(SuggestionReason(code="nearby"))
    reasons.append(SuggestionReason(code="open_jobs", count=open_jobs))
    return reasons


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
    unit_id: UUID | None = None
    unit_label: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    assignee_name: str | None = None
    """Who did the work (the assignee, or the last one once it is done)."""
    resolution: dict[str, Any] = msgspec.field(default_factory=dict)
    """What was done: cause, workDone, parts … of a repair; findings, solution … of a complaint."""
    owner_name: str | None = None
    owner_phone: str | None = None
    """The home's owner on file, when the caller's role may call them: the desk always may."""


class CallbackPage(Page[CallbackDue], frozen=True):
    """One page of the follow-up call queue."""

    items: list[CallbackDue]


class MaintenancePlan(Model, frozen=True):
    """A planned-maintenance schedule for one asset: every N days or a crontab; in lists, also the asset's
    name and place and what the plan's work interrupts for the building's residents (its notice)."""

    id: UUID
    site_id: UUID
    asset_id: UUID
    title: str
    lead_days: int
    next_due_on: Any
    active: bool
    interval_days: int | None = None
    cron: str | None = None
    asset_name: str | None = None
    asset_location: str | None = None
    notice_kind: str | None = None
    notice_lead_hours: int = 24
    notice_window_hours: int = 4


class MaintenancePlanCreate(Model, frozen=True):
    """A new plan: interval_days or cron (5-field), not both."""

    asset_id: UUID
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    interval_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] | None = None
    cron: ShortText | None = None
    lead_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 2
    first_due_on: date | None = None
