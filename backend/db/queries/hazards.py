"""The hazard ledger: hazards, their events, the counts and the overdue ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

# Columns a move may set (the service says which); nothing else is written through update_hazard.
_MOVABLE = frozenset(
    {
        "status",
        "risk_level",
        "cause",
        "responsible_id",
        "deadline",
        "due_at",
        "standard",
        "control_measure",
        "rectification_work_order_id",
        "recheck_note",
        "rechecked_by",
        "closing_evidence",
        "closed_by",
        "closed_at",
        "escalated_at",
    }
)

_HAZARD = """
    SELECT h.*, s.code AS site_code, s.timezone,
           rep.display_name AS reported_by_name, resp.display_name AS responsible_name,
           w.number AS rectification_number, w.status AS rectification_status,
           COALESCE(w.assignee_id, w.last_assignee_id) AS rectified_by,
           fixer.display_name AS rectified_by_name,
           chk.display_name AS rechecked_by_name, cls.display_name AS closed_by_name
    FROM hazards h
    JOIN sites s ON s.id = h.site_id
    LEFT JOIN users rep ON rep.id = h.reported_by
    LEFT JOIN users resp ON resp.id = h.responsible_id
    LEFT JOIN work_orders w ON w.id = h.rectification_work_order_id
    LEFT JOIN users fixer ON fixer.id = COALESCE(w.assignee_id, w.last_assignee_id)
    LEFT JOIN users chk ON chk.id = h.rechecked_by
    LEFT JOIN users cls ON cls.id = h.closed_by
"""


async def insert_hazard(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    source: str,
    place: str,
    description: str,
    risk_level: str,
    reported_by: UUID | None,
    reported_at: datetime,
    round_scan_id: UUID | None = None,
    found_on_work_order_id: UUID | None = None,
    photo_sha256: str | None = None,
    thumb_sha256: str | None = None,
) -> UUID | None:
    """Register a hazard (numbered YH-000001 …); None when this round finding is registered already."""
    return await conn.fetchval(
        """INSERT INTO hazards (number, site_id, source, place, description, risk_level, reported_by,
                                reported_at, round_scan_id, found_on_work_order_id, photo_sha256,
                                thumb_sha256)
           VALUES ('YH-' || lpad(nextval('hazard_numbers')::text, 6, '0'), $1, $2, $3, $4, $5, $6, $7, $8, $9,
                   $10, $11)
           ON CONFLICT (round_scan_id) DO NOTHING RETURNING id""",
        site_id,
        source,
        place,
        description,
        risk_level,
        reported_by,
        reported_at,
        round_scan_id,
        found_on_work_order_id,
        photo_sha256,
        thumb_sha256,
    )


async def add_event(
    conn: asyncpg.Connection,
    hazard_id: UUID,
    *,
    action: str,
    from_status: str | None,
    to_status: str,
    actor_id: UUID | None,
    at: datetime,
    client_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one step to the hazard's history."""
    await conn.execute(
        """INSERT INTO hazard_events
               (hazard_id, action, from_status, to_status, actor_id, at, client_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)""",
        hazard_id,
        action,
        from_status,
        to_status,
        actor_id,
        at,
        client_at,
        payload or {},  # the connection's codec writes it as a JSON object
    )


async def lock_hazard(conn: asyncpg.Connection, hazard_id: UUID) -> asyncpg.Record | None:
    """A hazard with its names and its rectification's state, locked for a move."""
    return await conn.fetchrow(_HAZARD + " WHERE h.id = $1 FOR UPDATE OF h", hazard_id)


async def get_hazard(conn: asyncpg.Connection, hazard_id: UUID) -> asyncpg.Record | None:
    """A hazard with its names and its rectification's state."""
    return await conn.fetchrow(_HAZARD + " WHERE h.id = $1", hazard_id)


