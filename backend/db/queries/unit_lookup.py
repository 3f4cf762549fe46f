"""Finding a caller's home in SQL: a site's buildings, units by number, the candidates for near misses."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from backend.db.queries.registry.tables import BUILDINGS, UNITS
from backend.domain.registry import Building, Unit

# A room number with a stairwell prefix ("2-1201") is at most this much longer than the room alone.
_PREFIX_ROOM = 4
MAX_UNITS = 50


async def buildings_of(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> list[Building]:
    """Every building of these sites (an estate has tens, not thousands)."""
    rows = await conn.fetch(
        BUILDINGS.select + " WHERE site_id = ANY($1::uuid[]) ORDER BY code", list(site_ids)
    )
    return [BUILDINGS.read(r) for r in rows]


async def units_numbered(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID],
    building_ids: Sequence[UUID] | None,
    numbers: Sequence[str],
) -> list[Unit]:
    """Units with one of these numbers, in these buildings (None: any building of the sites)."""
    rows = await conn.fetch(
        UNITS.select
        + """ WHERE u.site_id = ANY($1::uuid[]) AND u.number = ANY($3::text[])
                AND ($2::uuid[] IS NULL OR u.building_id = ANY($2::uuid[]))
              -- the most specific number first: a stairwell-room match before the room alone
              ORDER BY array_position($3::text[], u.number), b.code LIMIT $4""",
        list(site_ids),
        list(building_ids) if building_ids is not None else None,
        list(numbers),
        MAX_UNITS,
    )
    return [UNITS.read(r) for r in rows]


async def near_candidates(
    conn: asyncpg.Connection, *, site_ids: Sequence[UUID], building_ids: Sequence[UUID], room: str
) -> list[Unit]:
    """Units a near miss could be: this room in any building or stairwell of the sites, and any unit of the
    buildings said whose number is about as long as the room (one slip keeps the length within one)."""
    rows = await conn.fetch(
        UNITS.select
        + """ WHERE u.site_id = ANY($1::uuid[])
                AND (u.number = $3 OR u.number LIKE '%-' || $3
                     OR (u.building_id = ANY($2::uuid[])
                         AND length(u.number) BETWEEN length($3) - 1 AND length($3) + $4))
              ORDER BY b.code, u.number LIMIT 500""",
        list(site_ids),
        list(building_ids),
        room,
        _PREFIX_ROOM,
    )
    return [UNITS.read(r) for r in rows]


async def units_by_id(conn: asyncpg.Connection, unit_ids: Sequence[UUID]) -> list[Unit]:
    """These units, those that still exist."""
    rows = await conn.fetch(UNITS.select + " WHERE u.id = ANY($1::uuid[])", list(unit_ids))
    return [UNITS.read(r) for r in rows]
