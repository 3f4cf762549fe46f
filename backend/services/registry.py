"""Registry use cases: what a member of staff may see of their sites, and what an admin may change.

Anything of a site the caller is not a member of answers NotFound, exactly like an id that does not exist,
so ids of other estates cannot be probed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import msgspec

from backend.db.queries import sites as sites_q
from backend.db.queries import unit_lookup as lookup_q
from backend.db.queries.registry import assets as assets_q
from backend.db.queries.registry import buildings as buildings_q
from backend.db.queries.registry import devices as devices_q
from backend.db.queries.registry import sites as registry_sites_q
from backend.db.queries.registry import units as units_q
from backend.domain import personal_data
from backend.domain.models import CurrentUser
from backend.domain.registry import (
    ASSET_KINDS,
    DEVICE_KINDS,
    RESIDENT_RELATIONS,
    Asset,
    Building,
    Device,
    Resident,
    Site,
    Unit,
    UnitWithResidents,
)
from backend.domain.site_settings import settings_to_store
from backend.domain.unit_address import (
    Candidate,
    NearReason,
    UnitAddress,
    building_matches,
    near_misses,
    number_candidates,
    parse_unit_address,
)
from backend.errors import NotFound, ValidationFailed

SITE_CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PHONE_LIKE = re.compile(r"^[0-9+\-() ]+$")


def _scope(viewer: CurrentUser) -> list[UUID] | None:
    """The sites a query is limited to; None for admins, who look after every site."""
    return None if viewer.is_admin else list(viewer.site_ids)


def _require_visible(viewer: CurrentUser, site_id: UUID | None, what: str) -> None:
    if site_id is None or not viewer.may_see_site(site_id):
        raise NotFound(f"no such {what}", code=f"{what}_not_found")


def _check_kind(kind: str, kinds: frozenset[str], field: str) -> None:
    if kind not in kinds:
        raise ValidationFailed(f"{field} must be one of {', '.join(sorted(kinds))}", field=field)


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {timezone!r}", field="timezone") from None


# --- sites ----------------------------------------------------------------------------------------


async def _find_site(conn: asyncpg.Connection, ref: str) -> Site | None:
    found = await sites_q.find_site(conn, ref)
    return await registry_sites_q.get_site(conn, found.id) if found else None


async def resolve_site(conn: asyncpg.Connection, viewer: CurrentUser, ref: str) -> Site:
    """The site named by id or code, if the viewer may see it."""
    site = await _find_site(conn, ref)
    _require_visible(viewer, site.id if site else None, "site")
    assert site is not None
    return site


async def list_sites(
    conn: asyncpg.Connection, viewer: CurrentUser, *, q_text: str | None, limit: int, offset: int
) -> tuple[list[Site], int]:
    """The viewer's sites."""
    return await registry_sites_q.list_sites(
        conn, site_ids=_scope(viewer), q=q_text, limit=limit, offset=offset
    )


async def create_site(conn: asyncpg.Connection, *, code: str, name: str, timezone: str) -> Site:
    """A new estate."""
    if not SITE_CODE_PATTERN.match(code):
        raise ValidationFailed("code must be 1-32 lower-case letters, digits or '-'", field="code")
    _check_timezone(timezone)
    return await registry_sites_q.insert_site(conn, code=code, name=name, timezone=timezone)


async def update_site(
    conn: asyncpg.Connection, viewer: CurrentUser, site_id: UUID, changes: dict[str, Any]
) -> Site:
    """Rename a site, move its time zone or change its settings."""
    _require_visible(viewer, site_id, "site")
    if "timezone" in changes:
        _check_timezone(changes["timezone"])
    if "settings" in changes:
        changes = {**changes, "settings": settings_to_store(changes["settings"])}
    site = await registry_sites_q.update_site(conn, site_id, changes)
    if site is None:
        raise NotFound("no such site", code="site_not_found")
    return site


async def _site_filter(conn: asyncpg.Connection, viewer: CurrentUser, ref: str | None) -> UUID | None:
    return (await resolve_site(conn, viewer, ref)).id if ref else None


# --- buildings ------------------------------------------------------------------------------------


async def get_building(conn: asyncpg.Connection, viewer: CurrentUser, building_id: UUID) -> Building:
    """One building of the viewer's sites."""
    building = await buildings_q.get_building(conn, building_id)
    _require_visible(viewer, building.site_id if building else None, "building")
    assert building is not None
    return building


async def list_buildings(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    q_text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Building], int]:
    """Buildings of the viewer's sites."""
    site_id = await _site_filter(conn, viewer, site)
    return await buildings_q.list_buildings(
        conn, site_ids=_scope(viewer), site_id=site_id, q=q_text, limit=limit, offset=offset
    )


