"""POST /work-orders/{id}/{action}: one endpoint per action, made from one table.

Each action has its own body Struct (unknown fields are refused, naming the field) and runs under its
Idempotency-Key. Whether the caller may take the action now is the domain's to say; the answer is the work
order as it stands afterwards. POST /work-orders/{id}/sign carries an image and lives with the evidence.
"""

# No `from __future__ import annotations` here: each handler's body type is set per action when the table
# is read, and Litestar reads the real annotation objects.

from typing import Annotated, Any, NamedTuple
from uuid import UUID

import msgspec
from litestar import Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.security import requires_role
from backend.domain.work_orders import (
    ApologyCallRequest,
    AssignRequest,
    CallbackRequest,
    CompleteRequest,
    ContactRequest,
    EscalateRequest,
    InvestigateRequest,
    ReasonRequest,
    SolveRequest,
    StepRequest,
    WorkOrderDetail,
)
from backend.domain.workflow import Action, roles_for
from backend.services.work_order_actions import perform_action


class ActionEndpoint(NamedTuple):
    """How an action is called: its body, whether a body is required, and what the operation says."""

    body: type[msgspec.Struct]
    required: bool
    summary: str
    description: str


ENDPOINTS: dict[Action, ActionEndpoint] = {
    Action.ASSIGN: ActionEndpoint(
        AssignRequest, True, "Assign, reassign, or hand back to the pool",
        "assigneeId: a technician of the site (a complaint: its handler), or null for the pool.",
    ),
    Action.ACCEPT: ActionEndpoint(
        StepRequest, False, "Accept a job (own, or from the pool)",
        "Meets the respond clock; of two technicians accepting one pool job, one wins, one gets 409.",
    ),
    Action.DECLINE: ActionEndpoint(ReasonRequest, True, "Decline with a reason", "Back to the pool."),
    Action.DEPART: ActionEndpoint(StepRequest, False, "On the way", "The technician sets off."),
    Action.ARRIVE: ActionEndpoint(
        StepRequest, False, "Arrived on site", "Meets the arrive clock (clientAt credited when plausible)."
    ),
    Action.PAUSE: ActionEndpoint(
        ReasonRequest, True, "Pause with a reason", "Stops the resolve clock until resumed."
    ),
    Action.RESUME: ActionEndpoint(
        StepRequest, False, "Resume after a pause", "The resolve due time moves later by the paused time."
    ),
    Action.COMPLETE: ActionEndpoint(
        CompleteRequest, True, "Report a field job done, with evidence",
        "Needs what the job's `requirements` list: workDone, 'after' photos of this visit, the checklist.",
    ),
    Action.INVESTIGATE: ActionEndpoint(
        InvestigateRequest, True, "Record a complaint's investigation",
        "Findings of the same-day investigation; meets the investigation clock.",
    ),
    Action.REPLY: ActionEndpoint(
        ContactRequest, True, "Record a reply to the complainant",
        "A contact with the owner (how, and what was said); the first one meets the 24 h respond clock.",
    ),
    Action.SOLVE: ActionEndpoint(
        SolveRequest, True, "Record a complaint's solution",
        "The written solution, any compensation or fee adjustment, and who approved it.",
    ),
    Action.INFORM: ActionEndpoint(
        ContactRequest, True, "Tell the complainant the result",
        "Resolves the complaint (meets the resolve clock) and opens its follow-up call.",
    ),
    Action.ESCALATE: ActionEndpoint(
        EscalateRequest, True, "Escalate a complaint by hand",
        "With a reason, to the supervisor or the manager, who are told at once.",
    ),
    Action.CALLBACK: ActionEndpoint(
        CallbackRequest, True, "Record a follow-up call (回访)",
        "4-5 closes the job, 3 goes to the supervisor, 1-2 reopens it; unreachable keeps the call due.",
    ),
    Action.REOPEN: ActionEndpoint(
        ReasonRequest, True, "Reopen to the last assignee", "A new visit: fresh evidence and signature."
    ),
    Action.CANCEL: ActionEndpoint(ReasonRequest, True, "Cancel with a reason", "Supervisors and up."),
    Action.CLOSE: ActionEndpoint(
        ReasonRequest, False, "Closing check by a supervisor",
        "Closes a completed public-area job or complaint, or a signed home visit.",
    ),
    Action.APOLOGY_CALL_DONE: ActionEndpoint(
        ApologyCallRequest, True, "Record the manager's apology call on an escalated complaint",
        "How, what was said and who called; the management task is done. A manager (a supervisor too when "
        "the complaint is not major); the first contact with the owner also meets the respond clock.",
    ),
}  # fmt: skip


def _split(body: msgspec.Struct | None) -> tuple[dict[str, Any], Any, dict[str, Any] | None]:
    """(payload, clientAt, geo) of an action's body; the payload keeps wire names (camelCase)."""
    if body is None:
        return {}, None, None
    fields = msgspec.to_builtins(body)
    geo = fields.pop("geo", None)
    fields.pop("clientAt", None)
    return fields, getattr(body, "client_at", None), geo


def _handler(action: Action, endpoint: ActionEndpoint) -> HTTPRouteHandler:
    async def act(call: Call, work_order_id: FromPath[UUID], data: Any = None) -> Response[WorkOrderDetail]:
        payload, client_at, geo = _split(data)

        async def run() -> WorkOrderDetail:
            return await perform_action(
                call.conn,
                work_order_id=work_order_id,
                action=action,
                actor=call.user,
                now=call.now(),
                client_at=client_at,
                geo=geo,
                payload=payload,
            )

        return await call.once(run)

    body = Annotated[endpoint.body, Body()] if endpoint.required else Annotated[endpoint.body | None, Body()]
    act.__annotations__["data"] = body
    if endpoint.required:
        act.__defaults__ = None
    act.__name__ = act.__qualname__ = f"work_order_{action.value}"
    act.__doc__ = endpoint.description
    return post(
        f"/api/v1/work-orders/{{work_order_id:uuid}}/{action.value}",
        status_code=200,
        summary=endpoint.summary,
        operation_id=f"workOrder{action.value.capitalize()}",
        tags=["work orders"],
        # a role that may never take the action is refused before its body is read
        guards=[requires_role(*sorted(roles_for(action)))],
    )(act)


ACTION_HANDLERS = [_handler(action, endpoint) for action, endpoint in ENDPOINTS.items()]
