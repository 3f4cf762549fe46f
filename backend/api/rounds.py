"""Rounds endpoints: check points, routes and their QR sheet, schedules, rounds, scans, the shift report.

Every mutation runs under its Idempotency-Key, so a scan queued offline lands once however often the phone
replays it. Who may do what is the service's to say (backend/domain/rounds.py names the roles).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.evidence import BLOB_CACHE_CONTROL, _fields, _file_bytes, provide_storage
from backend.api.openapi import ScanUpload
from backend.api.security import requires_role
from backend.api.security_headers import CSP
from backend.domain.client_input import check_client_day
from backend.domain.clock import Clock
from backend.domain.models import CurrentUser
from backend.domain.rounds import (
    PLANNER_ROLES,
    WALKER_ROLES,
    CheckPoint,
    CheckPointCreate,
    Round,
    RoundPage,
    RoundReport,
    RoundSchedule,
    RoundStart,
    Route,
    RouteCreate,
    ScanForm,
    ScheduleCreate,
)
from backend.errors import UnsupportedMedia, ValidationFailed
from backend.services import rounds
from backend.services.evidence import Storage

# Who lays out and reads rounds, who walks them: checked before any body is read (the service checks again).
PLANNERS = requires_role(*PLANNER_ROLES)
WALKERS = requires_role(*WALKER_ROLES)
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def _scan_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A scan's fields: a form (multipart when it carries a photo)."""
    if not (request.content_type[0] or "").startswith(FORM_TYPES):
        raise UnsupportedMedia(
            "send the scan as a form (multipart with a photo in `file`)", code="not_multipart"
        )
    return dict((await request.form()).items())


