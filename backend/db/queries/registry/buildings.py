"""Buildings of a site: read, find by code or id, list, create, change, delete."""

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
from backend.domain.registry import Building

_BUILDING = "SELECT id, site_id, code, name, floors FROM buildings"


def _building(row: asyncpg.Record) -> Building:
    return Building(
        id=row["id"], site_id=row["site_id"], code=row["code"], name=row["name"], floors=row["floors"]
    )


async def get_building(conn: asyncpg.Connection, building_id: UUID) -> Building | None:
    """One building."""
    row = await conn.fetchrow(_BUILDING + " WHERE id = $1", building_id)
    return _building(row) if row else None


async def find_building(conn: asyncpg.Connection, site_id: UUID, ref: str) -> Building | None:
    """The building of this site with this id or code."""
    try:
        row = await conn.fetchrow(_BUILDING + " WHERE site_id = $1 AND id = $2", site_id, UUID(ref))
    except ValueError:
        row = await conn.fetchrow(_BUILDING + " WHERE site_id = $1 AND code = $2", site_id, ref)
    return _building(row) if row else None


async def list_buildings(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Building], int]:
    """Buildings of the caller's sites."""
    f = _Filter()
    f.sites("site_id", site_ids)
    if site_id:
        f.add("site_id = {}", site_id)
    f.search(["code", "name"], q)
    rows, total = await _page(conn, _BUILDING, "FROM buildings", f, "site_id, code", limit, offset)
    return [_building(r) for r in rows], total


async def insert_building(
    conn: asyncpg.Connection, *, site_id: UUID, code: str, name: str, floors: int
) -> Building:
    """A new building."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO buildings (site_id, code, name, floors) VALUES ($1, $2, $3, $4)"
            " RETURNING id, site_id, code, name, floors",
            site_id,
            code,
            name,
            floors,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"building {code}")
    return _building(row)


async def update_building(
    conn: asyncpg.Connection, building_id: UUID, changes: dict[str, Any]
) -> Building | None:
    """Change some fields of a building."""
    if not changes:
        return await get_building(conn, building_id)
    sets, args = _set_clause(changes, {"code": "", "name": "", "floors": ""}, 2)
    try:
        row = await conn.fetchrow(
            f"UPDATE buildings SET {sets} WHERE id = $1 RETURNING id, site_id, code, name, floors",
            building_id,
            *args,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, "building")
    return _building(row) if row else None


async def delete_building(conn: asyncpg.Connection, building_id: UUID) -> bool:
    """Delete a building with no units or assets; False when it does not exist."""
    return await delete_row(conn, "buildings", building_id, "building")
