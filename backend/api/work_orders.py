"""Work-order endpoints: intake, lists, detail, one POST per action, dispatch suggestions, the callback queue.

Every mutation runs under its Idempotency-Key; role and site rules live in the services and the domain.
POST /work-orders/{id}/sign and /photos belong to the evidence endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.security import requires_role
from backend.domain.client_input import ClientTime, plain_datetime
from backend.domain.models import CurrentUser
from backend.domain.roles import DESK_ROLES, OVERSIGHT_ROLES
from backend.domain.work_orders import (
    ActionRequest,
    CallbackDue,
    CallbackRequest,
    MaintenancePlan,
    MaintenancePlanCreate,
    TechnicianSuggestion,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderPage,
)
from backend.services import callbacks, maintenance, work_orders

ActionBody = Annotated[ActionRequest | None, Body(description="clientAt, geo and the action's own fields")]


def _now(request: Request[Any, Any, Any]) -> datetime:
    """The app's clock (tests move a ManualClock)."""
    return request.app.state.clock.now()


def _payload(body: ActionRequest | None) -> tuple[dict[str, Any], datetime | None, dict[str, Any] | None]:
    if body is None:
        return {}, None, None
    fields = msgspec.to_builtins(body)
    client_at = body.client_at
    fields.pop("clientAt", None)
    geo = fields.pop("geo", None)
    # an explicit null assignee stays in the payload: "hand back to the pool"
    payload = {k: v for k, v in fields.items() if v is not None or k == "assigneeId"}
    return payload, client_at, geo


