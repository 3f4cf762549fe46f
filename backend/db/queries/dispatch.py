"""Dispatch in SQL: who may be assigned, the ranking of on-duty technicians, the per-site dispatch lock."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from backend.domain.work_orders import TechnicianSuggestion

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
    conn: asyncpg.Connection, site_id: UUID, category: str, *, open_statuses: Iterable[str]
) -> list[TechnicianSuggestion]:
    """On-duty technicians of the site: those with the category's skill first, then by fewest open jobs."""
    rows = await conn.fetch(
        """SELECT u.id, u.username, u.display_name, u.skills, $2 = ANY(u.skills) AS skilled,
                  (SELECT count(*) FROM work_orders w
                    WHERE w.assignee_id = u.id AND w.status = ANY($3::text[])) AS open_jobs
           FROM users u JOIN user_sites us ON us.user_id = u.id AND us.site_id = $1
           WHERE u.role = 'technician' AND u.active AND u.on_duty
           ORDER BY skilled DESC, open_jobs, u.username""",
        site_id,
        category,
        list(open_statuses),
    )
    return [
        TechnicianSuggestion(
            user_id=r["id"],
            username=r["username"],
            display_name=r["display_name"],
            skills=list(r["skills"]),
            skilled=r["skilled"],
            open_jobs=r["open_jobs"],
        )
        for r in rows
    ]


async def assignable_user(conn: asyncpg.Connection, user_id: UUID, site_id: UUID) -> asyncpg.Record | None:
    """An active member of the site: (id, role, display_name)."""
    return await conn.fetchrow(
        """SELECT u.id, u.role, u.display_name FROM users u
           JOIN user_sites us ON us.user_id = u.id AND us.site_id = $2 WHERE u.id = $1 AND u.active""",
        user_id,
        site_id,
    )