class RoundsController(Controller):
    """Points, routes, schedules and the rounds walked on them."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["rounds"]
    dependencies: ClassVar[dict[str, Provide]] = {"storage": Provide(provide_storage, sync_to_thread=False)}

    @post(
        "/check-points",
        status_code=201,
        summary="Add a check point (its QR token is made here)",
        guards=[PLANNERS],
    )
    async def create_check_point(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: CheckPointCreate,
    ) -> Response[CheckPoint]:
        """A point of a site: name, place, optional asset."""
        return await idempotent(
            request, conn, lambda: rounds.create_check_point(conn, actor=user, data=data), status=201
        )

    @get("/check-points", summary="Check points of your sites, with their QR payloads", guards=[PLANNERS])
    async def list_check_points(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> list[CheckPoint]:
        """For supervisors and up."""
        return await rounds.list_check_points(conn, viewer=user, site=site)

    @post(
        "/round-routes",
        status_code=201,
        summary="Add a route: ordered points and the expected minutes",
        guards=[PLANNERS],
    )
    async def create_route(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: RouteCreate,
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> Response[Route]:
        """The points are walked in the order given."""
        return await idempotent(
            request, conn, lambda: rounds.create_route(conn, actor=user, site=site, data=data), status=201
        )

    @get("/round-routes", summary="Routes of your sites with their points", guards=[WALKERS])
    async def list_routes(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> list[Route]:
        """For the people who walk them and those who plan them."""
        return await rounds.list_routes(conn, viewer=user, site=site)

    @get(
        "/round-routes/{route_id:uuid}/qr-sheet",
        summary="Printable QR codes of a route's points (HTML)",
        guards=[PLANNERS],
    )
    async def qr_sheet(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        route_id: FromPath[UUID],
    ) -> Response[str]:
        """One QR code per point, in walking order, to print and stick up."""
        page = await rounds.qr_sheet(conn, viewer=user, route_id=route_id)
        return Response(
            page, media_type="text/html", headers={"Cache-Control": "no-store", CSP: rounds.QR_SHEET_POLICY}
        )

    @post(
        "/round-routes/{route_id:uuid}/schedules",
        status_code=201,
        summary="Schedule a route",
        guards=[PLANNERS],
    )
    async def create_schedule(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        route_id: FromPath[UUID],
        data: ScheduleCreate,
    ) -> Response[RoundSchedule]:
        """everyHours with windowStart/windowEnd ("20:00"–"06:00"), or fixedTimes ["09:00", "15:00"]."""
        return await idempotent(
            request,
            conn,
            lambda: rounds.create_schedule(conn, actor=user, route_id=route_id, data=data, now=clock.now()),
            status=201,
        )

    @get("/round-schedules", summary="Schedules of your sites", guards=[PLANNERS])
    async def list_schedules(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> list[RoundSchedule]:
        """Next slot first."""
        return await rounds.list_schedules(conn, viewer=user, site=site)

    @get("/rounds", summary="Rounds of the last and next twelve hours", guards=[WALKERS])
    async def list_rounds(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
        status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> RoundPage:
        """Soonest slot first, each with its points and scans."""
        return await rounds.list_rounds(
            conn, viewer=user, site=site, now=clock.now(), status=status, limit=limit, offset=offset
        )

    @post(
        "/rounds",
        status_code=201,
        summary="Start an unscheduled round of a route (id made on the phone)",
        guards=[WALKERS],
    )
    async def start_walk(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        data: RoundStart,
    ) -> Response[Round]:
        """Body: id (a UUID the phone made), routeId, clientAt."""
        return await idempotent(
            request, conn, lambda: rounds.start_walk(conn, actor=user, data=data, now=clock.now()), status=201
        )

    @get("/rounds/report", summary="The rounds of a shift: done, late, missed, abnormal", guards=[PLANNERS])
    async def report(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        day: date,
        shift: Annotated[str, Parameter(description="day (08–20) or night (20–08)")] = "night",
        site: Annotated[str | None, Parameter(description="site code or id")] = None,
    ) -> RoundReport:
        """For supervisors and managers."""
        try:
            check_client_day(day, "day")
        except ValueError as e:
            raise ValidationFailed(str(e), field="day") from None
        return await rounds.round_report(conn, viewer=user, site=site, day=day, shift=shift)

    @get("/rounds/{round_id:uuid}", summary="A round with its points and scans", guards=[WALKERS])
    async def get_round(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        round_id: FromPath[UUID],
    ) -> Round:
        """For staff of its site."""
        return await rounds.get_round(conn, viewer=user, round_id=round_id)

    @post(
        "/rounds/{round_id:uuid}/start", status_code=200, summary="Start a scheduled round", guards=[WALKERS]
    )
    async def start_round(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        round_id: FromPath[UUID],
        data: Annotated[RoundStart | None, Body()] = None,
    ) -> Response[Round]:
        """Optional clientAt: when it was started on the phone."""
        client_at = data.client_at if data is not None else None
        return await idempotent(
            request,
            conn,
            lambda: rounds.start_round(
                conn, actor=user, round_id=round_id, client_at=client_at, now=clock.now()
            ),
        )

    @post(
        "/rounds/{round_id:uuid}/scans",
        status_code=201,
        summary="Record a scanned point (multipart)",
        guards=[WALKERS],
        operation_class=ScanUpload,
    )
    async def scan(
        self,
        request: Request[CurrentUser, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        storage: Storage,
        round_id: FromPath[UUID],
    ) -> Response[Round]:
        """Fields qr (the decoded code), result normal|abnormal, note, clientAt; optional photo as `file`.
        Out of order, too fast or late is flagged, not refused."""
        form = await _scan_form(request)
        photo = await _file_bytes(form.get("file"))
        fields = _fields(form, ScanForm)
        return await idempotent(
            request,
            conn,
            lambda: rounds.record_scan(
                conn, storage, actor=user, round_id=round_id, form=fields, photo=photo, now=clock.now()
            ),
            status=201,
        )

    @get("/round-scans/{scan_id:uuid}/photo", summary="A scan's photo")
    async def scan_photo(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
        scan_id: FromPath[UUID],
        thumb: bool = False,
    ) -> Response[bytes]:
        """The cleaned original, or with ?thumb=true the 320 px WebP thumbnail."""
        data, media_type, sha = await rounds.scan_photo(
            conn, storage, viewer=user, scan_id=scan_id, thumbnail=thumb
        )
        return Response(
            data, media_type=media_type, headers={"Cache-Control": BLOB_CACHE_CONTROL, "ETag": f'"{sha}"'}
        )
