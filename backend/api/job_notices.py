"""Notices to a building from maintenance work: a job tells its building's residents what it interrupts, and
a maintenance plan says what its work interrupts so its jobs announce themselves."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post, put
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.security import requires_role
from backend.domain import job_notices as rules
from backend.domain.job_notices import PlanNotice, PlanNoticeView, ResidentNotice, ResidentNoticeCreate
from backend.services import job_notices


class JobNoticeController(Controller):
    """A job's notice to its building; a plan's notice setting."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["owners"]

    @post(
        "/work-orders/{work_order_id:uuid}/resident-notice",
        status_code=200,
        summary="Tell every resident of the job's building what the work interrupts and when (once)",
        guards=[requires_role(*rules.NOTICE_MARKERS)],
    )
    async def tell(
        self, call: Call, work_order_id: FromPath[UUID], data: Annotated[ResidentNoticeCreate, Body()]
    ) -> Response[ResidentNotice]:
        """The desk and supervisors. A job told already answers with its first notice and tells nobody again;
        completing or cancelling the job tells them "restored", once."""
        return await call.once(
            lambda: job_notices.tell_residents(call.conn, call.user, work_order_id, data, now=call.now())
        )

    @get(
        "/work-orders/{work_order_id:uuid}/resident-notice",
        summary="The job's notice to its building (404 when it has none)",
    )
    async def notice(self, call: Call, work_order_id: FromPath[UUID]) -> ResidentNotice:
        """For staff of the job's site."""
        return await job_notices.notice_of(call.conn, call.user, work_order_id)

    @put(
        "/maintenance-plans/{plan_id:uuid}/resident-notice",
        summary="What a plan's work interrupts (water, power, lift, or null), how far ahead and how long",
        guards=[requires_role(*rules.PLAN_EDITORS)],
    )
    async def plan_notice(
        self, call: Call, plan_id: FromPath[UUID], data: Annotated[PlanNotice, Body()]
    ) -> PlanNoticeView:
        """Supervisors and up; the plan's jobs not yet announced follow the new setting."""
        return await job_notices.set_plan_notice(call.conn, call.user, plan_id, data)
