"""Dispatch: rank the site's on-duty technicians for a job by skill (the category) and open workload."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.db.queries import dispatch as q
from backend.domain.work_orders import TechnicianSuggestion
from backend.domain.workflow import ACTIVE_STATUSES

# Emergency and repair categories map to the skill of the same name; complaints need no trade.
_ACTIVE = sorted(ACTIVE_STATUSES)


async def rank_technicians(
    conn: asyncpg.Connection, site_id: UUID, category: str
) -> list[TechnicianSuggestion]:
    """On-duty technicians of the site, best first: skilled in the category, then fewest open jobs."""
    return await q.rank_technicians(conn, site_id, category, open_statuses=_ACTIVE)


async def best_technician(
    conn: asyncpg.Connection, site_id: UUID, category: str
) -> TechnicianSuggestion | None:
    """The top of the ranking, or None when nobody is on duty; call it in the transaction that assigns.

    The site's dispatch lock, held until that transaction ends, makes concurrent automatic assignments at a
    site take turns, so each one's ranking counts the jobs the previous ones handed out.
    """
    await q.lock_site_dispatch(conn, site_id)
    ranking = await rank_technicians(conn, site_id, category)
    return ranking[0] if ranking else None
