"""The work-order state machine as data: statuses, actions, paths per kind, who may act, what is required.

Nothing here touches the database: services ask `plan_transition` what an action does, then record it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backend.errors import Forbidden, InvalidTransition, ValidationFailed


class Status(StrEnum):
    """Where a work order stands."""

    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    PAUSED = "paused"
    COMPLETED = "completed"
    SIGNED = "signed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What someone can do to a work order; each is one endpoint and one event."""

    ASSIGN = "assign"
    ACCEPT = "accept"
    DECLINE = "decline"
    DEPART = "depart"
    ARRIVE = "arrive"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    SIGN = "sign"
    CALLBACK = "callback"
    REOPEN = "reopen"
    CANCEL = "cancel"
    CLOSE = "close"


class Kind(StrEnum):
    """Work-order kinds (DESIGN.md "Domain rules")."""

    REPAIR = "repair"
    COMPLAINT = "complaint"
    EMERGENCY = "emergency"
    MAINTENANCE = "maintenance"
    INSPECTION = "inspection"


# Events that are not user actions but still go into the log (status unchanged).
SYSTEM_EVENTS = frozenset({"created", "sla_breached", "sla_escalated"})
OPEN_STATUSES = frozenset(Status) - {Status.CLOSED, Status.CANCELLED}
# Statuses in which the assignee is actually working the job; the dispatch ranking counts them as workload.
ACTIVE_STATUSES = frozenset(
    {Status.ASSIGNED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE, Status.PAUSED}
)
# Kinds whose completion needs an "after" photo and the on-site checklist (DESIGN.md "Domain rules").
EVIDENCE_KINDS = frozenset({Kind.REPAIR, Kind.EMERGENCY, Kind.MAINTENANCE})

S = Status
A = Action

# Transitions of every field kind (someone goes there). A `None` target is decided by the payload.
_FIELD: dict[tuple[Status, Action], Status | None] = {
    (S.NEW, A.ASSIGN): None,
    (S.ASSIGNED, A.ASSIGN): None,
    (S.ACCEPTED, A.ASSIGN): None,
    (S.NEW, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.DECLINE): S.NEW,
    (S.ACCEPTED, A.DECLINE): S.NEW,
    (S.ACCEPTED, A.DEPART): S.EN_ROUTE,
    (S.ACCEPTED, A.ARRIVE): S.ON_SITE,
    (S.EN_ROUTE, A.ARRIVE): S.ON_SITE,
    (S.ON_SITE, A.PAUSE): S.PAUSED,
    (S.PAUSED, A.RESUME): S.ON_SITE,
    (S.ON_SITE, A.COMPLETE): S.COMPLETED,
    (S.COMPLETED, A.REOPEN): S.ASSIGNED,
    (S.CLOSED, A.REOPEN): S.ASSIGNED,
    **{(s, A.CANCEL): S.CANCELLED for s in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.PAUSED)},
}

# A home visit ends with the owner's signature (or a recorded reason why not) before callback or close.
_IN_HOME: dict[tuple[Status, Action], Status | None] = {
    **_FIELD,
    (S.COMPLETED, A.SIGN): S.SIGNED,
    (S.SIGNED, A.CLOSE): S.CLOSED,
    (S.SIGNED, A.CALLBACK): None,
    (S.SIGNED, A.REOPEN): S.ASSIGNED,
    (S.CLOSED, A.CALLBACK): None,
}

# Public areas and plant rooms: nobody signs; a supervisor's check or a satisfied callback closes it.
_PUBLIC: dict[tuple[Status, Action], Status | None] = {
    **_FIELD,
    (S.COMPLETED, A.CLOSE): S.CLOSED,
    (S.COMPLETED, A.CALLBACK): None,
    (S.CLOSED, A.CALLBACK): None,
}

