"""Planned water and power cuts (GET|POST /planned-outages, POST /planned-outages/{id}/restore) and the
guard's list of vulnerable residents to visit in an outage (GET|POST /outage-visits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, SiteQuery
from backend.api.security import requires_role
from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.roles import OVERSIGHT_ROLES
from backend.services import outages


class PlannedOutageCreate(ClientBody, frozen=True):
    building_id: UUID
    kind: Literal["water", "power"]
    starts_at: ClientTime
    ends_at: ClientTime
    note: Annotated[str, msgspec.Meta(max_length=200)] = ""
    client_at: ClientTime | None = None


class VisitMark(ClientBody, frozen=True):
    source: Literal["alarm", "planned"]
    outage_id: UUID
    resident_id: UUID
    client_at: ClientTime | None = None


class OutageController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["owners"]

    @get(
        "/planned-outages",
        guards=[requires_role(*OVERSIGHT_ROLES)],
        summary="Planned water and power cuts, open ones first",
    )
    async def list_planned(
        self, call: Call, site: SiteQuery = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        return await outages.list_planned(call.conn, call.user, site, limit, offset)

    @post(
        "/planned-outages",
        guards=[requires_role(*OVERSIGHT_ROLES)],
        status_code=201,
        summary="Announce a planned cut to a building's residents",
    )
    async def announce(self, call: Call, data: Annotated[PlannedOutageCreate, Body()]) -> Response[Any]:
        """Every resident of the building is told once by SMS (quiet hours and opt-out apply)."""
        starts_at: datetime = data.starts_at  # plain datetimes once decoded
        ends_at: datetime = data.ends_at

        async def run() -> dict[str, Any]:
            return await outages.announce(
                call.conn,
                call.user,
                building_id=data.building_id,
                kind=data.kind,
                starts_at=starts_at,
                ends_at=ends_at,
                note=data.note,
                now=call.now(),
            )

        return await call.once(run, status=201)

    @post(
        "/planned-outages/{outage_id:uuid}/restore",
        guards=[requires_role(*OVERSIGHT_ROLES)],
        summary="The cut is over: tell the residents once",
    )
    async def restore(self, call: Call, outage_id: FromPath[UUID]) -> Response[Any]:
        return await call.once(lambda: outages.restore(call.conn, call.user, outage_id, call.now()))

    @get(
        "/outage-visits",
        guards=[requires_role(*outages.VISITOR_ROLES)],
        summary="Vulnerable residents to visit in each water or power outage now",
    )
    async def visits(self, call: Call, site: SiteQuery = None) -> dict[str, Any]:
        """Unit, family name and need; never a phone number."""
        return await outages.visit_list(call.conn, call.user, site, call.now())

    @post(
        "/outage-visits",
        guards=[requires_role(*outages.VISITOR_ROLES)],
        status_code=200,
        summary="Mark a vulnerable resident visited",
    )
    async def visit(self, call: Call, data: Annotated[VisitMark, Body()]) -> Response[Any]:
        return await call.once(
            lambda: outages.mark_visited(
                call.conn,
                call.user,
                source=data.source,
                outage_id=data.outage_id,
                resident_id=data.resident_id,
                now=call.now(),
            )
        )
