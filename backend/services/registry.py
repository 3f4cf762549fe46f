"""Registry use cases: what a member of staff may see of their sites, and what an admin may change.

Anything of a site the caller is not a member of answers NotFound, exactly like an id that does not exist,
so ids of other estates cannot be probed. Reading, listing, changing and deleting are the same for every
resource (one table description each, db/queries/registry); what a resource demands of what is written is
in `_checked`, and creating units and residents, which take their site from their parent, is their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import msgspec

from backend.db.queries import sites as sites_q
from backend.db.queries import unit_lookup as lookup_q
from backend.db.queries.registry import units as units_q
from backend.db.queries.registry.common import Table, delete_row, get_row, insert_row, list_rows, update_row
from backend.db.queries.registry.tables import ASSETS, BUILDINGS, DEVICES, RESIDENTS, SITES, UNITS
from backend.domain import personal_data
from backend.domain.models import CurrentUser
from backend.domain.registry import (
    ASSET_KINDS,
    DEVICE_KINDS,
    RESIDENT_RELATIONS,
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


R = TypeVar("R", bound=msgspec.Struct)
_KINDS = {ASSETS.name: ASSET_KINDS, DEVICES.name: DEVICE_KINDS}


async def _checked(
    conn: asyncpg.Connection, table: Table[Any], site_id: UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    """What a resource demands of the fields written to a row of this site; the fields as stored."""
    if table is DEVICES and "id" in fields and not DEVICE_ID_PATTERN.match(fields["id"]):
        raise ValidationFailed("id must be 1-64 letters, digits, '_' or '-'", field="id")
    if "kind" in fields:
        _check_kind(fields["kind"], _KINDS[table.name], "kind")
    if "relation" in fields:
        _check_kind(fields["relation"], RESIDENT_RELATIONS, "relation")
    if "timezone" in fields:
        _check_timezone(fields["timezone"])
    if "settings" in fields:
        fields = {**fields, "settings": settings_to_store(fields["settings"])}
    # an asset's building and a device's asset are of the row's own site
    if table is ASSETS and fields.get("building_id") is not None:
        building = await get_row(conn, BUILDINGS, fields["building_id"])
        if building is None or building.site_id != site_id:
            raise ValidationFailed("the building is not one of the asset's site", field="buildingId")
    if table is DEVICES and fields.get("asset_id") is not None:
        asset = await get_row(conn, ASSETS, fields["asset_id"])
        if asset is None or asset.site_id != site_id:
            raise ValidationFailed("the asset is not one of the device's site", field="assetId")
    return fields


def _site_of(row: msgspec.Struct) -> UUID:
    return row.id if isinstance(row, Site) else row.site_id  # type: ignore[attr-defined]


async def get(conn: asyncpg.Connection, viewer: CurrentUser, table: Table[R], row_id: Any) -> R:
    """One row of the viewer's sites (NotFound, `<what>_not_found`, for any other)."""
    row = await get_row(conn, table, row_id)
    _require_visible(viewer, _site_of(row) if row else None, table.what)
    assert row is not None
    return row


async def list_of(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    table: Table[R],
    *,
    site: str | None,
    equal: dict[str, Any] | None = None,
    q_text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[R], int]:
    """Rows of the viewer's sites, of one site (`site`: id or code), `equal` to the filters given."""
    if (kind := (equal or {}).get("kind")) is not None:
        _check_kind(kind, _KINDS[table.name], "kind")
    site_id = (await resolve_site(conn, viewer, site)).id if site else None
    return await list_rows(
        conn,
        table,
        site_ids=_scope(viewer),
        equal={table.site_key: site_id, **(equal or {})},
        q=q_text,
        limit=limit,
        offset=offset,
    )


async def create(
    conn: asyncpg.Connection, viewer: CurrentUser, table: Table[R], *, site: str, fields: dict[str, Any]
) -> R:
    """A new row on a site (`site`: id or code, one of the viewer's); `fields` by column name."""
    # a missing site in a body is a bad value of that field, not a missing resource of the URL
    site_row = await _find_site(conn, site)
    if site_row is None or not viewer.may_see_site(site_row.id):
        raise ValidationFailed(f"unknown site {site!r}", field="siteId")
    fields = await _checked(conn, table, site_row.id, fields)
    label = f"{table.what} {fields.get('code') or fields.get('id')}"
    return await insert_row(conn, table, {"site_id": site_row.id, **fields}, label)


async def update(
    conn: asyncpg.Connection, viewer: CurrentUser, table: Table[R], row_id: Any, changes: dict[str, Any]
) -> R:
    """Change some fields of a row of the viewer's sites; the row afterwards."""
    row = await get(conn, viewer, table, row_id)
    changes = await _checked(conn, table, _site_of(row), changes)
    updated = await update_row(conn, table, row_id, changes)
    assert updated is not None
    return updated


async def delete(conn: asyncpg.Connection, viewer: CurrentUser, table: Table[Any], row_id: UUID) -> None:
    """Delete a row of the viewer's sites (Conflict, `in_use`, while anything refers to it)."""
    await get(conn, viewer, table, row_id)
    await delete_row(conn, table, row_id)


# --- sites ----------------------------------------------------------------------------------------


async def _find_site(conn: asyncpg.Connection, ref: str) -> Site | None:
    found = await sites_q.find_site(conn, ref)
    return await get_row(conn, SITES, found.id) if found else None


async def resolve_site(conn: asyncpg.Connection, viewer: CurrentUser, ref: str) -> Site:
    """The site named by id or code, if the viewer may see it."""
    site = await _find_site(conn, ref)
    _require_visible(viewer, site.id if site else None, "site")
    assert site is not None
    return site


async def create_site(conn: asyncpg.Connection, *, code: str, name: str, timezone: str) -> Site:
    """A new estate."""
    if not SITE_CODE_PATTERN.match(code):
        raise ValidationFailed("code must be 1-32 lower-case letters, digits or '-'", field="code")
    _check_timezone(timezone)
    return await insert_row(conn, SITES, {"code": code, "name": name, "timezone": timezone}, f"site {code}")


# --- units and residents --------------------------------------------------------------------------


async def get_unit(conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID) -> UnitWithResidents:
    """One unit of the viewer's sites with its residents."""
    return (await _with_residents(conn, [await get(conn, viewer, UNITS, unit_id)]))[0]


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
    site_id = (await resolve_site(conn, viewer, site)).id if site else None
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
    building = await get_row(conn, BUILDINGS, building_id)
    if building is None or not viewer.may_see_site(building.site_id):
        raise ValidationFailed("unknown building", field="buildingId")
    fields = {"site_id": building.site_id, "building_id": building.id, "number": number}
    unit = await insert_row(
        conn, UNITS, {**fields, "floor": floor, "area_m2": area_m2}, f"unit {building.code}-{number}"
    )
    return UnitWithResidents(**_fields(unit), residents=[])


async def update_unit(
    conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID, changes: dict[str, Any]
) -> UnitWithResidents:
    """Change a unit's number, floor or area."""
    await update(conn, viewer, UNITS, unit_id, changes)
    return await get_unit(conn, viewer, unit_id)


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
    unit = await get(conn, viewer, UNITS, unit_id)
    fields = {"site_id": unit.site_id, "unit_id": unit.id, "name": name, "phone": phone}
    return await insert_row(
        conn, RESIDENTS, {**fields, "relation": relation, "vulnerable": vulnerable}, "resident"
    )
