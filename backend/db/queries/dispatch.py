"""Dispatch in SQL: who may be assigned, the ranking of on-duty technicians, the per-site dispatch lock."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.work_orders import TechnicianSuggestion, suggestion_reasons

# First key of the two-key advisory locks that serialise auto-assignment per site ("DSPT").
DISPATCH_LOCK_CLASS = 0x44535054


async def lock_site_dispatch(conn: asyncpg.Connection, site_id: UUID) -> None:
    """Hold the site's dispatch lock until the transaction ends: one automatic choice at a time per site.

    Ranking reads open-job counts without locking anything, so two emergencies created at the same moment
    would both see the same least-busy technician; with this lock the second ranks after the first commits.
    A hash collision between two sites only makes them wait for each other.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2::text))", DISPATCH_LOCK_CLASS, str(site_id)
    )


async def rank_technicians(
    conn: asyncpg.Connection,
    site_id: UUID,
    category: str,
    *,
    open_statuses: Iterable[str],
    here_statuses: Iterable[str] = (),
    building_id: UUID | None = None,
    excluding: UUID | None = None,
) -> list[TechnicianSuggestion]:
    """On-duty technicians of the site: those with the category's skill first, then those working in the
    job's building now (`here_statuses`), then by fewest open jobs; `excluding` is left out."""
    rows = await conn.fetch(
        """SELECT u.id, u.username, u.display_name, u.skills, $2 = ANY(u.skills) AS skilled,
                  (SELECT count(*) FROM work_orders w
                    WHERE w.assignee_id = u.id AND w.status = ANY($3::text[])) AS open_jobs,
                  -- where a technician is, as far as we know: at (or on the way to) a job in this building
                  ($4::uuid IS NOT NULL AND EXISTS (
                     SELECT 1 FROM work_orders w
                     LEFT JOIN units wu ON wu.id = w.unit_id
                     LEFT JOIN assets wa ON wa.id = w.asset_id
                     WHERE w.assignee_id = u.id AND w.status = ANY($5::text[])
                       AND COALESCE(wu.building_id, wa.building_id) = $4)) AS nearby
           FROM users u JOIN user_sites us ON us.user_id = u.id AND us.site_id = $1
           WHERE u.role = 'technician' AND u.active AND u.on_duty
             AND ($6::uuid IS NULL OR u.id <> $6)
           ORDER BY skilled DESC, nearby DESC, open_jobs, u.username""",
        site_id,
        category,
        list(open_statuses),
        building_id,
        list(here_statuses),
        excluding,
    )
    return [
        struct_of(
            TechnicianSuggestion,
            r,
            user_id=r["id"],
            skills=list(r["skills"]),
            reasons=suggestion_reasons(
                category, skilled=r["skilled"], open_jobs=r["open_jobs"], nearby=r["nearby"]
            ),
        )
        for r in rows
    ]


async def job_building(conn: asyncpg.Connection, unit_id: UUID | None, asset_id: UUID | None) -> UUID | None:
    """The building a job is in: its unit's, else its asset's (plant outside any building has none)."""
    return await conn.fetchval(
        """SELECT COALESCE((SELECT building_id FROM units WHERE id = $1),
                           (SELECT building_id FROM assets WHERE id = $2))""",
        unit_id,
        asset_id,
    )


async def assignable_user(conn: asyncpg.Connection, user_id: UUID, site_id: UUID) -> asyncpg.Record | None:
    """An active member of the site: (id, role, display_name)."""
    return await conn.fetchrow(
        """SELECT u.id, u.role, u.display_name FROM users u
           JOIN user_sites us ON us.user_id = u.id AND us.site_id = $2 WHERE u.id = $1 AND u.active""",
        user_id,
        site_id,
    )


async def escalation_candidates(conn: asyncpg.Connection, site_id: UUID) -> list[asyncpg.Record]:
    """The site's active supervisors and managers: (id, role, display_name, on_duty)."""
    return await conn.fetch(
        """SELECT u.id, u.role, u.display_name, u.on_duty FROM users u
           JOIN user_sites us ON us.user_id = u.id AND us.site_id = $1
           WHERE u.active AND u.role IN ('supervisor', 'manager')""",
        site_id,
    )


async def display_name(conn: asyncpg.Connection, user_id: UUID) -> str | None:
    """A member of staff's name as the screens show it."""
    return await conn.fetchval("SELECT display_name FROM users WHERE id = $1", user_id)
