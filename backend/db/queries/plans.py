"""Maintenance plans: listing, creating, the default elevator plans, claiming the ones due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.work_orders import MaintenancePlan

# One lock id for "create the default plans": two schedulers must not both create one for the same elevator.
DEFAULT_PLANS_LOCK = 0x43A2_7E01


def _plan(r: asyncpg.Record) -> MaintenancePlan:
    return struct_of(MaintenancePlan, r)


async def list_plans(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> list[MaintenancePlan]:
    """Plans of these sites with their asset's name and place, soonest due first."""
    rows = await conn.fetch(
        """SELECT p.*, a.name AS asset_name, a.location AS asset_location
           FROM maintenance_plans p JOIN assets a ON a.id = p.asset_id
           WHERE p.site_id = ANY($1::uuid[]) ORDER BY p.next_due_on, p.title, p.id""",
        list(site_ids),
    )
    return [_plan(r) for r in rows]


async def asset(conn: asyncpg.Connection, asset_id: UUID) -> asyncpg.Record | None:
    """An asset with its site's timezone."""
    return await conn.fetchrow(
        """SELECT a.id, a.site_id, a.kind, a.name, a.location, a.maintenance_days, s.timezone
           FROM assets a JOIN sites s ON s.id = a.site_id WHERE a.id = $1""",
        asset_id,
    )


async def site_today(conn: asyncpg.Connection, site_id: UUID, now: datetime) -> date:
    """Today's date in the site's timezone."""
    return await conn.fetchval(
        "SELECT ($2::timestamptz AT TIME ZONE timezone)::date FROM sites WHERE id = $1", site_id, now
    )


async def insert_plan(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    asset_id: UUID,
    title: str,
    interval_days: int | None,
    cron: str | None,
    lead_days: int,
    next_due_on: date,
) -> MaintenancePlan:
    """Store a plan."""
    row = await conn.fetchrow(
        """INSERT INTO maintenance_plans
               (site_id, asset_id, title, interval_days, cron, lead_days, next_due_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        site_id,
        asset_id,
        title,
        interval_days,
        cron,
        lead_days,
        next_due_on,
    )
    return _plan(row)


async def create_default_plans(
    conn: asyncpg.Connection, site_id: UUID, now: datetime, elevator_days: int, lead_days: int
) -> int:
    """A plan for each of the site's assets that has a maintenance interval (elevators: `elevator_days` when
    they have none) and no plan yet; the first due one interval from today."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", DEFAULT_PLANS_LOCK)
    result = await conn.execute(
        """INSERT INTO maintenance_plans (site_id, asset_id, title, interval_days, lead_days, next_due_on)
           SELECT a.site_id, a.id, a.name || ' 例行保养', COALESCE(a.maintenance_days, $2), $3,
                  ($1::timestamptz AT TIME ZONE s.timezone)::date + COALESCE(a.maintenance_days, $2)
           FROM assets a JOIN sites s ON s.id = a.site_id
           WHERE a.site_id = $4 AND (a.kind = 'elevator' OR a.maintenance_days IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM maintenance_plans p WHERE p.asset_id = a.id)""",
        now,
        elevator_days,
        lead_days,
        site_id,
    )
    return int(result.split()[-1])


async def claim_due_plans(
    conn: asyncpg.Connection, site_id: UUID, now: datetime, limit: int = 50
) -> list[asyncpg.Record]:
    """The site's active plans whose next period starts within their lead days, locked (others skip them)."""
    return list(
        await conn.fetch(
            """SELECT p.*, a.kind AS asset_kind, a.location AS asset_location, s.timezone, s.code AS site_code
               FROM maintenance_plans p
               JOIN assets a ON a.id = p.asset_id
               JOIN sites s ON s.id = p.site_id
               WHERE p.site_id = $3 AND p.active
                 AND p.next_due_on - p.lead_days <= ($1::timestamptz AT TIME ZONE s.timezone)::date
               ORDER BY p.next_due_on
               LIMIT $2
               FOR UPDATE OF p SKIP LOCKED""",
            now,
            limit,
            site_id,
        )
    )


async def set_next_due(conn: asyncpg.Connection, plan_id: UUID, next_due_on: date) -> None:
    """Move a plan on to its next period."""
    await conn.execute("UPDATE maintenance_plans SET next_due_on = $2 WHERE id = $1", plan_id, next_due_on)
