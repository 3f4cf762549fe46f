"""Units and their residents: read, list, find by address or phone, create, change, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.registry.common import (
    _Filter,
    _page,
    _raise_for,
    _set_clause,
    delete_row,
)
from backend.domain.registry import Building, Resident, Unit

_UNIT = """SELECT u.id, u.site_id, u.building_id, b.code AS building_code, b.name AS building_name,
                  u.number, u.floor, u.area_m2
           FROM units u JOIN buildings b ON b.id = u.building_id"""
_RESIDENT = "SELECT id, site_id, unit_id, name, phone, relation, vulnerable FROM residents"
# Residents whose phone, digits only, ends with the digits given: +86, spaces and dashes in either the stored
# or the typed number do not matter. `{}` is the parameter holding the digits (checked long enough upstream).
_BY_PHONE_TAIL = "SELECT unit_id FROM residents WHERE regexp_replace(phone, '\\D', '', 'g') LIKE '%' || {}"
_RESIDENT_ORDER = "CASE relation WHEN 'owner' THEN 0 WHEN 'tenant' THEN 1 ELSE 2 END, created_at, id"


def _unit(row: asyncpg.Record) -> Unit:
    area = row["area_m2"]
    return Unit(
        id=row["id"],
        site_id=row["site_id"],
        building_id=row["building_id"],
        building_code=row["building_code"],
        building_name=row["building_name"],
        number=row["number"],
        floor=row["floor"],
        area_m2=float(area) if area is not None else None,
    )


def _resident(row: asyncpg.Record) -> Resident:
    return Resident(
        id=row["id"],
        site_id=row["site_id"],
        unit_id=row["unit_id"],
        name=row["name"],
        phone=row["phone"],
        relation=row["relation"],
        vulnerable=row["vulnerable"],
    )


async def get_unit(conn: asyncpg.Connection, unit_id: UUID) -> Unit | None:
    """One unit."""
    row = await conn.fetchrow(_UNIT + " WHERE u.id = $1", unit_id)
    return _unit(row) if row else None


async def list_units(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    building: str | None,
    floor: int | None,
    q: str | None,
    search_residents: bool = False,
    phone_tail: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Unit], int]:
    """Units of the caller's sites; `building` is an id or a code. `q` matches numbers, and with
    `search_residents` residents' names; `phone_tail` (digits) matches the end of residents' phones."""
    f = _Filter()
    f.sites("u.site_id", site_ids)
    if site_id:
        f.add("u.site_id = {}", site_id)
    if building:
        try:
            f.add("u.building_id = {}", UUID(building))
        except ValueError:
            f.add("b.code = {}", building)
    if floor is not None:
        f.add("u.floor = {}", floor)
    if q:
        columns = ["u.number", "b.code || '-' || u.number", "b.name || u.number"]
        if search_residents:
            # the desk also finds a home by its residents' names
            columns.append("(SELECT string_agg(r.name, ' ') FROM residents r WHERE r.unit_id = u.id)")
        # ... and by the end of a resident's phone number
        f.search(columns, q, alternative=(f"u.id IN ({_BY_PHONE_TAIL})", phone_tail) if phone_tail else None)
    count_from = "FROM units u JOIN buildings b ON b.id = u.building_id"
    rows, total = await _page(
        conn, _UNIT, count_from, f, "b.site_id, b.code, u.floor, u.number", limit, offset
    )
    return [_unit(r) for r in rows], total


async def find_units(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID],
    building: str | None,
    number: str | None,
    phone_tail: str | None,
) -> list[Unit]:
    """Units of these sites by building (id or code) and number, or by the end of a resident's phone."""
    f = _Filter()
    f.add("u.site_id = ANY({}::uuid[])", list(site_ids))
    if building is not None:
        try:
            f.add("u.building_id = {}", UUID(building))
        except ValueError:
            f.add("(b.code = {0} OR b.name = {0})", building)
    if number is not None:
        f.add("u.number = {}", number)
    if phone_tail:
        f.add(f"u.id IN ({_BY_PHONE_TAIL} AND site_id = ANY({{}}::uuid[]))", phone_tail, list(site_ids))
    rows = await conn.fetch(
        f"{_UNIT}{f.where} ORDER BY b.site_id, b.code, u.floor, u.number LIMIT 50", *f.args
    )
    return [_unit(r) for r in rows]


async def residents_of(conn: asyncpg.Connection, unit_ids: Sequence[UUID]) -> dict[UUID, list[Resident]]:
    """The residents of these units, owners first."""
    rows = await conn.fetch(
        _RESIDENT + f" WHERE unit_id = ANY($1::uuid[]) ORDER BY {_RESIDENT_ORDER}", list(unit_ids)
    )
    found: dict[UUID, list[Resident]] = {uid: [] for uid in unit_ids}
    for row in rows:
        found[row["unit_id"]].append(_resident(row))
    return found


async def insert_unit(
    conn: asyncpg.Connection, *, building: Building, number: str, floor: int | None, area_m2: float | None
) -> Unit:
    """A new unit in a building."""
    try:
        unit_id = await conn.fetchval(
            "INSERT INTO units (site_id, building_id, number, floor, area_m2) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING id",
            building.site_id,
            building.id,
            number,
            floor,
            area_m2,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"unit {building.code}-{number}")
    unit = await get_unit(conn, unit_id)
    assert unit is not None
    return unit


async def update_unit(conn: asyncpg.Connection, unit_id: UUID, changes: dict[str, Any]) -> Unit | None:
    """Change some fields of a unit."""
    if changes:
        sets, args = _set_clause(changes, {"number": "", "floor": "", "area_m2": "::numeric"}, 2)
        try:
            await conn.execute(f"UPDATE units SET {sets} WHERE id = $1", unit_id, *args)
        except asyncpg.PostgresError as e:
            _raise_for(e, "unit")
    return await get_unit(conn, unit_id)


async def delete_unit(conn: asyncpg.Connection, unit_id: UUID) -> bool:
    """Delete a unit nobody lives in and no work order names."""
    return await delete_row(conn, "units", unit_id, "unit")


async def get_resident(conn: asyncpg.Connection, resident_id: UUID) -> Resident | None:
    """One resident."""
    row = await conn.fetchrow(_RESIDENT + " WHERE id = $1", resident_id)
    return _resident(row) if row else None


async def insert_resident(
    conn: asyncpg.Connection, *, unit: Unit, name: str, phone: str | None, relation: str, vulnerable: bool
) -> Resident:
    """A new resident of a unit."""
    row = await conn.fetchrow(
        "INSERT INTO residents (site_id, unit_id, name, phone, relation, vulnerable)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " RETURNING id, site_id, unit_id, name, phone, relation, vulnerable",
        unit.site_id,
        unit.id,
        name,
        phone,
        relation,
        vulnerable,
    )
    return _resident(row)


async def update_resident(
    conn: asyncpg.Connection, resident_id: UUID, changes: dict[str, Any]
) -> Resident | None:
    """Change some fields of a resident."""
    if not changes:
        return await get_resident(conn, resident_id)
    sets, args = _set_clause(changes, {"name": "", "phone": "", "relation": "", "vulnerable": ""}, 2)
    row = await conn.fetchrow(
        f"UPDATE residents SET {sets} WHERE id = $1"
        " RETURNING id, site_id, unit_id, name, phone, relation, vulnerable",
        resident_id,
        *args,
    )
    return _resident(row) if row else None


async def delete_resident(conn: asyncpg.Connection, resident_id: UUID) -> bool:
    """Remove a resident who moved out."""
    return await delete_row(conn, "residents", resident_id, "resident")
