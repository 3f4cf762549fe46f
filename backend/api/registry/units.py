"""Unit and resident endpoints: lookup by address or phone, units with their residents (masked as the caller's
work requires, docs/PRIVACY.md); admins change them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.personal_data import read_by
from backend.api.registry.common import (
    ADMIN_ONLY,
    UNSET,
    Area,
    Code,
    Floor,
    Name,
    Phone,
    Removed,
    Search,
    SiteRef,
    Unset,
    patch_fields,
    removal,
)
from backend.domain.models import CurrentUser, Model
from backend.domain.personal_data import ResidentView, UnitLookupView, UnitView
from backend.domain.registry import (
    Resident,
    ResidentRelation,
    Unit,
    UnitWithResidents,
)
from backend.services import personal_data
from backend.services import registry as svc


class UnitCreate(Model):
    """A new unit."""

    building_id: FromPath[UUID]
    number: Code
    floor: Floor | None = None
    area_m2: Area | None = None


class UnitUpdate(Model):
    """Changes to a unit."""

    number: Code | Unset = UNSET
    floor: Floor | Unset | None = UNSET
    area_m2: Area | Unset | None = UNSET


class ResidentCreate(Model):
    """Someone who lives in the unit."""

    name: Name
    phone: Phone | None = None
    relation: ResidentRelation = "owner"
    vulnerable: bool = False


class ResidentUpdate(Model):
    """Changes to a resident."""

    name: Name | Unset = UNSET
    phone: Phone | Unset | None = UNSET
    relation: ResidentRelation | Unset = UNSET
    vulnerable: bool | Unset = UNSET


class UnitController(Controller):
    """Homes of the caller's sites and the people living in them."""

    path = "/api/v1/units"
    tags = ("registry",)

    @get("/", summary="Units")
    async def list_units(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        building: Annotated[str | None, Parameter(max_length=64, description="building id or code")] = None,
        floor: Annotated[int | None, Parameter(ge=-10, le=200)] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Unit]:
        """Units; `q` matches the number and residents' names and phones."""
        items, total = await svc.list_units(
            conn, user, site=site, building=building, floor=floor, q_text=q, limit=limit, offset=offset
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/lookup", summary="Find a caller's unit by an address as said, building and number, or phone")
    async def lookup(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        building: Annotated[
            str | None, Parameter(max_length=64, description="building id, code or name")
        ] = None,
        number: Annotated[str | None, Parameter(max_length=32)] = None,
        phone: Annotated[str | None, Parameter(max_length=32)] = None,
        address: Annotated[
            str | None, Parameter(max_length=64, description="as said: 3栋1单元1201, 三栋一二零一, 3-1-1201")
        ] = None,
    ) -> UnitLookupView:
        """`?site=demo&address=3栋1单元1201`, `?site=demo&building=A&number=101`, or for the desk
        `?site=demo&phone=13900000001` (the number, or at least its last 7 digits), each home with its
        residents as the caller may see them; an address that names no home answers its near misses."""
        endpoint, now = read_by(request)
        return await personal_data.lookup(
            conn,
            user,
            site=site,
            building=building,
            number=number,
            phone=phone,
            address=address,
            endpoint=endpoint,
            now=now,
        )

    @get("/{unit_id:uuid}", summary="One unit with its residents")
    async def get_unit(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
    ) -> UnitView:
        """A unit of the caller's sites with its residents; names and phones masked unless the caller's work
        needs them (docs/PRIVACY.md), and every full showing logged."""
        endpoint, now = read_by(request)
        return await personal_data.unit(conn, user, unit_id, endpoint=endpoint, now=now)

    @get("/{unit_id:uuid}/residents", summary="Residents of a unit")
    async def residents(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ResidentView]:
        """The people living in the unit, owners first, as the caller may see them."""
        endpoint, now = read_by(request)
        unit = await personal_data.unit(conn, user, unit_id, endpoint=endpoint, now=now)
        return page_of(unit.residents, limit, offset)

    @post("/", guards=ADMIN_ONLY, summary="Create a unit")
    async def create_unit(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[UnitCreate, Body()],
    ) -> Response[UnitWithResidents]:
        """A new unit in a building (admins)."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_unit(
                conn,
                user,
                building_id=data.building_id,
                number=data.number,
                floor=data.floor,
                area_m2=data.area_m2,
            ),
            status=201,
        )

    @patch("/{unit_id:uuid}", guards=ADMIN_ONLY, summary="Change a unit")
    async def update_unit(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
        data: Annotated[UnitUpdate, Body()],
    ) -> Response[UnitWithResidents]:
        """Change a unit's number, floor or area (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_unit(conn, user, unit_id, patch_fields(data))
        )

    @delete("/{unit_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an unused unit")
    async def delete_unit(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete a unit with no residents and no work orders (409 otherwise)."""
        return await removal(request, conn, lambda: svc.delete_unit(conn, user, unit_id), unit_id)

    @post("/{unit_id:uuid}/residents", guards=ADMIN_ONLY, summary="Add a resident")
    async def add_resident(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
        data: Annotated[ResidentCreate, Body()],
    ) -> Response[Resident]:
        """Record an owner, tenant or family member of the unit (admins)."""
        return await idempotent(
            request,
            conn,
            lambda: svc.add_resident(
                conn,
                user,
                unit_id,
                name=data.name,
                phone=data.phone,
                relation=data.relation,
                vulnerable=data.vulnerable,
            ),
            status=201,
        )


class ResidentController(Controller):
    """One resident at a time."""

    path = "/api/v1/residents"
    tags = ("registry",)

    @get("/{resident_id:uuid}", summary="One resident")
    async def get_resident(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        resident_id: FromPath[UUID],
    ) -> ResidentView:
        """A resident of the caller's sites as the caller may see them."""
        endpoint, now = read_by(request)
        return await personal_data.resident(conn, user, resident_id, endpoint=endpoint, now=now)

    @patch("/{resident_id:uuid}", guards=ADMIN_ONLY, summary="Change a resident")
    async def update_resident(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        resident_id: FromPath[UUID],
        data: Annotated[ResidentUpdate, Body()],
    ) -> Response[Resident]:
        """Change a resident's name, phone, relation or vulnerable flag (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_resident(conn, user, resident_id, patch_fields(data))
        )

    @delete(
        "/{resident_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Remove a resident who moved out"
    )
    async def remove_resident(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        resident_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Remove a resident (admins)."""
        return await removal(request, conn, lambda: svc.remove_resident(conn, user, resident_id), resident_id)
