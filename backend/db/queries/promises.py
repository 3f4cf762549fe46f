"""Promises made to owners on cases: recording, keeping, the case's list, and the ones the scheduler owes
a reminder or a broken-promise notice (claimed, so two schedulers never both send one)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.promises import Promise, promise_state

_SELECT = """
SELECT p.id, p.work_order_id, p.text, p.due_at, p.made_at, p.made_by, m.display_name AS made_by_name,
       p.kept_at, k.display_name AS kept_by_name, p.kept_note, p.reminded_at, p.broken_at
FROM promises p
JOIN users m ON m.id = p.made_by
LEFT JOIN users k ON k.id = p.kept_by"""


def _promise(r: asyncpg.Record, now: datetime) -> Promise:
    return struct_of(
        Promise,
        r,
        state=promise_state(kept_at=r["kept_at"], due_at=r["due_at"], now=now),
        kept_on_time=None if r["kept_at"] is None else r["kept_at"] <= r["due_at"],
    )


async def add_promise(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    site_id: UUID,
    text: str,
    due_at: datetime,
    made_by: UUID,
    now: datetime,
) -> UUID:
    """Record a promise; returns its id."""
    return await conn.fetchval(
        """INSERT INTO promises (work_order_id, site_id, text, due_at, made_by, made_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
        work_order_id,
        site_id,
        text,
        due_at,
        made_by,
        now,
    )


async def get_promise(conn: asyncpg.Connection, promise_id: UUID, now: datetime) -> Promise | None:
    r = await conn.fetchrow(_SELECT + " WHERE p.id = $1", promise_id)
    return _promise(r, now) if r else None


async def promise_site(
    conn: asyncpg.Connection, promise_id: UUID, *, lock: bool = False
) -> asyncpg.Record | None:
    """The promise's site and whether it is kept (locked for an update when asked)."""
    return await conn.fetchrow(
        "SELECT site_id, kept_at FROM promises WHERE id = $1" + (" FOR UPDATE" if lock else ""), promise_id
    )


async def keep_promise(
    conn: asyncpg.Connection, promise_id: UUID, *, by: UUID, note: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE promises SET kept_at = $2, kept_by = $3, kept_note = $4 WHERE id = $1 AND kept_at IS NULL",
        promise_id,
        now,
        by,
        note or None,
    )


async def list_promises(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> list[Promise]:
    """A case's promises, in the order they were made."""
    rows = await conn.fetch(_SELECT + " WHERE p.work_order_id = $1 ORDER BY p.made_at, p.id", work_order_id)
    return [_promise(r, now) for r in rows]


_CLAIM = """
SELECT p.id, p.site_id, p.text, p.due_at, p.made_by, w.id AS work_order_id, w.number, w.title,
       s.code AS site_code
FROM promises p
JOIN work_orders w ON w.id = p.work_order_id
JOIN sites s ON s.id = p.site_id
WHERE p.kept_at IS NULL AND p.broken_at IS NULL AND {condition}
ORDER BY p.due_at LIMIT {limit} FOR UPDATE OF p SKIP LOCKED"""


async def claim_reminders(
    conn: asyncpg.Connection, now: datetime, lead: timedelta, limit: int = 100
) -> list[asyncpg.Record]:
    """Open promises within `lead` of their due time whose maker was not reminded yet, locked."""
    return list(
        await conn.fetch(
            _CLAIM.format(
                condition="p.reminded_at IS NULL AND p.due_at - $2::interval <= $1 AND p.due_at > $1",
                limit="$3",
            ),
            now,
            lead,
            limit,
        )
    )


async def claim_broken(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[asyncpg.Record]:
    """Promises past their due time, not kept, nobody told yet; locked."""
    return list(await conn.fetch(_CLAIM.format(condition="p.due_at <= $1", limit="$2"), now, limit))


async def mark(conn: asyncpg.Connection, promise_id: UUID, column: str, at: datetime) -> None:
    """Stamp reminded_at or broken_at."""
    assert column in ("reminded_at", "broken_at")
    await conn.execute(f"UPDATE promises SET {column} = $2 WHERE id = $1", promise_id, at)


_KPI = """
SELECT count(*) FILTER (WHERE kept_at IS NOT NULL OR due_at <= $4) AS due,
       count(*) FILTER (WHERE kept_at IS NOT NULL AND kept_at <= due_at) AS kept_on_time,
       count(*) FILTER (WHERE kept_at IS NULL AND due_at <= $4) AS broken,
       count(*) FILTER (WHERE kept_at > due_at) AS kept_late
FROM promises
WHERE site_id = $1 AND due_at >= $2 AND due_at < $3"""


async def promise_counts(
    conn: asyncpg.Connection, site_id: UUID, start: datetime, end: datetime, now: datetime
) -> asyncpg.Record:
    """Promises due in the period that are decided (kept, or past due), kept on time, broken, kept late."""
    return await conn.fetchrow(_KPI, site_id, start, end, now)


async def case_reporter(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    """Who stands behind a case: its channel and reporter."""
    return await conn.fetchrow(
        "SELECT channel, reporter_name, reporter_phone FROM work_orders WHERE id = $1", work_order_id
    )


async def case_site(conn: asyncpg.Connection, work_order_id: UUID) -> UUID | None:
    """The site of the case a promise is made on."""
    return await conn.fetchval("SELECT site_id FROM work_orders WHERE id = $1", work_order_id)
