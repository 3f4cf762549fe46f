"""Callback campaigns: drawing the monthly routine sample (claimed per site and month), generating move-in
calls (once per resident), the worklist, recording an outcome, and the counts for the KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.db.queries.rows import insert_once, struct_of
from backend.domain.campaigns import CAMPAIGNS, CampaignCall
from backend.domain.kpis import CampaignOutcomes, share


async def claim_routine_run(conn: asyncpg.Connection, site_id: UUID, period: str, now: datetime) -> bool:
    """Claim the site's routine sample of the month; False when it was drawn already (by any process)."""
    values = dict(site_id=site_id, campaign="routine_sample", period=period, generated_at=now, units=0)
    return await insert_once(conn, "campaign_runs", values)


async def units_with_last_sample(conn: asyncpg.Connection, site_id: UUID) -> list[tuple[UUID, str | None]]:
    """Each unit of the site and the last month it was in the routine sample (None: never)."""
    rows = await conn.fetch(
        """SELECT u.id, max(c.period) AS last
           FROM units u
           LEFT JOIN campaign_calls c ON c.unit_id = u.id AND c.campaign = 'routine_sample'
           WHERE u.site_id = $1 GROUP BY u.id""",
        site_id,
    )
    return [(r["id"], r["last"]) for r in rows]


async def add_routine_calls(
    conn: asyncpg.Connection,
    site_id: UUID,
    period: str,
    unit_ids: Sequence[UUID],
    *,
    due_at: datetime,
    now: datetime,
) -> int:
    """Record the month's sample and how many it holds; returns how many calls were added."""
    added = await conn.fetch(
        """INSERT INTO campaign_calls (site_id, campaign, period, unit_id, due_at, created_at)
           SELECT $1, 'routine_sample', $2, unit_id, $4, $5 FROM unnest($3::uuid[]) AS unit_id
           ON CONFLICT DO NOTHING RETURNING id""",
        site_id,
        period,
        list(unit_ids),
        due_at,
        now,
    )
    await conn.execute(
        """UPDATE campaign_runs SET units = $3
           WHERE site_id = $1 AND campaign = 'routine_sample' AND period = $2""",
        site_id,
        period,
        len(added),
    )
    return len(added)


async def add_move_in_calls(
    conn: asyncpg.Connection,
    now: datetime,
    *,
    delay: timedelta,
    window: timedelta,
    relations: Sequence[str],
) -> int:
    """A move-in call for each owner or tenant registered between `window` and `delay` ago who has none
    yet (the unique index makes it once per resident, whichever process gets there first)."""
    rows = await conn.fetch(
        """INSERT INTO campaign_calls
               (site_id, campaign, unit_id, resident_id, resident_name, due_at, created_at)
           SELECT r.site_id, 'move_in', r.unit_id, r.id, r.name, r.created_at + $2::interval, $1
           FROM residents r
           WHERE r.relation = ANY($4::text[]) AND r.created_at + $2::interval <= $1::timestamptz
             AND r.created_at > $1::timestamptz - $3::interval
           ON CONFLICT DO NOTHING RETURNING id""",
        now,
        delay,
        window,
        list(relations),
    )
    return len(rows)


_SELECT = """
SELECT c.id, c.site_id, c.campaign, c.unit_id, c.due_at, c.created_at, c.period, c.resident_name,
       c.outcome, c.satisfaction, c.notes, c.follow_up_work_order_id, f.number AS follow_up_number,
       c.called_at, cb.display_name AS called_by_name, b.name || ' ' || u.number AS unit_label
FROM campaign_calls c
JOIN units u ON u.id = c.unit_id
JOIN buildings b ON b.id = u.building_id
LEFT JOIN users cb ON cb.id = c.called_by
LEFT JOIN work_orders f ON f.id = c.follow_up_work_order_id"""


def _call(r: asyncpg.Record) -> CampaignCall:
    return struct_of(CampaignCall, r)


