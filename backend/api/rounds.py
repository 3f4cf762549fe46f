"""Rounds endpoints: check points, routes and their QR sheet, schedules, rounds, scans, the shift report.

Every mutation runs under its Idempotency-Key, so a scan queued offline lands once however often the phone
replays it. Who may do what is the service's to say (backend/domain/rounds.py names the roles).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
from backend.api.openapi import ScanUpload
from backend.api.paging import SiteQuery
from backend.api.security import requires_role
from backend.api.security_headers import CSP
from backend.api.uploads import STORAGE, form_with_photo, photo_response
from backend.domain.client_input import check_client_day
from backend.domain.rounds import (
    PLANNER_ROLES,
    WALKER_ROLES,
    CheckPoint,
    CheckPointCreate,
    CheckPointUpdate,
    Round,
    RoundPage,
    RoundReport,
    RoundSchedule,
    RoundStart,
    Route,
    RouteCreate,
    RouteUpdate,
    ScanForm,
    ScheduleCreate,
    ScheduleUpdate,
)
from backend.errors import ValidationFailed
from backend.services import rounds
from backend.services.evidence import Storage

# Who lays out and reads rounds, who walks them: checked before any body is read (the service checks again).
PLANNERS = requires_role(*PLANNER_ROLES)
WALKERS = requires_role(*WALKER_ROLES)


def _qr_page(page: str) -> Response[str]:
    """A printable QR sheet: never cached, under its own content policy."""
    return Response(
        page, media_type="text/html", headers={"Cache-Control": "no-store", CSP: rounds.QR_SHEET_POLICY}
    )


class RoundsController(Controller):
    """Points, routes, schedules and the rounds walked on them."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["rounds"]
    dependencies: ClassVar[dict[str, Provide]] = STORAGE

    @post(
        "/check-points",
        status_code=201,
        summary="Add a check point (its QR token is made here)",
        guards=[PLANNERS],
    )
    async def create_check_point(
        self, call: Call, data: Annotated[CheckPointCreate, Body()]
    ) -> Response[CheckPoint]:
        """A point of a site: name, place, optional asset."""
        return await call.once(
            lambda: rounds.create_check_point(call.conn, actor=call.user, data=data), status=201
        )

    @get("/check-points", summary="Check points of your sites, with their QR payloads", guards=[PLANNERS])
    async def list_check_points(self, call: Call, site: SiteQuery = None) -> list[CheckPoint]:
        """For supervisors and up."""
        return await rounds.list_check_points(call.conn, viewer=call.user, site=site)

    @get(
        "/check-points/qr-sheet",
        summary="Printable QR codes of every active check point of a site (HTML)",
        guards=[PLANNERS],
        media_type="text/html",
    )
    async def site_qr_sheet(self, call: Call, site: SiteQuery = None) -> Response[str]:
        """One QR code per point, by name, to print (A4) and stick up."""
        return _qr_page(await rounds.site_qr_sheet(call.conn, viewer=call.user, site=site))

    @patch(
        "/check-points/{point_id:uuid}", summary="Rename, move or switch off a check point", guards=[PLANNERS]
    )
    async def update_check_point(
        self, call: Call, point_id: FromPath[UUID], data: Annotated[CheckPointUpdate, Body()]
    ) -> Response[CheckPoint]:
        """name, place, active: what is given changes; the QR code stays the same."""
        return await call.once(
            lambda: rounds.update_check_point(call.conn, actor=call.user, point_id=point_id, data=data)
        )

    @patch(
        "/round-routes/{route_id:uuid}",
        summary="Rename a route, change its expected minutes or switch it off",
        guards=[PLANNERS],
    )
    async def update_route(
        self, call: Call, route_id: FromPath[UUID], data: Annotated[RouteUpdate, Body()]
    ) -> Response[Route]:
        """name, expectedMinutes, active; another walking order is a new route."""
        return await call.once(
            lambda: rounds.update_route(call.conn, actor=call.user, route_id=route_id, data=data)
        )

    @patch("/round-schedules/{schedule_id:uuid}", summary="Switch a schedule off or on", guards=[PLANNERS])
    async def update_schedule(
        self, call: Call, schedule_id: FromPath[UUID], data: Annotated[ScheduleUpdate, Body()]
    ) -> Response[RoundSchedule]:
        """active: false stops its rounds; true starts again from the next slot."""
        return await call.once(
            lambda: rounds.update_schedule(
                call.conn, actor=call.user, schedule_id=schedule_id, data=data, now=call.now()
            )
        )

    @post(
        "/round-routes",
        status_code=201,
        summary="Add a route: ordered points and the expected minutes",
        guards=[PLANNERS],
    )
    async def create_route(
        self, call: Call, data: Annotated[RouteCreate, Body()], site: SiteQuery = None
    ) -> Response[Route]:
        """The points are walked in the order given."""
        return await call.once(
            lambda: rounds.create_route(call.conn, actor=call.user, site=site, data=data), status=201
        )

    @get("/round-routes", summary="Routes of your sites with their points", guards=[WALKERS])
    async def list_routes(self, call: Call, site: SiteQuery = None) -> list[Route]:
        """For the people who walk them and those who plan them."""
        return await rounds.list_routes(call.conn, viewer=call.user, site=site)

    @get(
        "/round-routes/{route_id:uuid}/qr-sheet",
        summary="Printable QR codes of a route's points (HTML)",
        guards=[PLANNERS],
        media_type="text/html",
    )
    async def qr_sheet(self, call: Call, route_id: FromPath[UUID]) -> Response[str]:
        """One QR code per point, in walking order, to print and stick up."""
        return _qr_page(await rounds.qr_sheet(call.conn, viewer=call.user, route_id=route_id))

    @post(
        "/round-routes/{route_id:uuid}/schedules",
        status_code=201,
        summary="Schedule a route",
        guards=[PLANNERS],
    )
    async def create_schedule(
        self, call: Call, route_id: FromPath[UUID], data: Annotated[ScheduleCreate, Body()]
    ) -> Response[RoundSchedule]:
        """everyHours with windowStart/windowEnd ("20:00"–"06:00"), or fixedTimes ["09:00", "15:00"]."""
        return await call.once(
            lambda: rounds.create_schedule(
                call.conn, actor=call.user, route_id=route_id, data=data, now=call.now()
            ),
            status=201,
        )

    @get("/round-schedules", summary="Schedules of your sites", guards=[PLANNERS])
    async def list_schedules(self, call: Call, site: SiteQuery = None) -> list[RoundSchedule]:
        """Next slot first."""
        return await rounds.list_schedules(call.conn, viewer=call.user, site=site)

    @get("/rounds", summary="Rounds of the last and next twelve hours", guards=[WALKERS])
    async def list_rounds(
        self,
        call: Call,
        site: SiteQuery = None,
        status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        offset: Annotated[int, Parameter(ge=0, le=10_000_000)] = 0,
    ) -> RoundPage:
        """Soonest slot first, each with its points and scans."""
        return await rounds.list_rounds(
            call.conn, viewer=call.user, site=site, now=call.now(), status=status, limit=limit, offset=offset
        )

    @post(
        "/rounds",
        status_code=201,
        summary="Start an unscheduled round of a route (id made on the phone)",
        guards=[WALKERS],
    )
    async def start_walk(self, call: Call, data: Annotated[RoundStart, Body()]) -> Response[Round]:
        """Body: id (a UUID the phone made), routeId, clientAt."""
        return await call.once(
            lambda: rounds.start_walk(call.conn, actor=call.user, data=data, now=call.now()), status=201
        )

    @get("/rounds/report", summary="The rounds of a shift: done, late, missed, abnormal", guards=[PLANNERS])
    async def report(
        self,
        call: Call,
        day: date,
        shift: Annotated[str, Parameter(description="day (08–20) or night (20–08)")] = "night",
        site: SiteQuery = None,
    ) -> RoundReport:
        """For supervisors and managers."""
        try:
            check_client_day(day, "day")
        except ValueError as e:
            raise ValidationFailed(str(e), field="day") from None
        return await rounds.round_report(call.conn, viewer=call.user, site=site, day=day, shift=shift)

    @get("/rounds/{round_id:uuid}", summary="A round with its points and scans", guards=[WALKERS])
    async def get_round(self, call: Call, round_id: FromPath[UUID]) -> Round:
        """For staff of its site."""
        return await rounds.get_round(call.conn, viewer=call.user, round_id=round_id)

    @post(
        "/rounds/{round_id:uuid}/start", status_code=200, summary="Start a scheduled round", guards=[WALKERS]
    )
    async def start_round(
        self, call: Call, round_id: FromPath[UUID], data: Annotated[RoundStart | None, Body()] = None
    ) -> Response[Round]:
        """Optional clientAt: when it was started on the phone."""
        client_at = data.client_at if data is not None else None
        return await call.once(
            lambda: rounds.start_round(
                call.conn, actor=call.user, round_id=round_id, client_at=client_at, now=call.now()
            )
        )

    @post(
        "/rounds/{round_id:uuid}/scans",
        status_code=201,
        summary="Record a scanned point (multipart)",
        guards=[WALKERS],
        operation_class=ScanUpload,
    )
    async def scan(
        self, call: Call, storage: NamedDependency[Storage], round_id: FromPath[UUID]
    ) -> Response[Round]:
        """Fields qr (the decoded code), result normal|abnormal, note, clientAt; optional photo as `file`.
        Out of order, too fast or late is flagged, not refused."""
        fields, photo = await form_with_photo(call.request, "scan", ScanForm)
        return await call.once(
            lambda: rounds.record_scan(
                call.conn,
                storage,
                actor=call.user,
                round_id=round_id,
                form=fields,
                photo=photo,
                now=call.now(),
            ),
            status=201,
        )

    @get("/round-scans/{scan_id:uuid}/photo", summary="A scan's photo")
    async def scan_photo(
        self, call: Call, storage: NamedDependency[Storage], scan_id: FromPath[UUID], thumb: bool = False
    ) -> Response[bytes]:
        """The cleaned original, or with ?thumb=true the 320 px WebP thumbnail."""
        return photo_response(
            *await rounds.scan_photo(call.conn, storage, viewer=call.user, scan_id=scan_id, thumbnail=thumb)
        )