# A complaint is investigated and resolved, not visited: assigned -> accepted -> completed -> closed.
_COMPLAINT: dict[tuple[Status, Action], Status | None] = {
    (S.NEW, A.ASSIGN): None,
    (S.ASSIGNED, A.ASSIGN): None,
    (S.ACCEPTED, A.ASSIGN): None,
    (S.NEW, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.DECLINE): S.NEW,
    (S.ACCEPTED, A.DECLINE): S.NEW,
    (S.ACCEPTED, A.COMPLETE): S.COMPLETED,
    (S.COMPLETED, A.CALLBACK): None,
    (S.COMPLETED, A.CLOSE): S.CLOSED,
    (S.COMPLETED, A.REOPEN): S.ASSIGNED,
    (S.CLOSED, A.CALLBACK): None,
    (S.CLOSED, A.REOPEN): S.ASSIGNED,
    **{(s, A.CANCEL): S.CANCELLED for s in (S.NEW, S.ASSIGNED, S.ACCEPTED)},
}


def transitions_for(kind: str, in_home: bool) -> Mapping[tuple[Status, Action], Status | None]:
    """The transition table of one kind of work order."""
    if kind == Kind.COMPLAINT:
        return _COMPLAINT
    return _IN_HOME if in_home else _PUBLIC


DESK = frozenset({"admin", "manager", "supervisor", "agent"})
OVERSIGHT = frozenset({"admin", "manager", "supervisor"})
# Who carries out a job: technicians in the field; a complaint's responsible person may be desk staff.
FIELD_WORKERS = frozenset({"technician"})
COMPLAINT_HANDLERS = frozenset({"technician", "agent", "supervisor", "manager", "admin"})


@dataclass(frozen=True)
class Permission:
    """Which roles may take an action, and whether they must be the work order's assignee."""

    roles: frozenset[str]
    assignee_only: bool = False


_WORKER_ACTIONS = (A.ACCEPT, A.DECLINE, A.DEPART, A.ARRIVE, A.PAUSE, A.RESUME, A.COMPLETE)

# The role matrix (tested exhaustively: every role x every action x every status).
FIELD_PERMISSIONS: dict[Action, Permission] = {
    A.ASSIGN: Permission(DESK),
    **{a: Permission(FIELD_WORKERS, assignee_only=True) for a in _WORKER_ACTIONS},
    # the technician signs on the owner's behalf with the owner's drawn signature on the phone
    A.SIGN: Permission(FIELD_WORKERS | OVERSIGHT, assignee_only=False),
    A.CALLBACK: Permission(DESK),
    A.REOPEN: Permission(OVERSIGHT),
    A.CANCEL: Permission(OVERSIGHT),
    A.CLOSE: Permission(OVERSIGHT),
}
COMPLAINT_PERMISSIONS: dict[Action, Permission] = {
    **FIELD_PERMISSIONS,
    **{a: Permission(COMPLAINT_HANDLERS, assignee_only=True) for a in _WORKER_ACTIONS},
}

# Actions whose payload must carry a non-empty reason.
REASON_REQUIRED = frozenset({A.DECLINE, A.PAUSE, A.CANCEL, A.REOPEN})
# An unsatisfied owner (1 or 2 of 5) reopens the job; 3 and up close it.
SATISFIED_FROM = 3


def permissions_for(kind: str) -> Mapping[Action, Permission]:
    """The role matrix of one kind."""
    return COMPLAINT_PERMISSIONS if kind == Kind.COMPLAINT else FIELD_PERMISSIONS


@dataclass(frozen=True)
class WorkOrderState:
    """The facts about a work order the state machine decides on."""

    kind: str
    status: str
    in_home: bool
    assignee_id: Any
    version: int = 0


@dataclass(frozen=True)
class Transition:
    """What an allowed action does: the status it leads to and the assignee afterwards."""

    action: Action
    from_status: Status
    to_status: Status
    assignee_id: Any
    reopen: bool = False


def _current(state: WorkOrderState) -> dict[str, Any]:
    return {
        "status": state.status,
        "assigneeId": str(state.assignee_id) if state.assignee_id else None,
        "version": state.version,
    }


