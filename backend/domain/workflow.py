"""The work-order state machine as data: statuses, actions, each flow's transitions, who may act, effects.

Three flows share one set of statuses: a field job in a home (ends with the owner's signature), a field job
in a public area or plant room (nobody signs; a supervisor's check or the callback closes it), and a
complaint, which is a desk process (DOMAIN.md "Complaint": investigate, reply to the owner, solve, tell the
result) and never goes en route, on site or signed.

Every table here has one reader: `plan_transition` decides what an action does now, `allowed_actions` asks
the same question of every action for the caller, and the services carry out the `Effects` of the action.
Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from typing import Any

from backend.domain.roles import DESK_ROLES, OVERSIGHT_ROLES, Role
from backend.domain.sla import ClockName
from backend.errors import Forbidden, InvalidTransition, ValidationFailed


class Status(StrEnum):
    """Where a work order stands."""

    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    PAUSED = "paused"
    INVESTIGATING = "investigating"
    SOLVED = "solved"
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
    INVESTIGATE = "investigate"
    REPLY = "reply"
    SOLVE = "solve"
    INFORM = "inform"
    ESCALATE = "escalate"
    CALLBACK = "callback"
    REOPEN = "reopen"
    CANCEL = "cancel"
    CLOSE = "close"
    APOLOGY_CALL_DONE = "apology_call_done"


class Kind(StrEnum):
    """Work-order kinds (DESIGN.md "Domain rules")."""

    REPAIR = "repair"
    COMPLAINT = "complaint"
    EMERGENCY = "emergency"
    MAINTENANCE = "maintenance"
    INSPECTION = "inspection"


class Priority(IntEnum):
    """Urgency, stored as 1-4 and spelled P1-P4 everywhere people or clients see it."""

    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4

    @property
    def code(self) -> str:
        """The one spelling on the wire, in the docs and on screens."""
        return self.name


PRIORITY_CODES = tuple(p.code for p in Priority)


def priority_code(value: int) -> str:
    """1 -> 'P1'."""
    return Priority(value).code


def priority_value(code: str) -> int:
    """'P1' -> 1, or ValidationFailed."""
    try:
        return Priority[code].value
    except KeyError:
        raise ValidationFailed(
            f"priority must be one of {', '.join(PRIORITY_CODES)}", field="priority", code="invalid_priority"
        ) from None


# Events that are not user actions but still go into the log (status unchanged).
SYSTEM_EVENTS = ("created", "sla_breached", "sla_escalated")
CLOSED_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED})
OPEN_STATUSES = frozenset(Status) - CLOSED_STATUSES
# Statuses in which the assignee is actually working the job; the dispatch ranking counts them as workload.
ACTIVE_STATUSES = frozenset(
    {Status.ASSIGNED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE, Status.PAUSED, Status.INVESTIGATING}
)
# Work done: a follow-up call may be due.
DONE_STATUSES = frozenset({Status.COMPLETED, Status.SIGNED, Status.CLOSED})
# Still to be reached: an appointment can be missed in these (arrival not yet recorded is checked too).
AWAITING_ARRIVAL = OPEN_STATUSES - DONE_STATUSES


class Flow(StrEnum):
    """Which transition table a work order follows."""

    IN_HOME = "in_home"
    PUBLIC = "public"
    COMPLAINT = "complaint"


S = Status
A = Action

# A `None` target is decided by the payload (assign: to someone, or back to the pool; callback: by the score).
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
}

# Public areas and plant rooms: nobody signs; a supervisor's check or a satisfied callback closes it.
_PUBLIC: dict[tuple[Status, Action], Status | None] = {
    **_FIELD,
    (S.COMPLETED, A.CLOSE): S.CLOSED,
    (S.COMPLETED, A.CALLBACK): None,
}

_COMPLAINT_OPEN = (S.ASSIGNED, S.INVESTIGATING, S.SOLVED)
# A complaint: handler named -> investigated the same day -> first reply within 24 h (any time before the
# result) -> solution -> owner told the result (resolved) -> callback by someone else -> closed.
_COMPLAINT: dict[tuple[Status, Action], Status | None] = {
    (S.NEW, A.ASSIGN): None,
    (S.ASSIGNED, A.ASSIGN): None,
    # a new handler mid-investigation carries on from where the complaint stands
    (S.INVESTIGATING, A.ASSIGN): S.INVESTIGATING,
    (S.SOLVED, A.ASSIGN): S.SOLVED,
    (S.ASSIGNED, A.DECLINE): S.NEW,
    (S.ASSIGNED, A.INVESTIGATE): S.INVESTIGATING,
    (S.INVESTIGATING, A.INVESTIGATE): S.INVESTIGATING,
    **{(s, A.REPLY): s for s in _COMPLAINT_OPEN},
    (S.INVESTIGATING, A.SOLVE): S.SOLVED,
    (S.SOLVED, A.SOLVE): S.SOLVED,
    (S.SOLVED, A.INFORM): S.COMPLETED,
    **{(s, A.ESCALATE): s for s in (S.NEW, *_COMPLAINT_OPEN)},
    (S.COMPLETED, A.CALLBACK): None,
    (S.COMPLETED, A.CLOSE): S.CLOSED,
    (S.COMPLETED, A.REOPEN): S.INVESTIGATING,
    (S.CLOSED, A.REOPEN): S.INVESTIGATING,
    **{(s, A.CANCEL): S.CANCELLED for s in (S.NEW, *_COMPLAINT_OPEN)},
    # the management task started by an escalation is marked done whenever the call was made
    **{(s, A.APOLOGY_CALL_DONE): s for s in (S.NEW, *_COMPLAINT_OPEN, S.COMPLETED, S.CLOSED)},
}

TRANSITIONS: Mapping[Flow, Mapping[tuple[Status, Action], Status | None]] = {
    Flow.IN_HOME: _IN_HOME,
    Flow.PUBLIC: _PUBLIC,
    Flow.COMPLAINT: _COMPLAINT,
}

# Who carries out a job: technicians in the field; a complaint's handler may be desk staff.
FIELD_WORKERS = frozenset({Role.TECHNICIAN})
COMPLAINT_HANDLERS = frozenset({Role.TECHNICIAN, Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
# Who a job of each flow may be assigned to.
ASSIGNEE_ROLES: Mapping[Flow, frozenset[str]] = {
    Flow.IN_HOME: FIELD_WORKERS,
    Flow.PUBLIC: FIELD_WORKERS,
    Flow.COMPLAINT: COMPLAINT_HANDLERS,
}


@dataclass(frozen=True)
class Permission:
    """Who may take an action: anyone of `roles`, or the assignee when their role is in `assignee_roles`.

    `not_by_handler` keeps the one who did the work from judging it (a complaint's callback is made by
    someone other than its handler, DOMAIN.md). `roles_if_major` narrows the roles on a major complaint.
    """

    roles: frozenset[str] = frozenset()
    assignee_roles: frozenset[str] = frozenset()
    not_by_handler: bool = False
    roles_if_major: frozenset[str] | None = None
    """When set, the only roles that may take the action on a major complaint."""

    @property
    def all_roles(self) -> frozenset[str]:
        """Every role that may take the action in some case."""
        return self.roles | self.assignee_roles


_FIELD_STEPS = (A.ACCEPT, A.DECLINE, A.DEPART, A.ARRIVE, A.PAUSE, A.RESUME, A.COMPLETE)
_DESK_CONTROL = {
    A.ASSIGN: Permission(roles=DESK_ROLES),
    A.CALLBACK: Permission(roles=DESK_ROLES),
    A.REOPEN: Permission(roles=OVERSIGHT_ROLES),
    A.CANCEL: Permission(roles=OVERSIGHT_ROLES),
    A.CLOSE: Permission(roles=OVERSIGHT_ROLES),
}
_FIELD_PERMISSIONS: dict[Action, Permission] = {
    **_DESK_CONTROL,
    **{a: Permission(assignee_roles=ASSIGNEE_ROLES[Flow.PUBLIC]) for a in _FIELD_STEPS},
    # the technician records the owner's drawn signature on the phone; a supervisor may record why not
    A.SIGN: Permission(roles=OVERSIGHT_ROLES, assignee_roles=FIELD_WORKERS),
}
_COMPLAINT_PERMISSIONS: dict[Action, Permission] = {
    **_DESK_CONTROL,
    A.CALLBACK: Permission(roles=DESK_ROLES, not_by_handler=True),
    **{
        a: Permission(assignee_roles=ASSIGNEE_ROLES[Flow.COMPLAINT])
        for a in (A.DECLINE, A.INVESTIGATE, A.REPLY, A.SOLVE, A.INFORM)
    },
    # by hand, when the handler or the desk sees the owner cannot be calmed or the matter is beyond them
    A.ESCALATE: Permission(roles=DESK_ROLES, assignee_roles=ASSIGNEE_ROLES[Flow.COMPLAINT]),
    # the apology call is the manager's; a supervisor may record it for a complaint that is not major
    A.APOLOGY_CALL_DONE: Permission(
        roles=OVERSIGHT_ROLES, roles_if_major=frozenset({Role.MANAGER, Role.ADMIN})
    ),
}
PERMISSIONS: Mapping[Flow, Mapping[Action, Permission]] = {
    Flow.IN_HOME: _FIELD_PERMISSIONS,
    Flow.PUBLIC: _FIELD_PERMISSIONS,
    Flow.COMPLAINT: _COMPLAINT_PERMISSIONS,
}


def roles_for(action: Action) -> frozenset[str]:
    """Every role that may take this action on some work order (the route's guard; the rest is per job)."""
    return frozenset().union(*(p[action].all_roles for p in PERMISSIONS.values() if action in p))


@dataclass(frozen=True)
class Effects:
    """What an action does besides moving the status; the services carry these out and nothing else.

    meets: the clock this action meets (first time only); restarts: a met clock that runs again;
    pauses/resumes: the clock stopped or restarted (its due time moves by the pause);
    stamps: the work-order column set to the credited time; opens_callback: starts the follow-up call's
    clock when there is a person to call; new_visit: the job goes round again (fresh resolve clock,
    evidence and signature for the new visit); checks_completion: the completion requirements must be met.
    Entering `closed` or `cancelled` always ends the job's clocks (an unmet follow-up is waived).
    """

    meets: ClockName | None = None
    restarts: ClockName | None = None
    pauses: ClockName | None = None
    resumes: ClockName | None = None
    stamps: str | None = None
    opens_callback: bool = False
    new_visit: bool = False
    checks_completion: bool = False
    reason_required: bool = False


EFFECTS: Mapping[Action, Effects] = {
    A.ASSIGN: Effects(),
    A.ACCEPT: Effects(meets=ClockName.RESPOND, stamps="responded_at"),
    # Back in the pool nobody holds the job and the owner's wait did not restart: the respond clock runs
    # again against its original due time.
    A.DECLINE: Effects(restarts=ClockName.RESPOND, reason_required=True),
    A.DEPART: Effects(),
    A.ARRIVE: Effects(meets=ClockName.ARRIVE, stamps="arrived_at"),
    # the owner not being home or a part on order is not the technician's delay
    A.PAUSE: Effects(pauses=ClockName.RESOLVE, reason_required=True),
    A.RESUME: Effects(resumes=ClockName.RESOLVE),
    A.COMPLETE: Effects(
        meets=ClockName.RESOLVE, stamps="completed_at", opens_callback=True, checks_completion=True
    ),
    A.SIGN: Effects(),
    A.INVESTIGATE: Effects(meets=ClockName.INVESTIGATE),
    # the first contact with the owner, not an internal accept, meets a complaint's response clock
    A.REPLY: Effects(meets=ClockName.RESPOND, stamps="responded_at"),
    A.SOLVE: Effects(),
    A.INFORM: Effects(
        meets=ClockName.RESOLVE, stamps="completed_at", opens_callback=True, checks_completion=True
    ),
    A.ESCALATE: Effects(reason_required=True),
    A.CALLBACK: Effects(),
    A.REOPEN: Effects(new_visit=True, reason_required=True),
    A.CANCEL: Effects(reason_required=True),
    A.CLOSE: Effects(),
    # the manager's apology call is a contact with the owner: when nobody replied yet, it is the first reply
    A.APOLOGY_CALL_DONE: Effects(meets=ClockName.RESPOND, stamps="responded_at"),
}

# The actions that finish the work of each flow (their requirements are the job's `requirements`).
FINISHING_ACTION: Mapping[Flow, Action] = {
    Flow.IN_HOME: A.COMPLETE,
    Flow.PUBLIC: A.COMPLETE,
    Flow.COMPLAINT: A.INFORM,
}


def flow_of(kind: str, in_home: bool) -> Flow:
    """The transition table a work order follows."""
    if kind == Kind.COMPLAINT:
        return Flow.COMPLAINT
    return Flow.IN_HOME if in_home else Flow.PUBLIC


# Channels through which a person reported the work: somebody to call back.
PERSON_CHANNELS = frozenset({"phone", "counter", "app"})


def needs_callback(channel: str, reporter_name: str | None, reporter_phone: str | None) -> bool:
    """A follow-up call is a call to a person: only work somebody reported gets one (DOMAIN.md "Callbacks");
    a sensor-raised or planned job with nobody behind it does not."""
    return channel in PERSON_CHANNELS or bool(reporter_name or reporter_phone)


class CallbackOutcome(StrEnum):
    """What a follow-up call decides (DOMAIN.md "Callbacks that mean something")."""

    UNREACHED = "unreached"  # the call stays due
    SATISFIED = "satisfied"  # 4-5: closes the job
    NEUTRAL = "neutral"  # 3: the supervisor decides (follow up, or close with a reason)
    UNSATISFIED = "unsatisfied"  # 1-2: reopened to the last technician, who sees the score and comment


# Only a clearly satisfied owner closes the job; a neutral score is not satisfaction.
CLOSES_FROM = 4
REOPENS_BELOW = 3


# The questions a reached owner may answer beyond overall satisfaction (DOMAIN.md "Callbacks").
CALLBACK_DRIVERS = ("speed", "attitude", "quality")
CALLBACK_ANSWERS = (*CALLBACK_DRIVERS, "recommend")


def callback_answers(reached: bool, payload: Mapping[str, Any]) -> dict[str, int | None]:
    """The drivers and willingness to recommend given; ValidationFailed when an unreached owner 'answered'."""
    answers = {name: payload.get(name) for name in CALLBACK_ANSWERS}
    if not reached:
        for name, value in answers.items():
            if value is not None:
                raise ValidationFailed("no answers without reaching the owner", field=name)
    return answers


def callback_outcome(reached: bool, satisfaction: int | None) -> CallbackOutcome:
    """Classify a call; ValidationFailed when the score does not fit whether the owner was reached."""
    if not reached:
        if satisfaction is not None:
            raise ValidationFailed("no satisfaction without reaching the owner", field="satisfaction")
        return CallbackOutcome.UNREACHED
    if satisfaction is None or not 1 <= satisfaction <= 5:
        raise ValidationFailed("satisfaction must be 1 to 5 when the owner was reached", field="satisfaction")
    if satisfaction >= CLOSES_FROM:
        return CallbackOutcome.SATISFIED
    if satisfaction < REOPENS_BELOW:
        return CallbackOutcome.UNSATISFIED
    return CallbackOutcome.NEUTRAL


@dataclass(frozen=True)
class WorkOrderState:
    """The facts about a work order the state machine decides on."""

    kind: str
    status: str
    in_home: bool
    assignee_id: Any
    version: int = 0
    last_assignee_id: Any = None
    callback_due: bool = False
    complained_about_id: Any = None
    """The member of staff a complaint is about: never its handler."""
    major: bool = False
    apology_due: bool = False
    """An escalation started the manager's apology call and it is not recorded as made yet."""

    @property
    def flow(self) -> Flow:
        """The transition table this work order follows."""
        return flow_of(self.kind, self.in_home)

    @property
    def handler_id(self) -> Any:
        """Whoever did (or does) the work: the assignee, or the last one once the job is done."""
        return self.assignee_id or self.last_assignee_id


@dataclass(frozen=True)
class Transition:
    """What an allowed action does: the status it leads to, the assignee afterwards, and its effects."""

    action: Action
    from_status: Status
    to_status: Status
    assignee_id: Any
    effects: Effects


def current_state(state: WorkOrderState) -> dict[str, Any]:
    """The state a 409 carries, so an offline phone can show what happened meanwhile."""
    return {
        "status": state.status,
        "assigneeId": str(state.assignee_id) if state.assignee_id else None,
        "version": state.version,
    }


def stale(state: WorkOrderState, detail: str, code: str = "invalid_transition") -> InvalidTransition:
    """A 409 carrying the current state."""
    return InvalidTransition(detail, code=code, extra={"current": current_state(state)})


class _Refusal(Exception):
    """Why an action is not open to this caller now (turned into the right error by `plan_transition`)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _check(state: WorkOrderState, action: Action, role: str, actor_id: Any) -> Status | None:
    """The table's target for this caller, or _Refusal; role first, then status, then the person."""
    flow = state.flow
    permission = PERMISSIONS[flow].get(action)
    if permission is None or role not in permission.all_roles:
        raise _Refusal(
            Forbidden(f"the {role} role may not {action} a {state.kind} work order", code="role_forbidden")
        )
    if state.major and permission.roles_if_major is not None and role not in permission.roles_if_major:
        raise _Refusal(Forbidden(f"on a major complaint only a manager may {action}", code="manager_only"))
    try:
        status = Status(state.status)
    except ValueError:
        raise _Refusal(stale(state, f"unknown status {state.status}")) from None
    table = TRANSITIONS[flow]
    if (status, action) not in table:
        raise _Refusal(stale(state, f"cannot {action} a {state.kind} work order that is {state.status}"))
    if action == A.CALLBACK and not state.callback_due:
        raise _Refusal(stale(state, "no follow-up call is due for this work order", "callback_not_due"))
    if action == A.APOLOGY_CALL_DONE and not state.apology_due:
        raise _Refusal(stale(state, "no apology call is owed on this complaint", "apology_not_due"))
    if permission.not_by_handler and actor_id is not None and actor_id == state.handler_id:
        raise _Refusal(
            Forbidden("the follow-up call is made by someone other than the handler", code="own_work")
        )
    if role not in permission.roles:
        # only as the assignee; taking a job from the pool counts as becoming its assignee
        from_pool = action == A.ACCEPT and status == S.NEW and state.assignee_id is None
        if not from_pool and (actor_id is None or state.assignee_id != actor_id):
            # the job was taken or reassigned while the phone was offline: stale, not forbidden
            raise _Refusal(
                stale(
                    state, f"this work order is assigned to someone else; cannot {action} it", "not_assignee"
                )
            )
    return table[(status, action)]


def _decision_key(state: WorkOrderState, role: str, actor_id: Any) -> tuple[Any, ...]:
    """Everything `_check` reads of a state and its caller (keep the two in step)."""
    mine = actor_id is not None
    return (
        state.flow,
        state.status,
        state.callback_due,
        state.major,
        state.apology_due,
        role,
        state.assignee_id is None,
        mine and state.assignee_id == actor_id,
        mine and actor_id == state.handler_id,
    )


# allowed_actions per decision key: a list of 50 jobs shares a handful of keys, and working each one out
# raises an exception per refused action. The keys are few (flows x statuses x roles x 16); the bound only
# guards against statuses the table does not know.
_ALLOWED: dict[tuple[Any, ...], tuple[str, ...]] = {}
_ALLOWED_MAX = 4096


def allowed_actions(state: WorkOrderState, *, role: str, actor_id: Any) -> list[str]:
    """Every action this caller may take on the work order now, in the order of `Action`."""
    key = _decision_key(state, role, actor_id)
    known = _ALLOWED.get(key)
    if known is None:
        known = tuple(_allowed_actions(state, role=role, actor_id=actor_id))
        if len(_ALLOWED) < _ALLOWED_MAX:
            _ALLOWED[key] = known
    return list(known)


def _allowed_actions(state: WorkOrderState, *, role: str, actor_id: Any) -> list[str]:
    allowed = []
    for action in Action:
        try:
            _check(state, action, role, actor_id)
        except _Refusal:
            continue
        allowed.append(action.value)
    return allowed


def reachable_transitions(state: WorkOrderState, *, role: str, actor_id: Any) -> dict[str, dict[str, str]]:
    """status -> {action: next status} for what this caller could do as the job moves on without them
    being reassigned: the phone uses it to show the next step while its actions wait in the outbox.

    Only actions with a fixed target are listed (assign and callback depend on their answer).
    """
    flow = state.flow
    permissions = PERMISSIONS[flow]
    graph: dict[str, dict[str, str]] = {}
    for (status, action), target in TRANSITIONS[flow].items():
        permission = permissions.get(action)
        if target is None or permission is None or action in (A.CALLBACK, A.ASSIGN):
            continue
        mine = role in permission.roles or (
            role in permission.assignee_roles
            and actor_id is not None
            and (state.assignee_id == actor_id or (action == A.ACCEPT and status == S.NEW))
        )
        if mine:
            graph.setdefault(status.value, {})[action.value] = target.value
    return graph


def is_complained_about(state: WorkOrderState, user_id: Any) -> bool:
    """Whether this is the person the complaint is about, who may not handle it (DOMAIN.md "Complaint")."""
    return state.complained_about_id is not None and str(state.complained_about_id) == str(user_id)


def require_reason(action: Action, payload: Mapping[str, Any]) -> str | None:
    """The reason given, or ValidationFailed when this action needs one."""
    reason = payload.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed("reason must be text", field="reason")
    reason = (reason or "").strip()
    if EFFECTS[action].reason_required and not reason:
        raise ValidationFailed(f"{action} needs a reason", field="reason", code="reason_required")
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
    try:
        target = _check(state, action, role, actor_id)
    except _Refusal as refusal:
        raise refusal.error from None
    status = Status(state.status)
    require_reason(action, payload)
    assignee = state.assignee_id
    if action == A.ASSIGN:
        if "assigneeId" not in payload:
            raise ValidationFailed(
                "say who gets the job (null hands it back to the pool)", field="assigneeId"
            )
        assignee = payload["assigneeId"]
        if assignee is not None and is_complained_about(state, assignee):
            raise ValidationFailed(
                "the complaint is about this person: someone else handles it",
                field="assigneeId",
                code="assignee_complained_about",
            )
        if target is None:
            target = S.ASSIGNED if assignee is not None else S.NEW
        elif assignee is None:
            raise ValidationFailed("a complaint under way needs a handler", field="assigneeId")
    elif action == A.ACCEPT:
        assignee = actor_id
    elif action == A.DECLINE:
        assignee = None
    elif action == A.CALLBACK:
        outcome = callback_outcome(bool(payload.get("reached")), payload.get("satisfaction"))
        target = S.CLOSED if outcome == CallbackOutcome.SATISFIED else status
    elif action == A.REOPEN:
        # back to the one who did the work; nobody did (a job closed from the pool): back to the pool
        assignee = state.last_assignee_id
        if assignee is None:
            target = S.NEW
    assert target is not None
    return Transition(action, status, target, assignee, EFFECTS[action])


# ---- escalation by hand (DOMAIN.md "Complaint") ----------------------------------------------------------

# Where an escalated complaint can go, lowest first: a level with nobody at the site goes to the next one.
ESCALATION_LEVELS = ("supervisor", "manager")


def escalation_level(to: str, major: bool) -> str:
    """The level a complaint goes up to: the manager when asked or when it is major, else the supervisor."""
    return "manager" if to == "manager" or major else "supervisor"


@dataclass(frozen=True)
class Candidate:
    """A member of the site's staff who could take an escalated complaint over."""

    id: Any
    role: str
    name: str
    on_duty: bool = False


def escalation_handler(level: str, people: list[Candidate], *, not_id: Any = None) -> Candidate | None:
    """Who holds the complaint after it went up to `level`: a person of the site in that role, the one on
    duty when the roster says so, else the first by name (code-point order, then id); nobody in that role
    at the site: the level above. Never the person the complaint is about (`not_id`). None: nobody fits,
    and the handler stays."""
    for role in ESCALATION_LEVELS[ESCALATION_LEVELS.index(level) :]:
        fit = [p for p in people if p.role == role and str(p.id) != str(not_id)]
        if fit:
            return min(fit, key=lambda p: (not p.on_duty, p.name, str(p.id)))
    return None


def escalated(transition: Transition, handler_id: Any) -> Transition:
    """The escalation hands the complaint to whoever it went up to; one that nobody held yet is assigned."""
    if handler_id is None:
        return transition
    to_status = S.ASSIGNED if transition.to_status == S.NEW else transition.to_status
    return replace(transition, assignee_id=handler_id, to_status=to_status)


def apology_due(resolution: Mapping[str, Any] | None) -> bool:
    """Whether an escalation started the manager's apology call and it is not recorded as made yet."""
    task = (resolution or {}).get("managementTask") or {}
    return task.get("kind") == "apology_call" and not task.get("doneAt")
