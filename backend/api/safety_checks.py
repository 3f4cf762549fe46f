"""Quarterly safety check endpoints: the checks of your sites, one check with its points, a point's answer
(a form; multipart with a photo) and its photo. Answers run under their Idempotency-Key, so an answer queued
offline lands once."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter

from backend.api.deps import Call
from backend.api.openapi import SafetyCheckAnswerUpload
from backend.api.paging import SiteQuery
from backend.api.security import requires_role
from backend.api.uploads import STORAGE, form_with_photo, photo_response
from backend.domain.safety_checks import CHECK_ROLES, AnswerForm, SafetyCheck, SafetyCheckPage
from backend.services import safety_checks
from backend.services.evidence import Storage

# Who carries out the check: refused before any body is read (the service checks again).
CHECKERS = requires_role(*CHECK_ROLES)


class SafetyCheckController(Controller):
    """The quarterly safety check (季度安全检查)."""

    path = "/api/v1/safety-checks"
    tags: ClassVar[list[str]] = ["safety checks"]
    dependencies: ClassVar[dict[str, Provide]] = STORAGE
    guards: ClassVar = [CHECKERS]

    @get("/", summary="Quarterly safety checks of your sites, newest quarter first")
    async def list_checks(
        self,
        call: Call,
        site: SiteQuery = None,
        status: Annotated[str | None, Parameter(description="open or done")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> SafetyCheckPage:
        """For supervisors, managers and admins."""
        return await safety_checks.list_checks(
            call.conn, viewer=call.user, site=site, status=status, limit=limit, offset=offset
        )

    @get("/{safety_check_id:uuid}", summary="A quarterly check with its focus points and answers")
    async def get_check(self, call: Call, safety_check_id: FromPath[UUID]) -> SafetyCheck:
        """The points in the order they are walked."""
        return await safety_checks.get_check(call.conn, viewer=call.user, check_id=safety_check_id)

    @post(
        "/{safety_check_id:uuid}/points/{code:str}",
        status_code=200,
        summary="Answer one focus point: ok, or a finding (note or photo, risk level) that enters the ledger",
        operation_class=SafetyCheckAnswerUpload,
    )
    async def answer_point(
        self,
        call: Call,
        storage: NamedDependency[Storage],
        safety_check_id: FromPath[UUID],
        code: FromPath[str],
    ) -> Response[SafetyCheck]:
        """Fields outcome ok|finding, note, riskLevel major|high|medium|low, clientAt; optional photo as
        `file`. A point is answered once (409 `safety_check_point_answered`)."""
        fields, photo = await form_with_photo(call.request, "answer", AnswerForm)
        return await call.once(
            lambda: safety_checks.answer_point(
                call.conn,
                storage,
                actor=call.user,
                check_id=safety_check_id,
                code=code,
                form=fields,
                photo=photo,
                now=call.now(),
            ),
        )

    @get("/{safety_check_id:uuid}/points/{code:str}/photo", summary="A point's photo")
    async def point_photo(
        self,
        call: Call,
        storage: NamedDependency[Storage],
        safety_check_id: FromPath[UUID],
        code: FromPath[str],
        thumb: bool = False,
    ) -> Response[bytes]:
        """The cleaned original, or with ?thumb=true the 320 px WebP thumbnail."""
        return photo_response(
            *await safety_checks.point_photo(
                call.conn, storage, viewer=call.user, check_id=safety_check_id, code=code, thumbnail=thumb
            )
        )
