"""Callback campaigns beyond single jobs: the agents' worklist and recording a call's outcome."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.paging import Limit, Offset
from backend.api.personal_data import read_by
from backend.api.security import requires_role
from backend.domain.campaigns import CampaignCall, CampaignCallPage, CampaignOutcomeRequest
from backend.domain.roles import DESK_ROLES
from backend.services import campaigns


class CampaignController(Controller):
    """回访活动: the monthly routine sample and the move-in calls, worked by the desk."""

    path = "/api/v1/campaign-calls"
    tags: ClassVar[list[str]] = ["callbacks"]
    guards: ClassVar[list] = [requires_role(*sorted(DESK_ROLES))]

    @get("/", summary="Campaign calls owed (earliest due first), or worked (done=true, latest first)")
    async def worklist(
        self,
        call: Call,
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        campaign: Annotated[str | None, Parameter(description="routine_sample or move_in")] = None,
        done: bool = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CampaignCallPage:
        """Each call with its unit and the home's owner on file."""
        return await campaigns.worklist(
            call.conn, viewer=call.user, site=site, campaign=campaign, done=done, limit=limit, offset=offset,
            **read_by(call.request),
        )  # fmt: skip

    @post("/{call_id:uuid}/outcome", status_code=200, summary="Record a campaign call's outcome")
    async def outcome(
        self, call: Call, call_id: FromPath[UUID], data: Annotated[CampaignOutcomeRequest, Body()]
    ) -> Response[CampaignCall]:
        """reached (satisfaction 1-5 when given), no_answer or refused; notes; followUp opens a job for the
        unit. Once: a call already worked is a 409."""

        async def run() -> CampaignCall:
            return await campaigns.record_outcome(
                call.conn, call_id=call_id, actor=call.user, data=data, now=call.now()
            )

        return await call.once(run)
