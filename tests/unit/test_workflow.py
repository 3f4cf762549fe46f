"""The state machine: every role x every action x every status of every kind, against a table written
from the rules (DESIGN.md "Domain rules" and the work-order issue), not derived from the code."""

from __future__ import annotations

import itertools
import uuid

import pytest

from backend.domain.workflow import Action, Status, WorkOrderState, plan_transition
from backend.errors import Forbidden, InvalidTransition, ValidationFailed

ROLES = ("admin", "manager", "supervisor", "agent", "technician", "guard")
DESK = {"admin", "manager", "supervisor", "agent"}
OVERSIGHT = {"admin", "manager", "supervisor"}
WORKER_ACTIONS = {"accept", "decline", "depart", "arrive", "pause", "resume", "complete"}

FIELD_ROLES = {
    "assign": DESK,
    **{a: {"technician"} for a in WORKER_ACTIONS},
    "sign": {"technician"} | OVERSIGHT,
    "callback": DESK,
    "reopen": OVERSIGHT,
    "cancel": OVERSIGHT,
    "close": OVERSIGHT,
}
COMPLAINT_ROLES = {**FIELD_ROLES, **{a: {"technician"} | DESK for a in WORKER_ACTIONS}}

_BEFORE_COMPLETION = {
    "new": {"assign": "assigned", "accept": "accepted", "cancel": "cancelled"},
    "assigned": {"assign": "assigned", "accept": "accepted", "decline": "new", "cancel": "cancelled"},
    "accepted": {
        "assign": "assigned",
        "decline": "new",
        "depart": "en_route",
        "arrive": "on_site",
        "cancel": "cancelled",
    },
    "en_route": {"arrive": "on_site", "cancel": "cancelled"},
    "on_site": {"pause": "paused", "complete": "completed", "cancel": "cancelled"},
    "paused": {"resume": "on_site", "cancel": "cancelled"},
}
PUBLIC_PATHS = {
    **_BEFORE_COMPLETION,
    "completed": {"reopen": "assigned", "close": "closed", "callback": "closed"},
    "closed": {"reopen": "assigned", "callback": "closed"},
}
IN_HOME_PATHS = {
    **_BEFORE_COMPLETION,
    "completed": {"reopen": "assigned", "sign": "signed"},
    "signed": {"reopen": "assigned", "close": "closed", "callback": "closed"},
    "closed": {"reopen": "assigned", "callback": "closed"},
}
COMPLAINT_PATHS = {
    "new": {"assign": "assigned", "accept": "accepted", "cancel": "cancelled"},
    "assigned": {"assign": "assigned", "accept": "accepted", "decline": "new", "cancel": "cancelled"},
    "accepted": {"assign": "assigned", "decline": "new", "complete": "completed", "cancel": "cancelled"},
    "completed": {"reopen": "assigned", "close": "closed", "callback": "closed"},
    "closed": {"reopen": "assigned", "callback": "closed"},
}
CASES = [
    ("repair", False, PUBLIC_PATHS, FIELD_ROLES),
    ("emergency", False, PUBLIC_PATHS, FIELD_ROLES),
    ("maintenance", False, PUBLIC_PATHS, FIELD_ROLES),
    ("inspection", False, PUBLIC_PATHS, FIELD_ROLES),
    ("repair", True, IN_HOME_PATHS, FIELD_ROLES),
    ("complaint", False, COMPLAINT_PATHS, COMPLAINT_ROLES),
]


def _payload(assignee: uuid.UUID) -> dict:
    # everything any action could require, so that only role and status decide
    return {"reason": "owner asked", "assigneeId": assignee, "reached": True, "satisfaction": 5}


