"""Unit and resident endpoints: lookup by address or phone, units with their residents (masked as the caller's
work requires, docs/PRIVACY.md); admins change them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import Call
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
    Search,
    SiteRef,
    Unset,
    changes_to,
    patch_fields,
)
from backend.domain.models import Model
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
    """A new unit (its fields are svc.create_unit's)."""

    building_id: FromPath[UUID]
    number: Code
    floor: Floor | None = None
    area_m2: Area | None = None


class ResidentCreate(Model):
    """Someone who lives in the unit (the fields are svc.add_resident's)."""

    name: Name
    phone: Phone | None = None
    relation: ResidentRelation = "owner"
    vulnerable: bool = False


UnitUpdate = changes_to(UnitCreate, "UnitUpdate", leave_out=("building_id",))


class ResidentUpdate(Model):
    """Changes to a resident."""

    name: Name | Unset = UNSET
    phone: Phone | Unset | None = UNSET
    relation: ResidentRelation | Unset = UNSET
    vulnerable: bool | Unset = UNSET
    # what a vulnerable resident needs in a water or power cut (shown to the guard who visits)
    vulnerable_need: Annotated[str, msgspec.Meta(max_length=100)] | Unset | None = UNSET


class UnitController(Controller):
    """Homes of the caller's sites and the people living in them."""

    path = "/api/v1/units"
    tags = ("registry",)

    @get("/", summary="Units")
    async def list_units(
        self,
        call: Call,
        site: SiteRef = None,
        building: Annotated[str | None, Parameter(max_length=64, description="building id or code")] = None,
        floor: Annotated[int | None, Parameter(ge=-10, le=200)] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Unit]:
        """Units; `q` matches the number and residents' names and phones."""
        items, total = await svc.list_units(
            call.conn,
            call.user,
            site=site,
            building=building,
            floor=floor,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/lookup", summary="Find a caller's unit by an address as said, building and number, or phone")
    async def lookup(
        self,
        call: Call,
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
        return await personal_data.lookup(
            call.conn,
            call.user,
            site=site,
            building=building,
            number=number,
            phone=phone,
            address=address,
            **read_by(call.request),
        )

    @get("/{unit_id:uuid}", summary="One unit with its residents")
    async def get_unit(self, call: Call, unit_id: FromPath[UUID]) -> UnitView:
        """A unit of the caller's sites with its residents; names and phones masked unless the caller's work
        needs them (docs/PRIVACY.md), and every full showing logged."""
        return await personal_data.unit(call.conn, call.user, unit_id, **read_by(call.request))

    @get("/{unit_id:uuid}/residents", summary="Residents of a unit")
    async def residents(
        self, call: Call, unit_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[ResidentView]:
        """The people living in the unit, owners first, as the caller may see them."""
        unit = await personal_data.unit(call.conn, call.user, unit_id, **read_by(call.request))
        return page_of(unit.residents, limit, offset)

    @post("/", guards=ADMIN_ONLY, summary="Create a unit")
    async def create_unit(
        self, call: Call, data: Annotated[UnitCreate, Body()]
    ) -> Response[UnitWithResidents]:
        """A new unit in a building (admins)."""
        return await call.once(
            lambda: svc.create_unit(call.conn, call.user, **msgspec.structs.asdict(data)),
            status=201,
        )

    @patch("/{unit_id:uuid}", guards=ADMIN_ONLY, summary="Change a unit")
    async def update_unit(
        self, call: Call, unit_id: FromPath[UUID], data: Annotated[UnitUpdate, Body()]
    ) -> Response[UnitWithResidents]:
        """Change a unit's number, floor or area (admins)."""
        return await call.once(lambda: svc.update_unit(call.conn, call.user, unit_id, patch_fields(data)))

    @post("/{unit_id:uuid}/residents", guards=ADMIN_ONLY, summary="Add a resident")
    async def add_resident(
        self, call: Call, unit_id: FromPath[UUID], data: Annotated[ResidentCreate, Body()]
    ) -> Response[Resident]:
        """Record an owner, tenant or family member of the unit (admins)."""
        return await call.once(
            lambda: svc.add_resident(call.conn, call.user, unit_id, **msgspec.structs.asdict(data)),
            status=201,
        )


class ResidentController(Controller):
    """One resident at a time."""

    path = "/api/v1/residents"
    tags = ("registry",)

    @get("/{resident_id:uuid}", summary="One resident")
    async def get_resident(self, call: Call, resident_id: FromPath[UUID]) -> ResidentView:
        """A resident of the caller's sites as the caller may see them."""
        return await personal_data.resident(call.conn, call.user, resident_id, **read_by(call.request))
