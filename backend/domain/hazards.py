"""The hazard ledger (安全隐患台账): a hazard's states, who may move it and what each move needs. Pure rules.

登记 registered → 分析 analysed (cause, responsible person, deadline, standard) → 临时管控 controlled (the
measure that holds while it is open) → 整改 rectifying (a linked work order) → 复查 rechecked (by someone
other than who fixed it) → 销号 closed (by a supervisor, with the evidence). A failed re-check sends it back
to 临时管控 for a new rectification. One table says all of it, like backend/domain/workflow.py does for work
orders; the screens draw their buttons from `allowedActions`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, NamedTuple
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime, LongText
from backend.domain.models import Model, Page


class HazardStatus(StrEnum):
    """Where a hazard stands in the closed loop."""

    REGISTERED = "registered"  # 登记
    ANALYSED = "analysed"  # 分析
    CONTROLLED = "controlled"  # 临时管控
    RECTIFYING = "rectifying"  # 整改
    RECHECKED = "rechecked"  # 复查
    CLOSED = "closed"  # 销号


class HazardAction(StrEnum):
    """The moves of the ledger."""

    ANALYSE = "analyse"
    CONTROL = "control"
    RECTIFY = "rectify"
    RECHECK = "recheck"
    RECHECK_FAILED = "recheck_failed"
    CLOSE = "close"


RISK_LEVELS = ("major", "high", "medium", "low")  # 重大 / 较大 / 一般 / 低
SOURCES = ("round", "job", "quarterly_check", "manual")
OVERSIGHT = frozenset({"admin", "manager", "supervisor"})


class Move(NamedTuple):
    """One move: from which states, to which, by which roles, needing which body fields."""

    from_states: frozenset[HazardStatus]
    to: HazardStatus
    roles: frozenset[str]
    needs: tuple[str, ...]


H = HazardStatus
OPEN_STATES = frozenset(H) - {H.CLOSED}
MOVES: dict[HazardAction, Move] = {
    HazardAction.ANALYSE: Move(
        frozenset({H.REGISTERED}), H.ANALYSED, OVERSIGHT, ("cause", "responsibleId", "deadline", "standard")
    ),
    HazardAction.CONTROL: Move(
        frozenset({H.ANALYSED}), H.CONTROLLED, OVERSIGHT | {"technician", "guard"}, ("measure",)
    ),
    HazardAction.RECTIFY: Move(frozenset({H.CONTROLLED}), H.RECTIFYING, OVERSIGHT, ("assigneeId",)),
    # the linked work order must be done, and the re-checker is not who did it (checked by the service)
    HazardAction.RECHECK: Move(frozenset({H.RECTIFYING}), H.RECHECKED, OVERSIGHT | {"technician"}, ("note",)),
    HazardAction.RECHECK_FAILED: Move(
        frozenset({H.RECTIFYING}), H.CONTROLLED, OVERSIGHT | {"technician"}, ("note",)
    ),
    HazardAction.CLOSE: Move(
        frozenset({H.RECHECKED}), H.CLOSED, frozenset({"supervisor", "manager"}), ("evidence",)
    ),
}
# Work-order statuses in which the rectification counts as done and may be re-checked.
RECTIFIED_STATUSES = frozenset({"completed", "signed", "closed"})


def allowed_actions(status: str, role: str) -> list[str]:
    """The moves this role may make from this state."""
    return [a.value for a, m in MOVES.items() if status in m.from_states and role in m.roles]


def is_overdue(status: str, deadline: datetime | None, now: datetime) -> bool:
    """Open past its deadline."""
    return status != H.CLOSED and deadline is not None and deadline < now


# ---- wire shapes ----

RiskLevel = Literal["major", "high", "medium", "low"]


class HazardCreate(ClientBody, frozen=True):
    """A hazard entered by hand (or found on a job)."""

    place: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    site: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    risk_level: RiskLevel = "medium"
    work_order_id: UUID | None = None
    client_at: ClientTime | None = None


class HazardMove(ClientBody, frozen=True):
    """The body of a move: only what that move needs is read."""

    cause: LongText | None = None
    responsible_id: UUID | None = None
    deadline: date | None = None
    standard: LongText | None = None
    measure: LongText | None = None
    assignee_id: UUID | None = None
    note: LongText | None = None
    evidence: LongText | None = None
    risk_level: RiskLevel | None = None
    client_at: ClientTime | None = None


class HazardEvent(Model, frozen=True):
    """One step of a hazard's history."""

    action: str
    from_status: str | None
    to_status: str
    actor_name: str | None
    at: datetime
    payload: dict


class Hazard(Model, frozen=True):
    """A hazard as the ledger shows it."""

    id: UUID
    number: str
    site_id: UUID
    source: str
    place: str
    description: str
    risk_level: str
    status: str
    reported_by_name: str | None
    reported_at: datetime
    cause: str | None
    responsible_id: UUID | None
    responsible_name: str | None
    deadline: date | None
    due_at: datetime | None
    standard: str | None
    control_measure: str | None
    rectification_work_order_id: UUID | None
    rectification_number: str | None
    rectified_by_name: str | None
    recheck_note: str | None
    rechecked_by_name: str | None
    closing_evidence: str | None
    closed_by_name: str | None
    closed_at: datetime | None
    round_scan_id: UUID | None
    has_photo: bool
    overdue: bool
    allowed_actions: list[str]
    # the job a technician found it on (source `job`)
    found_on_work_order_id: UUID | None = None
    events: list[HazardEvent] = msgspec.field(default_factory=list)


class HazardPage(Page[Hazard], frozen=True):
    """A page of the ledger."""

    items: list[Hazard]


class HazardCounts(Model, frozen=True):
    """For the dashboard: open, overdue and closed hazards per risk level."""

    site: str
    by_risk: dict[str, dict[str, int]]
    totals: dict[str, int]
