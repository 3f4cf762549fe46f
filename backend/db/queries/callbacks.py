"""Follow-up calls (回访): recording attempts and the queue of calls due."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.work_orders import CallbackDue


async def add_callback(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    reached: bool,
    satisfaction: int | None,
    answers: Mapping[str, int | None],
    comment: str,
    called_by: UUID | None,
    called_at: datetime,
) -> int:
    """Record one call attempt, numbered per work order (the caller holds the row lock); returns it."""
    return await conn.fetchval(
        """INSERT INTO callbacks
               (work_order_id, attempt, reached, satisfaction, comment, called_by, called_at,
                speed, attitude, quality, recommend)
           SELECT $1, COALESCE(max(attempt), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
           FROM callbacks WHERE work_order_id = $1
           RETURNING attempt""",
        work_order_id,
        reached,
        satisfaction,
        comment,
        called_by,
        called_at,
        answers.get("speed"),
        answers.get("attitude"),
        answers.get("quality"),
        answers.get("recommend"),
    )


_QUEUE_FROM = """
           FROM work_order_clocks c
           JOIN work_orders w ON w.id = c.work_order_id"""
_QUEUE_WHERE = """
           WHERE c.clock = 'callback' AND c.met_at IS NULL AND w.site_id = ANY($1::uuid[])
             AND w.status IN ('completed', 'signed', 'closed')
             AND ($2::timestamptz IS NULL OR c.due_at <= $2)"""


async def callback_queue(
    conn: asyncpg.Connection,
    site_ids: Sequence[UUID],
    due_before: datetime | None,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CallbackDue], int]:
    """Work orders whose follow-up call is still due, earliest due first, with the attempts made so far,
    what was done and by whom; and how many there are in all."""
    total = await conn.fetchval("SELECT count(*)" + _QUEUE_FROM + _QUEUE_WHERE, list(site_ids), due_before)
    rows = await conn.fetch(
        """SELECT w.id, w.number, w.kind, w.status, w.title, w.site_id, w.unit_id, w.reporter_name,
                  w.reporter_phone, w.resolution, c.due_at, b.name || ' ' || u.number AS unit_label,
                  a.display_name AS assignee_name,
                  (SELECT count(*) FROM callbacks cb WHERE cb.work_order_id = w.id
                     AND cb.called_at >= c.starts_at) AS attempts"""
        + _QUEUE_FROM
        + """
           LEFT JOIN units u ON u.id = w.unit_id
           LEFT JOIN buildings b ON b.id = u.building_id
           -- who did the work: the assignee, or the last one once the job is done
           LEFT JOIN users a ON a.id = COALESCE(w.assignee_id, w.last_assignee_id)"""
        + _QUEUE_WHERE
        + " ORDER BY c.due_at, w.number LIMIT $3 OFFSET $4",
        list(site_ids),
        due_before,
        limit,
        offset,
    )
    items = [
        struct_of(
            CallbackDue,
            r,
            work_order_id=r["id"],
            resolution=dict(r["resolution"] or {}),
        )
        for r in rows
    ]
    return items, total
