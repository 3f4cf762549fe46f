"""Suggestions and praise: recorded, listed, answered (backend/services/feedback.py decides)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.rows import one_page

_SELECT = """
SELECT f.id, f.site_id, f.kind, f.text, f.channel, f.created_at, f.unit_id,
       CASE WHEN un.id IS NULL THEN NULL ELSE b.name || ' ' || un.number END AS unit_label,
       f.reporter_name, f.reporter_phone, f.praised_user_id, p.display_name AS praised_name,
       f.routed_to AS routed_to_id, r.display_name AS routed_to_name,
       f.received_by AS received_by_id, rb.display_name AS received_by_name,
       f.answered_at, ab.display_name AS answered_by_name, f.answer_via, f.answer
FROM feedback f
LEFT JOIN units un ON un.id = f.unit_id
LEFT JOIN buildings b ON b.id = un.building_id
LEFT JOIN users p ON p.id = f.praised_user_id
LEFT JOIN users r ON r.id = f.routed_to
LEFT JOIN users rb ON rb.id = f.received_by
LEFT JOIN users ab ON ab.id = f.answered_by
"""


async def insert(conn: asyncpg.Connection, values: dict[str, Any]) -> UUID:
    """A new suggestion or praise; returns its id."""
    columns = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    return await conn.fetchval(
        f"INSERT INTO feedback ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
        *values.values(),
    )


async def get(conn: asyncpg.Connection, feedback_id: UUID) -> asyncpg.Record | None:
    """One feedback with the names the screens show."""
    return await conn.fetchrow(_SELECT + " WHERE f.id = $1", feedback_id)


async def lock(conn: asyncpg.Connection, feedback_id: UUID) -> asyncpg.Record | None:
    """The row, locked until the transaction ends (two answers at once: the second sees the first)."""
    return await conn.fetchrow("SELECT * FROM feedback WHERE id = $1 FOR UPDATE", feedback_id)


async def answer(
    conn: asyncpg.Connection, feedback_id: UUID, *, by: UUID, at: datetime, via: str, text: str
) -> None:
    """Record the answer given to the owner."""
    await conn.execute(
        "UPDATE feedback SET answered_at = $2, answered_by = $3, answer_via = $4, answer = $5 WHERE id = $1",
        feedback_id,
        at,
        by,
        via,
        text,
    )


async def page(
    conn: asyncpg.Connection,
    site_ids: list[UUID],
    *,
    kind: str | None,
    open_only: bool | None,
    praised_user_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[asyncpg.Record], int]:
    """The feedback of these sites, open ones first then newest first, and how many there are in all."""
    where = ["f.site_id = ANY($1::uuid[])"]
    args: list[Any] = [site_ids]
    if kind is not None:
        args.append(kind)
        where.append(f"f.kind = ${len(args)}")
    if open_only is not None:
        where.append("f.answered_at IS NULL" if open_only else "f.answered_at IS NOT NULL")
    if praised_user_id is not None:
        args.append(praised_user_id)
        where.append(f"f.praised_user_id = ${len(args)}")
    condition = " WHERE " + " AND ".join(where)
    total = await conn.fetchval("SELECT count(*) FROM feedback f" + condition, *args)
    rows = await conn.fetch(
        _SELECT
        + condition
        + f" ORDER BY f.answered_at IS NOT NULL, f.created_at DESC, f.id LIMIT ${len(args) + 1}"
        + f" OFFSET ${len(args) + 2}",
        *args,
        limit,
        offset,
    )
    return list(rows), total


async def by_owner_request(conn: asyncpg.Connection, unit_id: UUID, key: str) -> UUID | None:
    """The feedback an owner's page already filed for this unit under this Idempotency-Key, if any.

    Takes a transaction-scoped lock on (unit, key) first, so two identical sends in flight file once.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"owner-feedback:{unit_id}:{key}"
    )
    return await conn.fetchval(
        "SELECT id FROM feedback WHERE unit_id = $1 AND owner_request_key = $2", unit_id, key
    )


async def mark_owner_request(conn: asyncpg.Connection, feedback_id: UUID, key: str) -> None:
    """Remember the Idempotency-Key the owner's page filed this feedback under."""
    await conn.execute("UPDATE feedback SET owner_request_key = $2 WHERE id = $1", feedback_id, key)


async def of_unit(
    conn: asyncpg.Connection, unit_id: UUID, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """A unit's suggestions and praise, newest first, and how many there are in all."""
    return await one_page(
        conn,
        "id, kind, text, created_at, answered_at, answer",
        "feedback",
        "unit_id = $1",
        "created_at DESC, id",
        (unit_id,),
        limit,
        offset,
    )
