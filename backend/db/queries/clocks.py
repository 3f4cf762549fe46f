"""SLA clocks in SQL: a job's policy; starting, meeting, pausing and ending clocks; claiming breaches."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.domain import sla


async def sla_policy(conn: asyncpg.Connection, site_id: UUID, kind: str, priority: int) -> sla.Policy:
    """The SLA policy for a site, kind and priority: the site's own row wins over the default."""
    row = await conn.fetchrow(
        """SELECT respond_minutes, arrive_minutes, resolve_minutes, callback_minutes, investigate_same_day
           FROM sla_policies
           WHERE (site_id = $1 OR site_id IS NULL) AND kind = $2 AND priority = $3
           ORDER BY site_id NULLS LAST LIMIT 1""",
        site_id,
        kind,
        priority,
    )
    if row is None:
        return sla.Policy(None, None, None, None)
    return sla.Policy(
        row["respond_minutes"],
        row["arrive_minutes"],
        row["resolve_minutes"],
        row["callback_minutes"],
        row["investigate_same_day"],
    )


async def start_clocks(
    conn: asyncpg.Connection, work_order_id: UUID, starts_at: datetime, due: dict[str, datetime]
) -> None:
    """Start clocks (or restart one that exists, as the resolve clock after a reopen)."""
    for name, due_at in due.items():
        await conn.execute(
            """INSERT INTO work_order_clocks (work_order_id, clock, due_at, starts_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (work_order_id, clock) DO UPDATE
               SET due_at = EXCLUDED.due_at, starts_at = EXCLUDED.starts_at,
                   met_at = NULL, paused_since = NULL, breached_at = NULL, escalated_at = NULL""",
            work_order_id,
            name,
            due_at,
            starts_at,
        )


async def meet_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Mark a clock met (the first time only)."""
    await conn.execute(
        """UPDATE work_order_clocks SET met_at = $3, paused_since = NULL
           WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL""",
        work_order_id,
        clock,
        at,
    )


async def reset_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str) -> None:
    """Make a met clock run again, keeping its due time (a declined job must be accepted again)."""
    await conn.execute(
        "UPDATE work_order_clocks SET met_at = NULL WHERE work_order_id = $1 AND clock = $2",
        work_order_id,
        clock,
    )


async def pause_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Stop a running clock."""
    await conn.execute(
        """UPDATE work_order_clocks SET paused_since = $3
           WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL AND paused_since IS NULL""",
        work_order_id,
        clock,
        at,
    )


async def resume_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Restart a paused clock: due (and start) move later by the paused time, keeping the clock's length."""
    await conn.execute(
        """UPDATE work_order_clocks
           SET due_at = due_at + GREATEST($3 - paused_since, interval '0'),
               starts_at = starts_at + GREATEST($3 - paused_since, interval '0'),
               paused_since = NULL
           WHERE work_order_id = $1 AND clock = $2 AND paused_since IS NOT NULL""",
        work_order_id,
        clock,
        at,
    )


async def drop_unmet_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str) -> bool:
    """Remove an unmet clock the job no longer owes (a follow-up call of a job closed or cancelled)."""
    dropped = await conn.fetchval(
        """DELETE FROM work_order_clocks WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL
           RETURNING true""",
        work_order_id,
        clock,
    )
    return bool(dropped)


async def claim_due_clocks(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[asyncpg.Record]:
    """Lock clocks that are past due (first breach) or past a further half of their length (manager).

    SKIP LOCKED never waits, so any number of scheduler processes split the rows between them and none
    deadlocks with a user action holding a work order. Nothing is marked here: the caller marks each step
    with `mark_clock_step` together with its notifications, so a step that fails is tried again.
    """
    return list(
        await conn.fetch(
            """SELECT c.work_order_id, c.clock, c.due_at, s.code AS site_code,
                      c.breached_at IS NULL AS breach,
                      $1 >= c.due_at + (c.due_at - c.starts_at) / 2 AS escalate
               FROM work_order_clocks c JOIN work_orders w ON w.id = c.work_order_id
                    JOIN sites s ON s.id = w.site_id
               WHERE c.met_at IS NULL AND c.paused_since IS NULL AND c.escalated_at IS NULL
                 AND c.due_at <= $1 AND w.status <> 'cancelled'
                 -- already breached: only the manager step is left, at due + half the length
                 AND (c.breached_at IS NULL OR $1 >= c.due_at + (c.due_at - c.starts_at) / 2)
               ORDER BY c.due_at
               LIMIT $2
               FOR UPDATE OF c, w SKIP LOCKED""",
            now,
            limit,
        )
    )


async def mark_clock_step(
    conn: asyncpg.Connection, work_order_id: UUID, clock: str, *, now: datetime, escalate: bool
) -> None:
    """Record that a clock's breach (and, with `escalate`, its manager step) has been dealt with."""
    await conn.execute(
        """UPDATE work_order_clocks
           SET breached_at = COALESCE(breached_at, $3),
               escalated_at = CASE WHEN $4 THEN $3 ELSE escalated_at END
           WHERE work_order_id = $1 AND clock = $2""",
        work_order_id,
        clock,
        now,
        escalate,
    )
