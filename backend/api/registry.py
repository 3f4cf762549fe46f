"""Registry endpoints: sites, buildings, units and residents, assets, devices, staff.

Every member of staff reads the registry of their own sites; only admins change it (users list: the desk).
Lists answer {items, total, limit, offset}.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.personal_data import read_by
from backend.api.security import requires_role
from backend.domain.client_input import Attributes
from backend.domain.models import CurrentUser, Model
from backend.domain.personal_data import ResidentView, UnitLookupView, UnitView
from backend.domain.registry import (
    Asset,
    AssetKind,
    Building,
    Device,
    DeviceKind,
    Resident,
    ResidentRelation,
    Site,
    StaffMember,
    Unit,
    UnitWithResidents,
)
from backend.domain.roles import DESK_ROLES, OVERSIGHT_ROLES, Role
from backend.domain.site_settings import SiteSettings
from backend.errors import Conflict, Forbidden
from backend.services import personal_data
from backend.services import registry as svc
from backend.services import users as users_svc

ADMIN_ONLY = [requires_role(Role.ADMIN)]

Search = Annotated[str | None, Parameter(max_length=100, description="case-insensitive search")]
SiteRef = Annotated[str | None, Parameter(max_length=64, description="site id or code")]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^[0-9+\- ()]+$")]
Floors = Annotated[int, msgspec.Meta(ge=1, le=200)]
Floor = Annotated[int, msgspec.Meta(ge=-10, le=200)]
Area = Annotated[float, msgspec.Meta(ge=0, le=99_999)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Skill = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


class Removed(Model):
    """What a DELETE removed."""

    id: str
    removed: bool = True


def _changes(patch_body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, by (snake_case) column name."""
    return {
        name: value
        for name in patch_body.__struct_fields__
        if (value := getattr(patch_body, name)) is not UNSET
    }


# --- sites ----------------------------------------------------------------------------------------


class SiteCreate(Model):
    """A new estate."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    name: Name
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


class SiteUpdate(Model):
    """Changes to an estate."""

    name: Name | Unset = UNSET
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | Unset = UNSET
    # replaces the stored settings; a key left out takes the company default
    settings: SiteSettings | Unset = UNSET


class SiteController(Controller):
    """Estates."""

    path = "/api/v1/sites"
    tags = ("registry",)

    @get("/", summary="The caller's sites")
    async def list_sites(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Site]:
        """Sites the caller belongs to (admins: all)."""
        items, total = await svc.list_sites(conn, user, q_text=q, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{site_id:uuid}", summary="One site")
    async def get_site(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site_id: FromPath[UUID],
    ) -> Site:
        """A site of the caller's."""
        return await svc.resolve_site(conn, user, str(site_id))

    @post("/", guards=ADMIN_ONLY, summary="Create a site")
    async def create_site(
        self, request: Request, conn: NamedDependency[asyncpg.Connection], data: Annotated[SiteCreate, Body()]
    ) -> Response[Site]:
        """A new estate (admins)."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_site(conn, code=data.code, name=data.name, timezone=data.timezone),
            status=201,
        )

    @patch("/{site_id:uuid}", guards=ADMIN_ONLY, summary="Change a site")
    async def update_site(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site_id: FromPath[UUID],
        data: Annotated[SiteUpdate, Body()],
    ) -> Response[Site]:
        """Rename a site, change its time zone or settings (admins)."""
        return await idempotent(request, conn, lambda: svc.update_site(conn, user, site_id, _changes(data)))


# --- buildings ------------------------------------------------------------------------------------


class BuildingCreate(Model):
    """A new building."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    floors: Floors = 1


class BuildingUpdate(Model):
    """Changes to a building."""

    code: Code | Unset = UNSET
    name: Name | Unset = UNSET
    floors: Floors | Unset = UNSET


class BuildingController(Controller):
    """Buildings of the caller's sites."""

    path = "/api/v1/buildings"
    tags = ("registry",)

    @get("/", summary="Buildings")
    async def list_buildings(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Building]:
        """Buildings of the caller's sites, filtered by site."""
        items, total = await svc.list_buildings(conn, user, site=site, q_text=q, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{building_id:uuid}", summary="One building")
    async def get_building(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
    ) -> Building:
        """A building of the caller's sites."""
        return await svc.get_building(conn, user, building_id)

    @post("/", guards=ADMIN_ONLY, summary="Create a building")
    async def create_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[BuildingCreate, Body()],
    ) -> Response[Building]:
        """A new building (admins); `siteId` takes the site's id or code."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_building(
                conn, user, site=data.site_id, code=data.code, name=data.name, floors=data.floors
            ),
            status=201,
        )

    @patch("/{building_id:uuid}", guards=ADMIN_ONLY, summary="Change a building")
    async def update_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
        data: Annotated[BuildingUpdate, Body()],
    ) -> Response[Building]:
        """Change a building's code, name or floors (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_building(conn, user, building_id, _changes(data))
        )

    @delete("/{building_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an empty building")
    async def delete_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete a building with no units or assets (409 otherwise)."""

        async def remove() -> Removed:
            await svc.delete_building(conn, user, building_id)
            return Removed(id=str(building_id))

        return await idempotent(request, conn, remove)


# --- units and residents --------------------------------------------------------------------------


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
        return await idempotent(request, conn, lambda: svc.update_unit(conn, user, unit_id, _changes(data)))

    @delete("/{unit_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an unused unit")
    async def delete_unit(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        unit_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete a unit with no residents and no work orders (409 otherwise)."""

        async def remove() -> Removed:
            await svc.delete_unit(conn, user, unit_id)
            return Removed(id=str(unit_id))

        return await idempotent(request, conn, remove)

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
            request, conn, lambda: svc.update_resident(conn, user, resident_id, _changes(data))
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

        async def remove() -> Removed:
            await svc.remove_resident(conn, user, resident_id)
            return Removed(id=str(resident_id))

        return await idempotent(request, conn, remove)


# --- assets ---------------------------------------------------------------------------------------


class AssetCreate(Model):
    """A new facility."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    kind: AssetKind
    building_id: UUID | None = None
    location: Text = ""
    parameters: Attributes = msgspec.field(default_factory=dict)
    maintenance_days: Days | None = None
    installed_on: dt.date | None = None


class AssetUpdate(Model):
    """Changes to a facility."""

    code: Code | Unset = UNSET
    name: Name | Unset = UNSET
    kind: AssetKind | Unset = UNSET
    building_id: UUID | Unset | None = UNSET
    location: Text | Unset = UNSET
    parameters: Attributes | Unset = UNSET
    maintenance_days: Days | Unset | None = UNSET
    installed_on: dt.date | Unset | None = UNSET


class AssetController(Controller):
    """Facilities (设施设备) of the caller's sites."""

    path = "/api/v1/assets"
    tags = ("registry",)

    @get("/", summary="Assets")
    async def list_assets(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        building: Annotated[UUID | None, Parameter(description="building id")] = None,
        kind: AssetKind | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Asset]:
        """Assets, filtered by site, building and kind."""
        items, total = await svc.list_assets(
            conn, user, site=site, building_id=building, kind=kind, q_text=q, limit=limit, offset=offset
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{asset_id:uuid}", summary="One asset")
    async def get_asset(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
    ) -> Asset:
        """An asset of the caller's sites."""
        return await svc.get_asset(conn, user, asset_id)

    @post("/", guards=ADMIN_ONLY, summary="Create an asset")
    async def create_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[AssetCreate, Body()],
    ) -> Response[Asset]:
        """A new asset (admins); `siteId` takes the site's id or code."""
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "site_id"}
        return await idempotent(
            request, conn, lambda: svc.create_asset(conn, user, site=data.site_id, fields=fields), status=201
        )

    @patch("/{asset_id:uuid}", guards=ADMIN_ONLY, summary="Change an asset")
    async def update_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
        data: Annotated[AssetUpdate, Body()],
    ) -> Response[Asset]:
        """Change an asset (admins)."""
        return await idempotent(request, conn, lambda: svc.update_asset(conn, user, asset_id, _changes(data)))

    @delete("/{asset_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an unused asset")
    async def delete_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete an asset no device, work order or plan refers to (409 otherwise)."""

        async def remove() -> Removed:
            await svc.delete_asset(conn, user, asset_id)
            return Removed(id=str(asset_id))

        return await idempotent(request, conn, remove)


# --- devices --------------------------------------------------------------------------------------

DeviceId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DeviceCreate(Model):
    """A new device, under its MQTT identity."""

    id: DeviceId
    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    kind: DeviceKind
    name: Name
    asset_id: UUID | None = None


class DeviceUpdate(Model):
    """Changes to a device."""

    name: Name | Unset = UNSET
    kind: DeviceKind | Unset = UNSET
    asset_id: UUID | Unset | None = UNSET
    active: bool | Unset = UNSET


class DeviceController(Controller):
    """Sensors of the caller's sites."""

    path = "/api/v1/devices"
    tags = ("registry",)

    @get("/", summary="Devices")
    async def list_devices(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        asset: Annotated[UUID | None, Parameter(description="asset id")] = None,
        kind: DeviceKind | None = None,
        active: bool | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Device]:
        """Devices, filtered by site, asset, kind and whether active."""
        items, total = await svc.list_devices(
            conn,
            user,
            site=site,
            asset_id=asset,
            kind=kind,
            active=active,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{device_id:str}", summary="One device")
    async def get_device(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
    ) -> Device:
        """A device of the caller's sites."""
        return await svc.get_device(conn, user, device_id)

    @post("/", guards=ADMIN_ONLY, summary="Register a device")
    async def create_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[DeviceCreate, Body()],
    ) -> Response[Device]:
        """A new device (admins); `siteId` takes the site's id or code."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_device(
                conn,
                user,
                device_id=data.id,
                site=data.site_id,
                asset_id=data.asset_id,
                kind=data.kind,
                name=data.name,
            ),
            status=201,
        )

    @patch("/{device_id:str}", guards=ADMIN_ONLY, summary="Change a device")
    async def update_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
        data: Annotated[DeviceUpdate, Body()],
    ) -> Response[Device]:
        """Rename, re-link or (de)activate a device (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_device(conn, user, device_id, _changes(data))
        )

    @delete("/{device_id:str}", guards=ADMIN_ONLY, status_code=200, summary="Deactivate a device")
    async def deactivate_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
    ) -> Response[Device]:
        """Devices are never deleted (their history stays); this switches one off."""
        return await idempotent(request, conn, lambda: svc.deactivate_device(conn, user, device_id))


