"""Planned water and power cuts, and guards' visits to vulnerable residents during an outage."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

_OUTAGE = """SELECT o.id, o.site_id, o.building_id, b.name AS building, o.kind, o.starts_at, o.ends_at,
                    o.note, o.created_at, o.restored_at, o.work_order_id, s.timezone, s.name AS site
             FROM planned_outages o JOIN buildings b ON b.id = o.building_id
             JOIN sites s ON s.id = o.site_id"""


async def building(conn: asyncpg.Connection, building_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT id, site_id, name FROM buildings WHERE id = $1", building_id)


async def insert_outage(conn: asyncpg.Connection, **row: Any) -> UUID:
    return await conn.fetchval(
        """INSERT INTO planned_outages (site_id, building_id, kind, starts_at, ends_at, note, created_by,
                                        created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        row["site_id"],
        row["building_id"],
        row["kind"],
        row["starts_at"],
        row["ends_at"],
        row["note"],
        row["created_by"],
        row["created_at"],
    )


async def get_outage(conn: asyncpg.Connection, outage_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_OUTAGE} WHERE o.id = $1", outage_id)


async def restore(conn: asyncpg.Connection, outage_id: UUID, by: UUID, now: datetime) -> bool:
    """False when it was restored already (a second press tells nobody again)."""
    result = await conn.execute(
        """UPDATE planned_outages SET restored_at = $3, restored_by = $2
           WHERE id = $1 AND restored_at IS NULL""",
        outage_id,
        by,
        now,
    )
    return result.endswith(" 1")


async def list_outages(
    conn: asyncpg.Connection, site_ids: list[UUID], limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        f"""{_OUTAGE} WHERE o.site_id = ANY($1::uuid[])
            ORDER BY (o.restored_at IS NULL) DESC, o.starts_at DESC, o.id LIMIT $2 OFFSET $3""",
        site_ids,
        limit,
        offset,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM planned_outages WHERE site_id = ANY($1::uuid[])", site_ids
    )
    return list(rows), total


async def open_outages(
    conn: asyncpg.Connection, site_ids: list[UUID], codes: list[str]
) -> list[asyncpg.Record]:
    """Water and power alarms active on devices in a building, and planned outages not yet restored."""
    return await conn.fetch(
        """SELECT 'alarm' AS source, a.id, b.id AS building_id, b.name AS building, a.code AS what,
                  a.raised_at AS starts_at, NULL::timestamptz AS ends_at, false AS restored
           FROM alarms a JOIN devices d ON d.id = a.device_id JOIN assets s ON s.id = d.asset_id
           JOIN buildings b ON b.id = s.building_id
           WHERE a.site_id = ANY($1::uuid[]) AND a.active AND a.code = ANY($2::text[])
           UNION ALL
           SELECT 'planned', o.id, b.id, b.name, o.kind, o.starts_at, o.ends_at, false
           FROM planned_outages o JOIN buildings b ON b.id = o.building_id
           WHERE o.site_id = ANY($1::uuid[]) AND o.restored_at IS NULL
           ORDER BY starts_at, id""",
        site_ids,
        codes,
    )


async def vulnerable_in_building(
    conn: asyncpg.Connection, building_id: UUID, source_id: UUID
) -> list[asyncpg.Record]:
    """The building's vulnerable residents, by floor, with any visit already made for this outage."""
    return await conn.fetch(
        """SELECT r.id, r.name, r.vulnerable_need, u.number, u.floor, v.visited_at,
                  uv.display_name AS visited_by
           FROM residents r JOIN units u ON u.id = r.unit_id
           LEFT JOIN outage_visits v ON v.resident_id = r.id AND COALESCE(v.alarm_id, v.outage_id) = $2
           LEFT JOIN users uv ON uv.id = v.visited_by
           WHERE u.building_id = $1 AND r.vulnerable
           ORDER BY u.floor NULLS LAST, u.number, r.created_at, r.id""",
        building_id,
        source_id,
    )


async def resident_building(conn: asyncpg.Connection, resident_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT r.id, r.vulnerable, u.building_id FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE r.id = $1""",
        resident_id,
    )


async def add_visit(
    conn: asyncpg.Connection,
    *,
    alarm_id: UUID | None,
    outage_id: UUID | None,
    resident_id: UUID,
    by: UUID,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO outage_visits (alarm_id, outage_id, resident_id, visited_by, visited_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        alarm_id,
        outage_id,
        resident_id,
        by,
        now,
    )