async def events(conn: asyncpg.Connection, hazard_id: UUID) -> list[asyncpg.Record]:
    """The hazard's history, oldest first."""
    return list(
        await conn.fetch(
            """SELECT e.*, u.display_name AS actor_name FROM hazard_events e
               LEFT JOIN users u ON u.id = e.actor_id WHERE e.hazard_id = $1 ORDER BY e.id""",
            hazard_id,
        )
    )


async def update_hazard(conn: asyncpg.Connection, hazard_id: UUID, fields: dict[str, Any]) -> None:
    """Set some of the movable columns."""
    unknown = set(fields) - _MOVABLE
    assert not unknown, unknown
    names = list(fields)
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
    await conn.execute(f"UPDATE hazards SET {sets} WHERE id = $1", hazard_id, *(fields[n] for n in names))


async def list_hazards(
    conn: asyncpg.Connection,
    site_ids: Sequence[UUID],
    *,
    statuses: Sequence[str] | None,
    overdue_at: datetime | None,
    limit: int,
    offset: int,
    found_on_work_order_id: UUID | None = None,
) -> tuple[list[asyncpg.Record], int]:
    """The ledger: open first, then by risk and age; and how many match (of one job's findings if given)."""
    where = """WHERE h.site_id = ANY($1::uuid[]) AND ($2::text[] IS NULL OR h.status = ANY($2::text[]))
               AND ($3::timestamptz IS NULL OR (h.status <> 'closed' AND h.due_at < $3))
               AND ($4::uuid IS NULL OR h.found_on_work_order_id = $4)"""
    args = (list(site_ids), list(statuses) if statuses else None, overdue_at, found_on_work_order_id)
    total = await conn.fetchval("SELECT count(*) FROM hazards h " + where, *args)
    rows = await conn.fetch(
        _HAZARD
        + where
        + """ ORDER BY (h.status = 'closed'),
                       array_position(ARRAY['major','high','medium','low'], h.risk_level),
                       h.reported_at DESC LIMIT $5 OFFSET $6""",
        *args,
        limit,
        offset,
    )
    return list(rows), total


async def counts(conn: asyncpg.Connection, site_id: UUID, now: datetime) -> list[asyncpg.Record]:
    """Per risk level: open, overdue (open past the deadline) and closed."""
    return list(
        await conn.fetch(
            """SELECT risk_level,
                      count(*) FILTER (WHERE status <> 'closed') AS open,
                      count(*) FILTER (WHERE status <> 'closed' AND due_at < $2) AS overdue,
                      count(*) FILTER (WHERE status = 'closed') AS closed
               FROM hazards WHERE site_id = $1 GROUP BY risk_level""",
            site_id,
            now,
        )
    )


async def claim_overdue(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[asyncpg.Record]:
    """Open hazards past their deadline nobody was told about yet, locked (another scheduler skips them)."""
    return list(
        await conn.fetch(
            """SELECT h.id, h.number, h.site_id, h.place, h.status, h.due_at, h.responsible_id,
                      s.code AS site_code
               FROM hazards h JOIN sites s ON s.id = h.site_id
               WHERE h.status <> 'closed' AND h.escalated_at IS NULL AND h.due_at < $1
               ORDER BY h.due_at LIMIT $2 FOR UPDATE OF h SKIP LOCKED""",
            now,
            limit,
        )
    )


async def end_of_day(conn: asyncpg.Connection, site_id: UUID, day: date) -> datetime:
    """The end of a calendar day in the site's time zone."""
    return await conn.fetchval(
        "SELECT (($2::date + 1)::timestamp AT TIME ZONE timezone) FROM sites WHERE id = $1", site_id, day
    )


async def site_user(conn: asyncpg.Connection, user_id: UUID, site_id: UUID) -> asyncpg.Record | None:
    """An active user of the site, with their role."""
    return await conn.fetchrow(
        """SELECT u.id, u.role, u.display_name FROM users u JOIN user_sites us ON us.user_id = u.id
           WHERE u.id = $1 AND us.site_id = $2 AND u.active""",
        user_id,
        site_id,
    )