# --- users ----------------------------------------------------------------------------------------


class UserCreate(Model):
    """A new account; `sites` are site codes."""

    username: Annotated[str, msgspec.Meta(min_length=2, max_length=64)]
    display_name: Name
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    role: Role
    sites: Annotated[list[Code], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    on_duty: bool = False
    phone: Phone | None = None


class UserUpdate(Model):
    """Changes to an account."""

    display_name: Name | Unset = UNSET
    role: Role | Unset = UNSET
    phone: Phone | Unset | None = UNSET
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] | Unset = UNSET
    on_duty: bool | Unset = UNSET
    active: bool | Unset = UNSET
    locale: Annotated[str, msgspec.Meta(max_length=5, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | Unset = UNSET
    sites: Annotated[list[Code], msgspec.Meta(max_length=100)] | Unset = UNSET
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | Unset = UNSET


class DutyChange(Model):
    """Going on or off duty."""

    on_duty: bool


class UserController(Controller):
    """Staff accounts: the desk lists colleagues for dispatch; admins manage accounts."""

    path = "/api/v1/users"
    tags = ("registry",)

    @get(
        "/",
        guards=[requires_role(*DESK_ROLES)],
        summary="Colleagues (dispatch: on-duty technicians by skill)",
    )
    async def list_users(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        role: Annotated[str | None, Parameter(max_length=16)] = None,
        skill: Annotated[str | None, Parameter(max_length=32)] = None,
        on_duty: Annotated[bool | None, Parameter(query="onDuty")] = None,
        active: bool | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[StaffMember]:
        """Users of the caller's sites, e.g. `?role=technician&onDuty=true&skill=water`."""
        site_id = (await svc.resolve_site(conn, user, site)).id if site else None
        items, total = await users_svc.list_users(
            conn,
            user,
            site_id=site_id,
            role=role,
            skill=skill,
            on_duty=on_duty,
            active=active,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{user_id:uuid}", guards=[requires_role(*DESK_ROLES)], summary="One colleague")
    async def get_user(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[UUID],
    ) -> StaffMember:
        """A user of the caller's sites."""
        return await users_svc.get_user(conn, user, user_id)

    @post("/", guards=ADMIN_ONLY, summary="Create an account")
    async def create_user(
        self, request: Request, conn: NamedDependency[asyncpg.Connection], data: Annotated[UserCreate, Body()]
    ) -> Response[StaffMember]:
        """A new account (admins); the demo password is refused."""
        return await idempotent(
            request,
            conn,
            lambda: users_svc.create_user(
                conn,
                username=data.username,
                display_name=data.display_name,
                password=data.password,
                role=data.role,
                site_codes=data.sites,
                skills=data.skills,
                on_duty=data.on_duty,
                phone=data.phone,
            ),
            status=201,
        )

    @patch("/{user_id:uuid}", guards=ADMIN_ONLY, summary="Change an account")
    async def update_user(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[UUID],
        data: Annotated[UserUpdate, Body()],
    ) -> Response[StaffMember]:
        """Change names, role, skills, duty, sites, password or active (admins)."""
        changes = _changes(data)
        site_codes = changes.pop("sites", None)
        if user_id == user.id and (
            changes.get("active") is False or changes.get("role", Role.ADMIN) != Role.ADMIN
        ):
            raise Conflict("admins cannot lock themselves out", code="self_lockout")
        return await idempotent(
            request, conn, lambda: users_svc.update_user(conn, user_id, changes, site_codes=site_codes)
        )

    @delete("/{user_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Deactivate an account")
    async def deactivate_user(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[UUID],
    ) -> Response[StaffMember]:
        """Accounts are never deleted (the audit trail names them); this switches one off, tokens too."""
        if user_id == user.id:
            raise Conflict("admins cannot lock themselves out", code="self_lockout")
        return await idempotent(request, conn, lambda: users_svc.deactivate(conn, user_id))

    @post("/{user_id:uuid}/duty", status_code=200, summary="Go on or off duty")
    async def set_duty(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        user_id: FromPath[UUID],
        data: Annotated[DutyChange, Body()],
    ) -> Response[StaffMember]:
        """Anyone for themselves; supervisors and up for colleagues of their sites."""
        if user_id != user.id and user.role not in OVERSIGHT_ROLES:
            raise Forbidden("only supervisors and up put colleagues on or off duty", code="role_forbidden")

        async def change() -> StaffMember:
            await users_svc.get_user(conn, user, user_id)
            return await users_svc.set_on_duty(conn, user_id, data.on_duty)

        return await idempotent(request, conn, change)


REGISTRY_CONTROLLERS = [
    SiteController,
    BuildingController,
    UnitController,
    ResidentController,
    AssetController,
    DeviceController,
    UserController,
]