def stale(state: WorkOrderState, detail: str) -> InvalidTransition:
    """A 409 carrying the current state, so an offline phone can show what happened meanwhile."""
    return InvalidTransition(detail, extra={"current": _current(state)})


def check_role(state: WorkOrderState, action: Action, role: str) -> None:
    """Raise Forbidden unless this role may take the action on this kind of work order at all."""
    permission = permissions_for(state.kind)[action]
    if role not in permission.roles:
        raise Forbidden(f"the {role} role may not {action} a {state.kind} work order", code="role_forbidden")


def require_reason(action: Action, payload: Mapping[str, Any]) -> str | None:
    """The reason given, or ValidationFailed when this action needs one."""
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed("reason must be text", field="reason")
    reason = (reason or "").strip()
    if action in REASON_REQUIRED and not reason:
        raise ValidationFailed(f"{action} needs a reason", field="reason")
    return reason or None


def plan_transition(
    state: WorkOrderState,
    action: Action,
    *,
    role: str,
    actor_id: Any,
    payload: Mapping[str, Any],
) -> Transition:
    """Decide what `action` does now, or raise Forbidden / InvalidTransition / ValidationFailed.

    Order of checks: role first (a guard may never act, whatever the status), then status (409 with the
    current state), then the person (an action meant for the assignee), then the payload.
    """
    check_role(state, action, role)
    table = transitions_for(state.kind, state.in_home)
    try:
        status = Status(state.status)
    except ValueError:
        raise stale(state, f"unknown status {state.status}") from None
    if (status, action) not in table:
        raise stale(state, f"cannot {action} a {state.kind} work order that is {state.status}")
    target = table[(status, action)]
    permission = permissions_for(state.kind)[action]
    assignee = state.assignee_id
    if permission.assignee_only:
        self_accept_from_pool = action == A.ACCEPT and status == S.NEW and assignee is None
        if not self_accept_from_pool and assignee != actor_id:
            # the job was taken or reassigned while the phone was offline: stale, not forbidden
            raise stale(state, f"this work order is assigned to someone else; cannot {action} it")
    require_reason(action, payload)
    reopen = False
    if action == A.ASSIGN:
        if "assigneeId" not in payload:
            raise ValidationFailed(
                "say who gets the job (null hands it back to the pool)", field="assigneeId"
            )
        assignee = payload["assigneeId"]
        target = S.ASSIGNED if assignee is not None else S.NEW
    elif action == A.ACCEPT:
        assignee = actor_id
    elif action == A.DECLINE:
        assignee = None
    elif action == A.CALLBACK:
        target = callback_outcome(status, payload)
    elif action == A.REOPEN:
        reopen = True
    assert target is not None
    return Transition(action, status, target, assignee, reopen)


def callback_outcome(status: Status, payload: Mapping[str, Any]) -> Status:
    """Where a callback leaves the job: closed when the owner is satisfied, unchanged otherwise.

    An unsatisfied owner reopens the job with a separate reopen event (see `is_satisfied`).
    """
    reached = payload.get("reached")
    if not isinstance(reached, bool):
        raise ValidationFailed("reached must be true or false", field="reached")
    satisfaction = payload.get("satisfaction")
    if reached:
        if not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or not 1 <= satisfaction <= 5:
            raise ValidationFailed(
                "satisfaction must be 1 to 5 when the owner was reached", field="satisfaction"
            )
    elif satisfaction is not None:
        raise ValidationFailed("no satisfaction without reaching the owner", field="satisfaction")
    if reached and satisfaction >= SATISFIED_FROM:
        return S.CLOSED
    return status


def is_satisfied(payload: Mapping[str, Any]) -> bool:
    """A reached owner scoring 3 or more."""
    return bool(payload.get("reached")) and int(payload.get("satisfaction") or 0) >= SATISFIED_FROM


def is_unsatisfied(payload: Mapping[str, Any]) -> bool:
    """A reached owner scoring 1 or 2: the job is reopened to the last assignee."""
    return bool(payload.get("reached")) and int(payload.get("satisfaction") or 0) < SATISFIED_FROM