async def create_building(
    conn: asyncpg.Connection, viewer: CurrentUser, *, site: str, code: str, name: str, floors: int
) -> Building:
    """A new building on a site."""
    site_row = await _site_for_write(conn, viewer, site)
    return await buildings_q.insert_building(conn, site_id=site_row.id, code=code, name=name, floors=floors)


async def update_building(
    conn: asyncpg.Connection, viewer: CurrentUser, building_id: UUID, changes: dict[str, Any]
) -> Building:
    """Change a building's code, name or floors."""
    await get_building(conn, viewer, building_id)
    updated = await buildings_q.update_building(conn, building_id, changes)
    assert updated is not None
    return updated


async def delete_building(conn: asyncpg.Connection, viewer: CurrentUser, building_id: UUID) -> None:
    """Delete an empty building (Conflict while units or assets are in it)."""
    await get_building(conn, viewer, building_id)
    await buildings_q.delete_building(conn, building_id)


async def _site_for_write(conn: asyncpg.Connection, viewer: CurrentUser, ref: str) -> Site:
    # a missing site in a body is a bad value of that field, not a missing resource of the URL
    site = await _find_site(conn, ref)
    if site is None or not viewer.may_see_site(site.id):
        raise ValidationFailed(f"unknown site {ref!r}", field="siteId")
    return site


# --- units and residents --------------------------------------------------------------------------


async def get_unit(conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID) -> UnitWithResidents:
    """One unit of the viewer's sites with its residents."""
    unit = await units_q.get_unit(conn, unit_id)
    _require_visible(viewer, unit.site_id if unit else None, "unit")
    assert unit is not None
    return (await _with_residents(conn, [unit]))[0]


async def _with_residents(conn: asyncpg.Connection, units: Sequence[Unit]) -> list[UnitWithResidents]:
    residents = await units_q.residents_of(conn, [u.id for u in units])
    return [UnitWithResidents(**_fields(u), residents=residents[u.id]) for u in units]


def _fields(unit: Unit) -> dict[str, Any]:
    return {f: getattr(unit, f) for f in unit.__struct_fields__}


async def list_units(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    building: str | None,
    floor: int | None,
    q_text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Unit], int]:
    """Units of the viewer's sites; a search matches numbers, and for the desk residents' names and the end
    of their phone numbers (at least MIN_PHONE_DIGITS digits: a shorter fragment matches numbers only)."""
    site_id = await _site_filter(conn, viewer, site)
    search_residents = personal_data.may_search_residents(viewer.role)
    phone_tail = None
    if search_residents and q_text and PHONE_LIKE.match(q_text):
        digits = personal_data.phone_digits(q_text)
        phone_tail = digits if len(digits) >= personal_data.MIN_PHONE_DIGITS else None
    return await units_q.list_units(
        conn,
        site_ids=_scope(viewer),
        site_id=site_id,
        building=building,
        floor=floor,
        q=q_text,
        search_residents=search_residents,
        phone_tail=phone_tail,
        limit=limit,
        offset=offset,
    )


class UnitLookupResult(msgspec.Struct, frozen=True):
    """What an intake lookup found: the address as understood, the homes it names, and near misses."""

    understood: UnitAddress | None
    found: list[UnitWithResidents]
    near: list[tuple[Unit, NearReason]]


