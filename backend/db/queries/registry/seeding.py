"""Bulk ensure-inserts for seeding: insert what is missing, leave the rest, return ids by natural key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.registry.common import (
    _json_texts,
)


async def ensure_site(conn: asyncpg.Connection, *, code: str, name: str, timezone: str) -> UUID:
    """The id of the site with this code, creating it when missing."""
    await conn.execute(
        "INSERT INTO sites (code, name, timezone) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING",
        code,
        name,
        timezone,
    )
    return await conn.fetchval("SELECT id FROM sites WHERE code = $1", code)


async def ensure_buildings(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[str, str, int]]
) -> dict[str, UUID]:
    """Buildings (code, name, floors) of the site; returns {code: id} for all of them."""
    codes = [r[0] for r in rows]
    await conn.execute(
        """INSERT INTO buildings (site_id, code, name, floors)
           SELECT $1, c, n, f FROM UNNEST($2::text[], $3::text[], $4::int[]) AS t(c, n, f)
           ON CONFLICT (site_id, code) DO NOTHING""",
        site_id,
        codes,
        [r[1] for r in rows],
        [r[2] for r in rows],
    )
    found = await conn.fetch(
        "SELECT code, id FROM buildings WHERE site_id = $1 AND code = ANY($2::text[])", site_id, codes
    )
    return {r["code"]: r["id"] for r in found}


async def ensure_units(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[UUID, str, int, float]]
) -> None:
    """Units (building id, number, floor, area m²) of the site."""
    await conn.execute(
        """INSERT INTO units (site_id, building_id, number, floor, area_m2)
           SELECT $1, b, n, f, a
           FROM UNNEST($2::uuid[], $3::text[], $4::int[], $5::numeric[]) AS t(b, n, f, a)
           ON CONFLICT (building_id, number) DO NOTHING""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


async def ensure_owners(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[UUID, str, str, str, bool]]
) -> None:
    """One owner (building id, unit number, name, phone, vulnerable) per unit that has no owner yet."""
    await conn.execute(
        """INSERT INTO residents (site_id, unit_id, name, phone, relation, vulnerable)
           SELECT $1, u.id, t.name, t.phone, 'owner', t.vulnerable
           FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[])
                AS t(building_id, number, name, phone, vulnerable)
           JOIN units u ON u.building_id = t.building_id AND u.number = t.number
           WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.unit_id = u.id AND r.relation = 'owner')""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )


async def missing_usernames(conn: asyncpg.Connection, usernames: Sequence[str]) -> set[str]:
    """Which of these usernames do not exist yet."""
    rows = await conn.fetch("SELECT username FROM users WHERE username = ANY($1::text[])", list(usernames))
    return set(usernames) - {r["username"] for r in rows}


async def ensure_users(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, str, str, str, str | None, list[str], bool]]
) -> None:
    """Users (username, display name, password hash, role, phone, skills, on duty) that do not exist yet."""
    # skills is an array per user: executemany avoids a two-dimensional UNNEST
    await conn.executemany(
        """INSERT INTO users (username, display_name, password_hash, role, phone, skills, on_duty)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7)
           ON CONFLICT (username) DO NOTHING""",
        rows,
    )


async def ensure_memberships(conn: asyncpg.Connection, site_id: UUID, usernames: Sequence[str]) -> None:
    """Make these users members of the site."""
    await conn.execute(
        """INSERT INTO user_sites (user_id, site_id)
           SELECT id, $1 FROM users WHERE username = ANY($2::text[])
           ON CONFLICT DO NOTHING""",
        site_id,
        list(usernames),
    )


async def ensure_assets(
    conn: asyncpg.Connection,
    site_id: UUID,
    rows: Sequence[tuple[str, str, str, UUID | None, str, dict[str, Any], int | None]],
) -> dict[str, UUID]:
    """Assets (code, name, kind, building id, location, parameters, maintenance days); returns {code: id}."""
    codes = [r[0] for r in rows]
    await conn.execute(
        """INSERT INTO assets (site_id, code, name, kind, building_id, location, parameters, maintenance_days)
           SELECT $1, c, n, k, b, l, p::jsonb, m
           FROM UNNEST($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::int[])
                AS t(c, n, k, b, l, p, m)
           ON CONFLICT (site_id, code) DO NOTHING""",
        site_id,
        codes,
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        _json_texts([r[5] for r in rows]),
        [r[6] for r in rows],
    )
    found = await conn.fetch(
        "SELECT code, id FROM assets WHERE site_id = $1 AND code = ANY($2::text[])", site_id, codes
    )
    return {r["code"]: r["id"] for r in found}


async def ensure_devices(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[str, UUID | None, str, str]]
) -> None:
    """Devices (id, asset id, kind, name) of the site."""
    await conn.execute(
        """INSERT INTO devices (id, site_id, asset_id, kind, name)
           SELECT i, $1, a, k, n FROM UNNEST($2::text[], $3::uuid[], $4::text[], $5::text[]) AS t(i, a, k, n)
           ON CONFLICT (id) DO NOTHING""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )
