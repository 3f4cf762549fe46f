"""Residents' personal data beyond a single home: the vulnerable residents to check on first, and the log of
who was shown residents' data in full (for supervisors and up). The rules are in docs/PRIVACY.md."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, TypedDict
from uuid import UUID

from litestar import Controller, Request, get
from litestar.params import Parameter

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, SiteRef
from backend.api.security import requires_role
from backend.domain.client_input import ClientTime, plain_datetime
from backend.domain.models import Model
from backend.domain.personal_data import PersonalDataRead, VulnerableResident
from backend.domain.roles import OVERSIGHT_ROLES
from backend.services import personal_data


class ReadBy(TypedDict):
    """What the read log records of a request, as the services take it (`**read_by(request)`)."""

    endpoint: str
    now: datetime


def read_by(request: Request[Any, Any, Any]) -> ReadBy:
    """The request's method and path (never the query: it may hold a phone), and the app's clock (from
    state: Clock is a plain Protocol, which Litestar's signature model cannot check)."""
    return ReadBy(endpoint=f"{request.method} {request.url.path}", now=request.app.state.clock.now())


class VulnerableResidents(Model):
    """One page of vulnerable residents."""

    items: list[VulnerableResident]
    total: int
    limit: int
    offset: int


class PersonalDataReads(Model):
    """One page of the read log."""

    items: list[PersonalDataRead]
    total: int
    limit: int
    offset: int


class PersonalDataController(Controller):
    """GET /residents/vulnerable and GET /personal-data/reads."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["registry"]

    @get("/residents/vulnerable", summary="Vulnerable residents to check on first")
    async def vulnerable(
        self,
        call: Call,
        site: SiteRef = None,
        building: Annotated[UUID | None, Parameter(description="building id")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> VulnerableResidents:
        """Supervisors and up: always. Everyone else: only those in buildings in an emergency now (an open
        emergency work order or an active critical alarm); outside one the list is empty."""
        items, total = await personal_data.vulnerable_residents(
            call.conn,
            call.user,
            site=site,
            building_id=building,
            limit=limit,
            offset=offset,
            **read_by(call.request),
        )
        return VulnerableResidents(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/personal-data/reads",
        guards=[requires_role(*OVERSIGHT_ROLES)],
        summary="Who was shown residents' personal data in full",
    )
    async def reads(
        self,
        call: Call,
        site: SiteRef = None,
        reader: Annotated[UUID | None, Parameter(description="the reader's user id")] = None,
        unit: Annotated[UUID | None, Parameter(description="unit id")] = None,
        since: Annotated[ClientTime | None, Parameter(description="from this time (ISO 8601)")] = None,
        until: Annotated[ClientTime | None, Parameter(description="before this time (ISO 8601)")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PersonalDataReads:
        """The append-only read log of the caller's sites, newest first: who, when, which resident, which
        fields, why (oversight, desk, assigned_job, emergency) and through which endpoint."""
        items, total = await personal_data.read_log(
            call.conn,
            call.user,
            site=site,
            user_id=reader,
            unit_id=unit,
            since=plain_datetime(since),
            until=plain_datetime(until),
            limit=limit,
            offset=offset,
        )
        return PersonalDataReads(items=items, total=total, limit=limit, offset=offset)
