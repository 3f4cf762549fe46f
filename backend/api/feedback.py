"""Suggestions and praise (建议/表扬) at the desk: record, list, answer.

The owner's page files feedback through `backend.services.feedback.file_feedback`, not through here.
"""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, Page, SiteQuery
from backend.api.security import requires_role
from backend.domain.feedback import Feedback, FeedbackAnswer, FeedbackCreate, FeedbackKind
from backend.domain.roles import DESK_ROLES
from backend.services import feedback


class FeedbackController(Controller):
    """The desk's suggestions and praise: taken, routed to the supervisor, answered."""

    path = "/api/v1/feedback"
    tags: ClassVar[list[str]] = ["feedback"]
    guards: ClassVar[list] = [requires_role(*DESK_ROLES)]

    @post("/", summary="Record a suggestion or praise taken at the desk")
    async def create_feedback(
        self, call: Call, data: Annotated[FeedbackCreate, Body()]
    ) -> Response[Feedback]:
        """Routed to the site's supervisor; praise also to the praised person's record. Answers 201."""
        return await call.once(
            lambda: feedback.record_feedback(call.conn, actor=call.user, data=data, now=call.now()),
            status=201,
        )

    @get("/", summary="List suggestions and praise, open first")
    async def list_feedback(
        self,
        call: Call,
        site: SiteQuery = None,
        kind: Annotated[FeedbackKind | None, Parameter(description="suggestion or praise")] = None,
        open: Annotated[bool | None, Parameter(description="true: not answered yet; false: answered")] = None,
        praised: Annotated[UUID | None, Parameter(description="praise of this member of staff")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Feedback]:
        """The caller's sites (or one), open first, then newest first."""
        items, total = await feedback.list_feedback(
            call.conn,
            call.user,
            site=site,
            kind=kind,
            open_only=open,
            praised_user_id=praised,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @post("/{feedback_id:uuid}/answer", summary="Record the answer given to the owner (closes it)")
    async def answer_feedback(
        self, call: Call, feedback_id: FromPath[UUID], data: Annotated[FeedbackAnswer, Body()]
    ) -> Response[Feedback]:
        """How the owner was answered and what was said; a second answer is refused (409)."""
        return await call.once(
            lambda: feedback.answer_feedback(
                call.conn, actor=call.user, feedback_id=feedback_id, data=data, now=call.now()
            )
        )
