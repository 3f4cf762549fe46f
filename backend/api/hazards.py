"""Hazard-ledger endpoints: register, list, one hazard, its moves (one endpoint each, guarded by the roles
backend/domain/hazards.py gives the move), the counts for the dashboard, the CSV and the photo."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.openapi import HazardPhotoUpload
from backend.api.paging import SiteQuery
from backend.api.security import requires_role
from backend.api.uploads import STORAGE, photo_response, read_form, required_file
from backend.domain.hazards import (
    MOVES,
    OVERSIGHT,
    Hazard,
    HazardAction,
    HazardCounts,
    HazardCreate,
    HazardMove,
    HazardPage,
)
from backend.services import hazard_photos, hazards
from backend.services.evidence import Storage


class HazardController(Controller):
    """The ledger."""

    path = "/api/v1/hazards"
    tags: ClassVar[list[str]] = ["hazards"]
    dependencies: ClassVar[dict[str, Provide]] = STORAGE

    @get("/", summary="The hazard ledger: open first, the most serious first")
    async def list_hazards(
        self,
        call: Call,
        site: SiteQuery = None,
        status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
        overdue: bool = False,
        work_order_id: Annotated[
            UUID | None, Parameter(query="workOrderId", description="only hazards found on this job")
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> HazardPage:
        """For staff of the site."""
        return await hazards.list_hazards(
            call.conn,
            viewer=call.user,
            site=site,
            status=status,
            overdue=overdue,
            now=call.now(),
            limit=limit,
            offset=offset,
            work_order_id=work_order_id,
        )

    @post("/", status_code=201, summary="Register a hazard (by hand, or found on a job: workOrderId)")
    async def create_hazard(self, call: Call, data: Annotated[HazardCreate, Body()]) -> Response[Hazard]:
        """Place, description, risk level; it starts as 登记 (registered)."""
        return await call.once(
            lambda: hazards.create_hazard(call.conn, actor=call.user, data=data, now=call.now()), status=201
        )

    @get("/counts", summary="Open, overdue and closed hazards per risk level (for the dashboard)")
    async def counts(self, call: Call, site: SiteQuery = None) -> HazardCounts:
        """One site (the caller's only one, or named)."""
        return await hazards.hazard_counts(call.conn, viewer=call.user, site=site, now=call.now())

    @get(
        "/export.csv",
        summary="The ledger as CSV (UTF-8 with BOM)",
        media_type="text/csv",
        guards=[requires_role(*OVERSIGHT)],
    )
    async def export(self, call: Call, site: SiteQuery = None) -> Response[str]:
        """Every hazard with its analysis, control, rectification, re-check and closure."""
        body = await hazards.ledger_csv(call.conn, viewer=call.user, site=site, now=call.now())
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="hazards.csv"',
                "Cache-Control": "no-store",
            },
        )

    @get("/{hazard_id:uuid}", summary="A hazard with its history and the moves open to you")
    async def get_hazard(self, call: Call, hazard_id: FromPath[UUID]) -> Hazard:
        """For staff of its site."""
        return await hazards.get_hazard(call.conn, viewer=call.user, hazard_id=hazard_id, now=call.now())

    @post(
        "/{hazard_id:uuid}/photo",
        status_code=200,
        summary="Add the hazard's photo (multipart `file`; a hazard keeps its first)",
        operation_class=HazardPhotoUpload,
    )
    async def add_photo(
        self, call: Call, storage: NamedDependency[Storage], hazard_id: FromPath[UUID]
    ) -> Response[Hazard]:
        """By who registered it (a technician's finding on a job) or a supervisor and up."""
        form = await read_form(call.request, "send the photo as multipart with the image in `file`")
        photo = await required_file(form, "the photo is required", code="field_required")
        return await call.once(
            lambda: hazard_photos.add_hazard_photo(
                call.conn, storage, actor=call.user, hazard_id=hazard_id, photo=photo, now=call.now()
            ),
        )

    @get("/{hazard_id:uuid}/photo", summary="The hazard's photo")
    async def photo(
        self, call: Call, storage: NamedDependency[Storage], hazard_id: FromPath[UUID], thumb: bool = False
    ) -> Response[bytes]:
        """The photo it was registered with (a round finding's), or with ?thumb=true its thumbnail."""
        sha = await hazards.hazard_photo(call.conn, viewer=call.user, hazard_id=hazard_id, thumbnail=thumb)
        return photo_response(await storage.get(sha), "image/webp" if thumb else "image/jpeg", sha)


SUMMARIES = {
    HazardAction.ANALYSE: "分析: cause, responsibleId, deadline, standard (optional riskLevel)",
    HazardAction.CONTROL: "临时管控: the measure that holds while it is open",
    HazardAction.RECTIFY: "整改: open the rectification work order for a technician (assigneeId)",
    HazardAction.RECHECK: "复查 passed: note; not by who fixed it, once the work order is done",
    HazardAction.RECHECK_FAILED: "复查 failed: note; back to temporary control for a new rectification",
    HazardAction.CLOSE: "销号: closed by a supervisor with the evidence",
}


def _move_handler(action: HazardAction) -> HTTPRouteHandler:
    async def handler(
        call: Call, hazard_id: FromPath[UUID], data: Annotated[HazardMove, Body()]
    ) -> Response[Hazard]:
        return await call.once(
            lambda: hazards.move_hazard(
                call.conn,
                actor=call.user,
                hazard_id=hazard_id,
                action=action.value,
                data=data,
                now=call.now(),
            ),
        )

    handler.__name__ = f"hazard_{action.value}"
    handler.__doc__ = SUMMARIES[action]
    return post(
        f"/api/v1/hazards/{{hazard_id:uuid}}/{action.value.replace('_', '-')}",
        status_code=200,
        summary=SUMMARIES[action],
        tags=["hazards"],
        guards=[requires_role(*MOVES[action].roles)],
    )(handler)


MOVE_HANDLERS = [_move_handler(action) for action in HazardAction]