async def lookup_units(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    building: str | None = None,
    number: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> UnitLookupResult:
    """Find the caller's home at intake: by an address as said ("3栋1单元1201"), by building and number, or
    by the end of a resident's phone. An address that names no home comes back with its near misses."""
    if phone is None and address is None and (building is None or number is None):
        raise ValidationFailed(
            "give an address, building and number, or phone",
            field="phone" if building is None else "number",
        )
    site_ids = [(await resolve_site(conn, viewer, site)).id] if site else list(viewer.site_ids)
    if phone is not None:
        phone_tail = personal_data.phone_digits(phone)
        if len(phone_tail) < personal_data.MIN_PHONE_DIGITS:
            raise ValidationFailed(
                f"give the caller's number, or at least its last {personal_data.MIN_PHONE_DIGITS} digits",
                field="phone",
                code="phone_too_short",
            )
        units = await units_q.find_units(
            conn, site_ids=site_ids, building=None, number=None, phone_tail=phone_tail
        )
        return UnitLookupResult(understood=None, found=await _with_residents(conn, units), near=[])
    if address is None:
        try:
            units = await units_q.find_units(
                conn, site_ids=site_ids, building=str(UUID(building or "")), number=number, phone_tail=None
            )
            return UnitLookupResult(understood=None, found=await _with_residents(conn, units), near=[])
        except ValueError:
            understood: UnitAddress | None = UnitAddress(building=building, stairwell=None, room=number)
    else:
        understood = parse_unit_address(address)
        if understood is None or understood.room is None:
            raise ValidationFailed(
                "say the building and room, e.g. 3栋1单元1201", field="address", code="address_unreadable"
            )
    return await _find_by_address(conn, site_ids, understood)


async def _find_by_address(
    conn: asyncpg.Connection, site_ids: list[UUID], address: UnitAddress
) -> UnitLookupResult:
    assert address.room is not None
    buildings = await lookup_q.buildings_of(conn, site_ids)
    said = (
        [b.id for b in buildings if building_matches(address.building, code=b.code, name=b.name)]
        if address.building is not None
        else None
    )
    found = (
        await lookup_q.units_numbered(
            conn, site_ids=site_ids, building_ids=said, numbers=number_candidates(address)
        )
        if said is None or said
        else []
    )
    if found:
        # "1-1201" and "1201" both exist only where stairwells repeat numbers: the specific one is the home
        best = [u for u in found if u.number == found[0].number]
        return UnitLookupResult(understood=address, found=await _with_residents(conn, best), near=[])
    candidates = await lookup_q.near_candidates(
        conn, site_ids=site_ids, building_ids=said or [], room=address.room
    )
    by_id = {u.id: u for u in candidates}
    near = near_misses(
        address,
        [Candidate(u.id, in_said_building=said is None or u.building_id in said, number=u.number)
         for u in candidates],
    )  # fmt: skip
    return UnitLookupResult(
        understood=address, found=[], near=[(by_id[unit_id], reason) for unit_id, reason in near]
    )


async def create_unit(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    building_id: UUID,
    number: str,
    floor: int | None,
    area_m2: float | None,
) -> UnitWithResidents:
    """A new unit in a building."""
    building = await buildings_q.get_building(conn, building_id)
    if building is None or not viewer.may_see_site(building.site_id):
        raise ValidationFailed("unknown building", field="buildingId")
    unit = await units_q.insert_unit(conn, building=building, number=number, floor=floor, area_m2=area_m2)
    return UnitWithResidents(**_fields(unit), residents=[])


async def update_unit(
    conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID, changes: dict[str, Any]
) -> UnitWithResidents:
    """Change a unit's number, floor or area."""
    await get_unit(conn, viewer, unit_id)
    await units_q.update_unit(conn, unit_id, changes)
    return await get_unit(conn, viewer, unit_id)


async def delete_unit(conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID) -> None:
    """Delete a unit nobody lives in and no work order names (Conflict otherwise)."""
    await get_unit(conn, viewer, unit_id)
    await units_q.delete_unit(conn, unit_id)


async def add_resident(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    unit_id: UUID,
    *,
    name: str,
    phone: str | None,
    relation: str,
    vulnerable: bool,
) -> Resident:
    """Someone moves in (or an owner is recorded)."""
    _check_kind(relation, RESIDENT_RELATIONS, "relation")
    unit = await get_unit(conn, viewer, unit_id)
    return await units_q.insert_resident(
        conn, unit=unit, name=name, phone=phone, relation=relation, vulnerable=vulnerable
    )


async def get_resident(conn: asyncpg.Connection, viewer: CurrentUser, resident_id: UUID) -> Resident:
    """One resident of the viewer's sites."""
    resident = await units_q.get_resident(conn, resident_id)
    _require_visible(viewer, resident.site_id if resident else None, "resident")
    assert resident is not None
    return resident


async def update_resident(
    conn: asyncpg.Connection, viewer: CurrentUser, resident_id: UUID, changes: dict[str, Any]
) -> Resident:
    """Change a resident's name, phone, relation or vulnerable flag."""
    if "relation" in changes:
        _check_kind(changes["relation"], RESIDENT_RELATIONS, "relation")
    await get_resident(conn, viewer, resident_id)
    updated = await units_q.update_resident(conn, resident_id, changes)
    assert updated is not None
    return updated


async def remove_resident(conn: asyncpg.Connection, viewer: CurrentUser, resident_id: UUID) -> None:
    """Someone moved out."""
    await get_resident(conn, viewer, resident_id)
    await units_q.delete_resident(conn, resident_id)


# --- assets ---------------------------------------------------------------------------------------


async def get_asset(conn: asyncpg.Connection, viewer: CurrentUser, asset_id: UUID) -> Asset:
    """One asset of the viewer's sites."""
    asset = await assets_q.get_asset(conn, asset_id)
    _require_visible(viewer, asset.site_id if asset else None, "asset")
    assert asset is not None
    return asset


async def list_assets(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    building_id: UUID | None,
    kind: str | None,
    q_text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Asset], int]:
    """Assets of the viewer's sites."""
    if kind is not None:
        _check_kind(kind, ASSET_KINDS, "kind")
    site_id = await _site_filter(conn, viewer, site)
    return await assets_q.list_assets(
        conn,
        site_ids=_scope(viewer),
        site_id=site_id,
        building_id=building_id,
        kind=kind,
        q=q_text,
        limit=limit,
        offset=offset,
    )