class WorkOrderController(Controller):
    """Work orders from intake to callback."""

    path = "/api/v1/work-orders"
    tags: ClassVar[list[str]] = ["work orders"]

    @get("/", summary="List work orders, most urgent first")
    async def list_work_orders(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
        kind: str | None = None,
        assignee: Annotated[str | None, Parameter(description="me, none or a user id")] = None,
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        overdue: bool = False,
        q: Annotated[str | None, Parameter(description="number or title contains", max_length=100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> WorkOrderPage:
        """Filter by status, kind, assignee, site, overdue, text; by priority, then nearest due time."""
        return await work_orders.list_work_orders(
            conn,
            viewer=user,
            now=_now(request),
            status=status,
            kind=kind,
            assignee=assignee,
            site=site,
            overdue=overdue,
            text=q,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Record a repair, complaint or emergency", guards=[requires_role(*DESK_ROLES)])
    async def create_work_order(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[WorkOrderCreate, Body()],
    ) -> Response[WorkOrder]:
        """Intake; priority is suggested from category and keywords unless given. Answers 201."""

        async def run() -> WorkOrder:
            return await work_orders.intake_work_order(conn, actor=user, data=data, now=_now(request))

        return await idempotent(request, conn, run, status=201)

    @get("/{work_order_id:uuid}", summary="A work order with events, clocks, callbacks, photos, signature")
    async def get_work_order(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        work_order_id: FromPath[UUID],
    ) -> WorkOrderDetail:
        """Everything about one work order."""
        return await work_orders.get_work_order(conn, work_order_id, user, now=_now(request))

    @get(
        "/{work_order_id:uuid}/suggestions",
        summary="On-duty technicians ranked for this job",
        guards=[requires_role(*DESK_ROLES)],
    )
    async def suggestions(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        work_order_id: FromPath[UUID],
    ) -> list[TechnicianSuggestion]:
        """Skilled in the category first, then the fewest open jobs."""
        return await work_orders.suggest_technicians(conn, work_order_id, user)

    async def _act(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        action: str,
        body: ActionRequest | None,
    ) -> Response[WorkOrderDetail]:
        payload, client_at, geo = _payload(body)

        async def run() -> WorkOrderDetail:
            return await work_orders.perform_action(
                conn,
                work_order_id=work_order_id,
                action=action,
                actor=request.user,
                now=_now(request),
                client_at=client_at,
                geo=geo,
                payload=payload,
            )

        return await idempotent(request, conn, run)

    @post(
        "/{work_order_id:uuid}/assign", status_code=200, summary="Assign to a technician, or back to the pool"
    )
    async def assign(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """assigneeId: a technician of the site, or null to hand the job back to the pool."""
        return await self._act(request, conn, work_order_id, "assign", data)

    @post("/{work_order_id:uuid}/accept", status_code=200, summary="Accept a job (own, or from the pool)")
    async def accept(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Meets the respond clock; of two technicians accepting one pool job, one wins, one gets 409."""
        return await self._act(request, conn, work_order_id, "accept", data)

    @post(
        "/{work_order_id:uuid}/decline", status_code=200, summary="Decline with a reason (back to the pool)"
    )
    async def decline(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Needs a reason."""
        return await self._act(request, conn, work_order_id, "decline", data)

    @post("/{work_order_id:uuid}/depart", status_code=200, summary="On the way")
    async def depart(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """The technician sets off."""
        return await self._act(request, conn, work_order_id, "depart", data)

    @post("/{work_order_id:uuid}/arrive", status_code=200, summary="Arrived on site")
    async def arrive(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Meets the arrive clock (clientAt credited when plausible)."""
        return await self._act(request, conn, work_order_id, "arrive", data)

    @post("/{work_order_id:uuid}/pause", status_code=200, summary="Pause (waiting for parts, owner not home)")
    async def pause(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Needs a reason; stops the resolve clock until resumed."""
        return await self._act(request, conn, work_order_id, "pause", data)

    @post("/{work_order_id:uuid}/resume", status_code=200, summary="Resume after a pause")
    async def resume(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """The resolve due time moves later by the paused time."""
        return await self._act(request, conn, work_order_id, "resume", data)

    @post("/{work_order_id:uuid}/complete", status_code=200, summary="Report the job done, with evidence")
    async def complete(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Needs workDone, and for field jobs an 'after' photo and every required checklist item."""
        return await self._act(request, conn, work_order_id, "complete", data)

    @post("/{work_order_id:uuid}/reopen", status_code=200, summary="Reopen to the last assignee")
    async def reopen(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Supervisors and up; needs a reason."""
        return await self._act(request, conn, work_order_id, "reopen", data)

    @post("/{work_order_id:uuid}/cancel", status_code=200, summary="Cancel with a reason")
    async def cancel(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Supervisors and up; needs a reason."""
        return await self._act(request, conn, work_order_id, "cancel", data)

    @post("/{work_order_id:uuid}/close", status_code=200, summary="Closing check by a supervisor")
    async def close(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: ActionBody = None,
    ) -> Response[WorkOrderDetail]:
        """Closes a completed public-area job or complaint, or a signed home visit."""
        return await self._act(request, conn, work_order_id, "close", data)

    @post("/{work_order_id:uuid}/callback", status_code=200, summary="Record a follow-up call (回访)")
    async def callback(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        work_order_id: FromPath[UUID],
        data: Annotated[CallbackRequest, Body()],
    ) -> Response[WorkOrderDetail]:
        """Satisfied (3-5) closes the job, unsatisfied (1-2) reopens it, unreachable keeps the call due."""
        payload = {"reached": data.reached, "satisfaction": data.satisfaction, "comment": data.comment}

        async def run() -> WorkOrderDetail:
            return await work_orders.perform_action(
                conn,
                work_order_id=work_order_id,
                action="callback",
                actor=request.user,
                now=_now(request),
                client_at=data.client_at,
                payload=payload,
            )

        return await idempotent(request, conn, run)


class CallbackController(Controller):
    """The follow-up call queue."""

    path = "/api/v1/callbacks"
    tags: ClassVar[list[str]] = ["callbacks"]

    @get("/", summary="Follow-up calls due, earliest first", guards=[requires_role(*DESK_ROLES)])
    async def queue(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        due_before: Annotated[ClientTime | None, Parameter(description="only calls due before this")] = None,
    ) -> list[CallbackDue]:
        """Completed work orders whose callback clock is not met yet, with attempts so far."""
        return await callbacks.callback_queue(
            conn, viewer=user, site=site, due_before=plain_datetime(due_before)
        )


class MaintenancePlanController(Controller):
    """Planned maintenance schedules (supervisors and up)."""

    path = "/api/v1/maintenance-plans"
    tags: ClassVar[list[str]] = ["maintenance"]
    guards: ClassVar[list] = [requires_role(*OVERSIGHT_ROLES)]

    @get("/", summary="Maintenance plans of my sites")
    async def list_plans(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: str | None = None,
    ) -> list[MaintenancePlan]:
        """Every plan of the caller's sites (or one site)."""
        return await maintenance.list_plans(conn, viewer=user, site=site)

    @post("/", summary="Create a maintenance plan")
    async def create_plan(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[MaintenancePlanCreate, Body()],
    ) -> Response[MaintenancePlan]:
        """interval_days or cron; the first due day defaults to one period from today."""

        async def run() -> MaintenancePlan:
            return await maintenance.create_plan(conn, actor=user, data=data, now=_now(request))

        return await idempotent(request, conn, run, status=201)