_WHERE = """
WHERE c.site_id = ANY($1::uuid[]) AND ($2::text IS NULL OR c.campaign = $2)
  AND (c.outcome IS NULL) = $3"""


async def worklist(
    conn: asyncpg.Connection,
    site_ids: Sequence[UUID],
    campaign: str | None,
    *,
    open_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[CampaignCall], int]:
    """Calls still owed (earliest due first), or those worked (latest first); and how many in all."""
    args = (list(site_ids), campaign, open_only)
    total = await conn.fetchval("SELECT count(*) FROM campaign_calls c" + _WHERE, *args)
    order = " ORDER BY c.due_at, c.id" if open_only else " ORDER BY c.called_at DESC, c.id"
    rows = await conn.fetch(_SELECT + _WHERE + order + " LIMIT $4 OFFSET $5", *args, limit, offset)
    return [_call(r) for r in rows], total


async def get_call(conn: asyncpg.Connection, call_id: UUID) -> CampaignCall | None:
    r = await conn.fetchrow(_SELECT + " WHERE c.id = $1", call_id)
    return _call(r) if r else None


async def lock_call(conn: asyncpg.Connection, call_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT c.id, c.site_id, c.unit_id, c.outcome, c.resident_name, c.campaign
           FROM campaign_calls c WHERE c.id = $1 FOR UPDATE""",
        call_id,
    )


async def record_outcome(
    conn: asyncpg.Connection,
    call_id: UUID,
    *,
    outcome: str,
    satisfaction: int | None,
    notes: str,
    follow_up_work_order_id: UUID | None,
    called_by: UUID,
    called_at: datetime,
) -> None:
    await conn.execute(
        """UPDATE campaign_calls
           SET outcome = $2, satisfaction = $3, notes = $4, follow_up_work_order_id = $5,
               called_by = $6, called_at = $7
           WHERE id = $1 AND outcome IS NULL""",
        call_id,
        outcome,
        satisfaction,
        notes,
        follow_up_work_order_id,
        called_by,
        called_at,
    )


_KPI = """
SELECT campaign,
       count(*) FILTER (WHERE outcome IS NOT NULL AND called_at >= $2 AND called_at < $3) AS worked,
       count(*) FILTER (WHERE outcome = 'reached' AND called_at >= $2 AND called_at < $3) AS reached,
       count(*) FILTER (WHERE outcome = 'no_answer' AND called_at >= $2 AND called_at < $3) AS no_answer,
       count(*) FILTER (WHERE outcome = 'refused' AND called_at >= $2 AND called_at < $3) AS refused,
       count(satisfaction) FILTER (WHERE called_at >= $2 AND called_at < $3) AS rated,
       sum(satisfaction) FILTER (WHERE called_at >= $2 AND called_at < $3) AS score_sum,
       count(follow_up_work_order_id) FILTER (WHERE called_at >= $2 AND called_at < $3) AS follow_ups,
       count(*) FILTER (WHERE outcome IS NULL AND created_at <= $4) AS open
FROM campaign_calls
WHERE site_id = $1
GROUP BY campaign"""


async def campaign_outcomes(
    conn: asyncpg.Connection, site_id: UUID, start: datetime, end: datetime, now: datetime
) -> dict[str, CampaignOutcomes]:
    """Per campaign: calls worked in the period by outcome, satisfaction, follow-ups; open at `now`."""
    found = {
        name: CampaignOutcomes(
            campaign=name, worked=0, reached=0, no_answer=0, refused=0, reach_rate=None,
            satisfaction_average=None, rated=0, follow_ups=0, open=0,
        )
        for name in CAMPAIGNS
    }  # fmt: skip
    for r in await conn.fetch(_KPI, site_id, start, end, now):
        found[r["campaign"]] = struct_of(
            CampaignOutcomes,
            r,
            reach_rate=share(r["reached"], r["worked"]),
            satisfaction_average=round(r["score_sum"] / r["rated"], 2) if r["rated"] else None,
        )
    return found