async def _check_building_of_site(conn: asyncpg.Connection, building_id: UUID | None, site_id: UUID) -> None:
    if building_id is None:
        return
    building = await buildings_q.get_building(conn, building_id)
    if building is None or building.site_id != site_id:
        raise ValidationFailed("the building is not one of the asset's site", field="buildingId")


async def create_asset(
    conn: asyncpg.Connection, viewer: CurrentUser, *, site: str, fields: dict[str, Any]
) -> Asset:
    """A new asset; `fields` are code, name, kind and the optional rest, by column name."""
    _check_kind(fields["kind"], ASSET_KINDS, "kind")
    site_row = await _site_for_write(conn, viewer, site)
    await _check_building_of_site(conn, fields.get("building_id"), site_row.id)
    return await assets_q.insert_asset(conn, site_id=site_row.id, fields=fields)


async def update_asset(
    conn: asyncpg.Connection, viewer: CurrentUser, asset_id: UUID, changes: dict[str, Any]
) -> Asset:
    """Change an asset."""
    asset = await get_asset(conn, viewer, asset_id)
    if "kind" in changes:
        _check_kind(changes["kind"], ASSET_KINDS, "kind")
    await _check_building_of_site(conn, changes.get("building_id"), asset.site_id)
    updated = await assets_q.update_asset(conn, asset_id, changes)
    assert updated is not None
    return updated


async def delete_asset(conn: asyncpg.Connection, viewer: CurrentUser, asset_id: UUID) -> None:
    """Delete an asset nothing refers to (Conflict while devices, work orders or plans do)."""
    await get_asset(conn, viewer, asset_id)
    await assets_q.delete_asset(conn, asset_id)


# --- devices --------------------------------------------------------------------------------------


async def get_device(conn: asyncpg.Connection, viewer: CurrentUser, device_id: str) -> Device:
    """One device of the viewer's sites."""
    device = await devices_q.get_device(conn, device_id) if DEVICE_ID_PATTERN.match(device_id) else None
    _require_visible(viewer, device.site_id if device else None, "device")
    assert device is not None
    return device


async def list_devices(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    asset_id: UUID | None,
    kind: str | None,
    active: bool | None,
    q_text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Device], int]:
    """Devices of the viewer's sites."""
    if kind is not None:
        _check_kind(kind, DEVICE_KINDS, "kind")
    site_id = await _site_filter(conn, viewer, site)
    return await devices_q.list_devices(
        conn,
        site_ids=_scope(viewer),
        site_id=site_id,
        asset_id=asset_id,
        kind=kind,
        active=active,
        q=q_text,
        limit=limit,
        offset=offset,
    )


async def _check_asset_of_site(conn: asyncpg.Connection, asset_id: UUID | None, site_id: UUID) -> None:
    if asset_id is None:
        return
    asset = await assets_q.get_asset(conn, asset_id)
    if asset is None or asset.site_id != site_id:
        raise ValidationFailed("the asset is not one of the device's site", field="assetId")


async def create_device(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    device_id: str,
    site: str,
    asset_id: UUID | None,
    kind: str,
    name: str,
) -> Device:
    """Register a device under its MQTT identity."""
    if not DEVICE_ID_PATTERN.match(device_id):
        raise ValidationFailed("id must be 1-64 letters, digits, '_' or '-'", field="id")
    _check_kind(kind, DEVICE_KINDS, "kind")
    site_row = await _site_for_write(conn, viewer, site)
    await _check_asset_of_site(conn, asset_id, site_row.id)
    return await devices_q.insert_device(
        conn, device_id=device_id, site_id=site_row.id, asset_id=asset_id, kind=kind, name=name
    )


async def update_device(
    conn: asyncpg.Connection, viewer: CurrentUser, device_id: str, changes: dict[str, Any]
) -> Device:
    """Rename, re-link, re-kind or (de)activate a device."""
    device = await get_device(conn, viewer, device_id)
    if "kind" in changes:
        _check_kind(changes["kind"], DEVICE_KINDS, "kind")
    await _check_asset_of_site(conn, changes.get("asset_id"), device.site_id)
    updated = await devices_q.update_device(conn, device_id, changes)
    assert updated is not None
    return updated


async def deactivate_device(conn: asyncpg.Connection, viewer: CurrentUser, device_id: str) -> Device:
    """Retire a device: its history stays, the gateway ignores it from now on."""
    return await update_device(conn, viewer, device_id, {"active": False})
