"""Dispatch: rank the site's on-duty technicians for a job by skill (the category) and open workload."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.db.queries import dispatch as q
from backend.domain.work_orders import TechnicianSuggestion
from backend.domain.workflow import ACTIVE_STATUSES, Status

# Emergency and repair categories map to the skill of the same name; complaints need no trade.
_ACTIVE = sorted(ACTIVE_STATUSES)
# Where a technician is known to be: on the way to, at, or paused at a job.
_OUT_AT = sorted({Status.EN_ROUTE, Status.ON_SITE, Status.PAUSED})


async def rank_technicians(
    conn: asyncpg.Connection,
    site_id: UUID,
    category: str,
    *,
    unit_id: UUID | None = None,
    asset_id: UUID | None = None,
    excluding: UUID | None = None,
) -> list[TechnicianSuggestion]:
    """On-duty technicians of the site, best first: skilled in the category, then already working in the
    job's building, then fewest open jobs; `excluding` (whom a complaint is about) is never suggested."""
    building_id = await q.job_building(conn, unit_id, asset_id) if unit_id or asset_id else None
    return await q.rank_technicians(
        conn,
        site_id,
        category,
        open_statuses=_ACTIVE,
        here_statuses=_OUT_AT,
        building_id=building_id,
        excluding=excluding,
    )


async def best_technician(
    conn: asyncpg.Connection,
    site_id: UUID,
    category: str,
    *,
    unit_id: UUID | None = None,
    asset_id: UUID | None = None,
) -> TechnicianSuggestion | None:
    """The top of the ranking, or None when nobody is on duty; call it in the transaction that assigns.

    The site's dispatch lock, held until that transaction ends, makes concurrent automatic assignments at a
    site take turns, so each one's ranking counts the jobs the previous ones handed out.
    """
    await q.lock_site_dispatch(conn, site_id)
    ranking = await rank_technicians(conn, site_id, category, unit_id=unit_id, asset_id=asset_id)
    return ranking[0] if ranking else None
