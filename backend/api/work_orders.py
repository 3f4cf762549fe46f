"""Work-order endpoints: intake, lists, detail, dispatch suggestions, the callback queue, maintenance plans.

Every mutation runs under its Idempotency-Key; role and site rules live in the services and the domain.
The actions are in api/work_order_actions.py; POST /work-orders/{id}/sign and /photos belong to the evidence
endpoints.
"""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.openapi import STATUS_LIST
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.personal_data import read_by
from backend.api.security import requires_role
from backend.domain.client_input import ClientTime, plain_datetime
from backend.domain.roles import DESK_ROLES, OVERSIGHT_ROLES
from backend.domain.work_orders import (
    CallbackPage,
    JobListPage,
    MaintenancePlan,
    MaintenancePlanCreate,
    TechnicianSuggestion,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderPage,
)
from backend.services import callbacks, intake, maintenance, work_orders


class WorkOrderController(Controller):
    """Work orders from intake to callback."""

    path = "/api/v1/work-orders"
    tags: ClassVar[list[str]] = ["work orders"]

    @get("/", summary="List work orders, most urgent first")
    async def list_work_orders(
        self,
        call: Call,
        status: Annotated[
            str | None, Parameter(description="comma-separated statuses", schema_extra=STATUS_LIST)
        ] = None,
        kind: str | None = None,
        assignee: Annotated[str | None, Parameter(description="me, none or a user id")] = None,
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        overdue: bool = False,
        open: Annotated[
            bool, Parameter(description="only work not yet closed or cancelled (ignored with `status`)")
        ] = False,
        escalated: Annotated[
            bool, Parameter(description="only complaints for management: escalated by hand, or major")
        ] = False,
        q: Annotated[str | None, Parameter(description="number or title contains", max_length=100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> WorkOrderPage:
        """Filter by status, kind, assignee, site, overdue, escalated, text; by priority, then due time."""
        return await work_orders.list_work_orders(
            call.conn,
            viewer=call.user,
            now=call.now(),
            status=status,
            open_only=open,
            kind=kind,
            assignee=assignee,
            site=site,
            overdue=overdue,
            escalated=escalated,
            text=q,
            limit=limit,
            offset=offset,
        )

    @get("/mine", summary="My open jobs, most urgent first, as my job list shows them")
    async def my_jobs(self, call: Call, limit: Limit = 50, offset: Offset = 0) -> JobListPage:
        """The caller's work orders not yet closed or cancelled, in the order of the full list, each with
        number, kind, status, priority, title, place, version and clocks; the detail has the rest."""
        return await work_orders.my_jobs(
            call.conn, viewer=call.user, now=call.now(), limit=limit, offset=offset
        )

    @post("/", summary="Record a repair, complaint or emergency", guards=[requires_role(*DESK_ROLES)])
    async def create_work_order(
        self, call: Call, data: Annotated[WorkOrderCreate, Body()]
    ) -> Response[WorkOrder]:
        """Intake; priority (P1-P4) is suggested from category and keywords unless given. Answers 201."""

        async def run() -> WorkOrder:
            return await intake.intake_work_order(call.conn, actor=call.user, data=data, now=call.now())

        return await call.once(run, status=201)

    @get("/{work_order_id:uuid}", summary="A work order with events, clocks, callbacks, photos, signature")
    async def get_work_order(self, call: Call, work_order_id: FromPath[UUID]) -> WorkOrderDetail:
        """Everything about one work order, what the caller may do, and its unit's and asset's history."""
        return await work_orders.get_work_order(call.conn, work_order_id, call.user, now=call.now())

    @get(
        "/{work_order_id:uuid}/suggestions",
        summary="On-duty technicians ranked for this job",
        guards=[requires_role(*DESK_ROLES)],
    )
    async def suggestions(
        self, call: Call, work_order_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[TechnicianSuggestion]:
        """Skilled in the category first, then the fewest open jobs."""
        ranked = await work_orders.suggest_technicians(call.conn, work_order_id, call.user, now=call.now())
        return page_of(ranked, limit, offset)


class CallbackController(Controller):
    """The follow-up call queue."""

    path = "/api/v1/callbacks"
    tags: ClassVar[list[str]] = ["callbacks"]

    @get("/", summary="Follow-up calls due, earliest first", guards=[requires_role(*DESK_ROLES)])
    async def queue(
        self,
        call: Call,
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        due_before: Annotated[ClientTime | None, Parameter(description="only calls due before this")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> CallbackPage:
        """Completed work orders whose callback clock is not met yet, with attempts so far, what was done
        and by whom, and the home's owner on file."""
        return await callbacks.callback_queue(
            call.conn,
            viewer=call.user,
            site=site,
            due_before=plain_datetime(due_before),
            limit=limit,
            offset=offset,
            **read_by(call.request),
        )


class MaintenancePlanController(Controller):
    """Planned maintenance schedules (supervisors and up)."""

    path = "/api/v1/maintenance-plans"
    tags: ClassVar[list[str]] = ["maintenance"]
    guards: ClassVar[list] = [requires_role(*OVERSIGHT_ROLES)]

    @get("/", summary="Maintenance plans of my sites")
    async def list_plans(
        self, call: Call, site: str | None = None, limit: Limit = 50, offset: Offset = 0
    ) -> Page[MaintenancePlan]:
        """The plans of the caller's sites (or one site), a page at a time."""
        return page_of(await maintenance.list_plans(call.conn, viewer=call.user, site=site), limit, offset)

    @post("/", summary="Create a maintenance plan")
    async def create_plan(
        self, call: Call, data: Annotated[MaintenancePlanCreate, Body()]
    ) -> Response[MaintenancePlan]:
        """interval_days or cron; the first due day defaults to one period from today."""

        async def run() -> MaintenancePlan:
            return await maintenance.create_plan(call.conn, actor=call.user, data=data, now=call.now())

        return await call.once(run, status=201)