@pytest.mark.parametrize(("kind", "in_home", "paths", "roles"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_role_action_and_status(kind: str, in_home: bool, paths: dict, roles: dict) -> None:
    actor = uuid.uuid4()
    checked = 0
    for status, action, role in itertools.product(Status, Action, ROLES):
        state = WorkOrderState(kind=kind, status=status.value, in_home=in_home, assignee_id=actor, version=3)
        expected_target = paths.get(status.value, {}).get(action.value)
        if role not in roles[action.value]:
            with pytest.raises(Forbidden):
                plan_transition(state, action, role=role, actor_id=actor, payload=_payload(actor))
        elif expected_target is None:
            with pytest.raises(InvalidTransition) as err:
                plan_transition(state, action, role=role, actor_id=actor, payload=_payload(actor))
            current = {"status": status.value, "assigneeId": str(actor), "version": 3}
            assert err.value.extra["current"] == current
        else:
            t = plan_transition(state, action, role=role, actor_id=actor, payload=_payload(actor))
            assert t.to_status.value == expected_target, (status, action, role)
        checked += 1
    assert checked == len(Status) * len(Action) * len(ROLES)


def test_a_technician_cannot_work_someone_elses_job() -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    state = WorkOrderState(kind="repair", status="assigned", in_home=True, assignee_id=theirs, version=2)
    with pytest.raises(InvalidTransition) as err:
        plan_transition(state, Action.ACCEPT, role="technician", actor_id=mine, payload={})
    assert err.value.extra["current"]["assigneeId"] == str(theirs)


def test_a_technician_may_take_a_job_from_the_pool() -> None:
    me = uuid.uuid4()
    state = WorkOrderState(kind="repair", status="new", in_home=True, assignee_id=None)
    t = plan_transition(state, Action.ACCEPT, role="technician", actor_id=me, payload={})
    assert (t.to_status, t.assignee_id) == (Status.ACCEPTED, me)


@pytest.mark.parametrize("action", [Action.DECLINE, Action.PAUSE, Action.CANCEL, Action.REOPEN])
def test_actions_that_need_a_reason(action: Action) -> None:
    me = uuid.uuid4()
    status = {"decline": "assigned", "pause": "on_site", "cancel": "new", "reopen": "closed"}[action.value]
    role = "technician" if action in (Action.DECLINE, Action.PAUSE) else "supervisor"
    state = WorkOrderState(kind="repair", status=status, in_home=False, assignee_id=me)
    for missing in ({}, {"reason": "   "}):
        with pytest.raises(ValidationFailed) as err:
            plan_transition(state, action, role=role, actor_id=me, payload=missing)
        assert err.value.field == "reason"
    plan_transition(state, action, role=role, actor_id=me, payload={"reason": "parts on order"})


def test_decline_returns_the_job_to_the_pool_and_assign_none_too() -> None:
    me = uuid.uuid4()
    state = WorkOrderState(kind="repair", status="assigned", in_home=False, assignee_id=me)
    t = plan_transition(state, Action.DECLINE, role="technician", actor_id=me, payload={"reason": "sick"})
    assert (t.to_status, t.assignee_id) == (Status.NEW, None)
    back = {"assigneeId": None}
    t = plan_transition(state, Action.ASSIGN, role="agent", actor_id=uuid.uuid4(), payload=back)
    assert (t.to_status, t.assignee_id) == (Status.NEW, None)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"reached": True, "satisfaction": 5}, "closed"),
        ({"reached": True, "satisfaction": 3}, "closed"),
        ({"reached": True, "satisfaction": 2}, "completed"),
        ({"reached": False}, "completed"),
    ],
)
def test_callback_outcome(payload: dict, expected: str) -> None:
    state = WorkOrderState(kind="complaint", status="completed", in_home=False, assignee_id=None)
    t = plan_transition(state, Action.CALLBACK, role="agent", actor_id=uuid.uuid4(), payload=payload)
    assert t.to_status.value == expected


@pytest.mark.parametrize(
    "payload",
    [{"reached": True}, {"reached": True, "satisfaction": 6}, {"reached": False, "satisfaction": 4}, {}],
)
def test_callback_needs_a_consistent_answer(payload: dict) -> None:
    state = WorkOrderState(kind="complaint", status="completed", in_home=False, assignee_id=None)
    with pytest.raises(ValidationFailed):
        plan_transition(state, Action.CALLBACK, role="agent", actor_id=uuid.uuid4(), payload=payload)
