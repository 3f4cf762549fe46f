"""Hazard-ledger endpoints: register, list, one hazard, its moves (one endpoint each, guarded by the roles
backend/domain/hazards.py gives the move), the counts for the dashboard, the CSV and the photo."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.evidence import BLOB_CACHE_CONTROL, provide_storage
from backend.api.security import requires_role
from backend.domain.clock import Clock
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
from backend.domain.models import CurrentUser
from backend.services import hazards
from backend.services.evidence import Storage


class HazardController(Controller):
    """The ledger."""

    path = "/api/v1/hazards"
    tags: ClassVar[list[str]] = ["hazards"]
    dependencies: ClassVar[dict[str, Provide]] = {"storage": Provide(provide_storage, sync_to_thread=False)}

    @get("/", summary="The hazard ledger: open first, the most serious first")
    async def list_hazards(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
        overdue: bool = False,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> HazardPage:
        """For staff of the site."""
        return await hazards.list_hazards(
            conn,
            viewer=user,
            site=site,
            status=status,
            overdue=overdue,
            now=clock.now(),
            limit=limit,
            offset=offset,
        )

    @post("/", status_code=201, summary="Register a hazard (by hand, or found on a job: workOrderId)")
    async def create_hazard(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        data: HazardCreate,
    ) -> Response[Hazard]:
        """Place, description, risk level; it starts as 登记 (registered)."""
        return await idempotent(
            request,
            conn,
            lambda: hazards.create_hazard(conn, actor=user, data=data, now=clock.now()),
            status=201,
        )

    @get("/counts", summary="Open, overdue and closed hazards per risk level (for the dashboard)")
    async def counts(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> HazardCounts:
        """One site (the caller's only one, or named)."""
        return await hazards.hazard_counts(conn, viewer=user, site=site, now=clock.now())

    @get(
        "/export.csv",
        summary="The ledger as CSV (UTF-8 with BOM)",
        media_type="text/csv",
        guards=[requires_role(*OVERSIGHT)],
    )
    async def export(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> Response[str]:
        """Every hazard with its analysis, control, rectification, re-check and closure."""
        body = await hazards.ledger_csv(conn, viewer=user, site=site, now=clock.now())
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="hazards.csv"',
                "Cache-Control": "no-store",
            },
        )

    @get("/{hazard_id:uuid}", summary="A hazard with its history and the moves open to you")
    async def get_hazard(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        hazard_id: FromPath[UUID],
    ) -> Hazard:
        """For staff of its site."""
        return await hazards.get_hazard(conn, viewer=user, hazard_id=hazard_id, now=clock.now())

    @get("/{hazard_id:uuid}/photo", summary="The hazard's photo")
    async def photo(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
        hazard_id: FromPath[UUID],
        thumb: bool = False,
    ) -> Response[bytes]:
        """The photo it was registered with (a round finding's), or with ?thumb=true its thumbnail."""
        sha = await hazards.hazard_photo(conn, viewer=user, hazard_id=hazard_id, thumbnail=thumb)
        media_type = "image/webp" if thumb else "image/jpeg"
        return Response(
            await storage.get(sha),
            media_type=media_type,
            headers={"Cache-Control": BLOB_CACHE_CONTROL, "ETag": f'"{sha}"'},
        )


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
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        hazard_id: FromPath[UUID],
        data: HazardMove,
    ) -> Response[Hazard]:
        return await idempotent(
            request,
            conn,
            lambda: hazards.move_hazard(
                conn, actor=user, hazard_id=hazard_id, action=action.value, data=data, now=clock.now()
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
