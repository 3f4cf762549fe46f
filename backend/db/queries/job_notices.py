"""Notices to a building from maintenance work: planned outages linked to their job, and plans' notices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

_NOTICE = """SELECT o.id, o.site_id, o.building_id, b.name AS building, o.kind, o.starts_at, o.ends_at,
                    o.note, o.created_at, o.restored_at, o.work_order_id, s.timezone,
                    (SELECT count(DISTINCT m.resident_id) FROM owner_messages m
                     WHERE m.planned_outage_id = o.id AND m.kind = 'planned_outage') AS recipients
             FROM planned_outages o JOIN buildings b ON b.id = o.building_id
             JOIN sites s ON s.id = o.site_id"""


async def job_place(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    """The job's site, status and the building of its asset (NULL: no asset, or plant of the whole estate)."""
    return await conn.fetchrow(
        """SELECT w.id, w.site_id, w.status, a.building_id
           FROM work_orders w LEFT JOIN assets a ON a.id = w.asset_id WHERE w.id = $1""",
        work_order_id,
    )


async def notice_of_job(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_NOTICE} WHERE o.work_order_id = $1", work_order_id)


async def insert_job_notice(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    building_id: UUID,
    work_order_id: UUID,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    created_by: UUID | None,
    now: datetime,
) -> UUID | None:
    """The job's notice; None when the job has one already (marked again, or by another process)."""
    return await conn.fetchval(
        """INSERT INTO planned_outages (site_id, building_id, work_order_id, kind, starts_at, ends_at, note,
                                        created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (work_order_id) DO NOTHING RETURNING id""",
        site_id,
        building_id,
        work_order_id,
        kind,
        starts_at,
        ends_at,
        note,
        created_by,
        now,
    )


async def restore_job_notice(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> UUID | None:
    """Mark the job's notice restored; its id only the first time."""
    return await conn.fetchval(
        """UPDATE planned_outages SET restored_at = $2
           WHERE work_order_id = $1 AND restored_at IS NULL RETURNING id""",
        work_order_id,
        now,
    )


async def plan_for_notice(conn: asyncpg.Connection, plan_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, site_id, notice_kind, notice_lead_hours, notice_window_hours
           FROM maintenance_plans WHERE id = $1""",
        plan_id,
    )


async def set_plan_notice(
    conn: asyncpg.Connection, plan_id: UUID, kind: str | None, lead_hours: int, window_hours: int
) -> None:
    await conn.execute(
        """UPDATE maintenance_plans SET notice_kind = $2, notice_lead_hours = $3, notice_window_hours = $4
           WHERE id = $1""",
        plan_id,
        kind,
        lead_hours,
        window_hours,
    )


async def plan_jobs_to_announce(conn: asyncpg.Connection, closed: Sequence[str]) -> list[asyncpg.Record]:
    """Open jobs of plans that announce their work, on an asset of a building, with no notice yet."""
    return await conn.fetch(
        """SELECT w.id, w.site_id, w.resolution->>'periodDue' AS period_due, a.building_id, s.timezone,
                  p.notice_kind, p.notice_lead_hours, p.notice_window_hours, p.title
           FROM work_orders w
           JOIN maintenance_plans p ON p.id = w.plan_id
           JOIN assets a ON a.id = w.asset_id
           JOIN sites s ON s.id = w.site_id
           WHERE p.notice_kind IS NOT NULL AND a.building_id IS NOT NULL
             AND w.status <> ALL($1::text[]) AND w.resolution ? 'periodDue'
             AND NOT EXISTS (SELECT 1 FROM planned_outages o WHERE o.work_order_id = w.id)
           ORDER BY w.created_at, w.id""",
        list(closed),
    )
