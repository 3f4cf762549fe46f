"""SQL for the live stream's event log: what the SSE hub reads after a NOTIFY, replays and forgets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries.rows import struct_of


class StreamEvent(msgspec.Struct, frozen=True):
    """One recorded live event: its id is the SSE event id clients resume from."""

    id: int
    site_id: UUID
    type: str
    roles: tuple[str, ...] | None
    data: dict[str, Any]
    at: datetime


def _event(row: asyncpg.Record) -> StreamEvent:
    roles = row["roles"]
    return struct_of(
        StreamEvent,
        row,
        roles=tuple(roles) if roles is not None else None,
    )


async def events_by_ids(conn: asyncpg.Connection | asyncpg.Pool, ids: Sequence[int]) -> list[StreamEvent]:
    """The events with these ids (the ones a NOTIFY named), in id order."""
    rows = await conn.fetch(
        """SELECT id, site_id, type, roles, data, at FROM stream_events
           WHERE id = ANY($1::bigint[]) ORDER BY id""",
        list(ids),
    )
    return [_event(r) for r in rows]


async def events_after(
    conn: asyncpg.Connection | asyncpg.Pool,
    after_id: int,
    *,
    site_ids: Sequence[UUID] | None = None,
    role: str | None = None,
    limit: int = 1000,
) -> list[StreamEvent]:
    """Events with an id above `after_id`, oldest first, narrowed to these sites and this role when given."""
    rows = await conn.fetch(
        """SELECT id, site_id, type, roles, data, at FROM stream_events
           WHERE id > $1
             AND ($2::uuid[] IS NULL OR site_id = ANY($2::uuid[]))
             AND ($3::text IS NULL OR roles IS NULL OR $3 = ANY(roles))
           ORDER BY id LIMIT $4""",
        after_id,
        list(site_ids) if site_ids is not None else None,
        role,
        limit,
    )
    return [_event(r) for r in rows]


async def latest_event_id(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The highest event id recorded so far (0 when none)."""
    return int(await conn.fetchval("SELECT COALESCE(max(id), 0) FROM stream_events"))


async def forget_events_before(conn: asyncpg.Connection, cutoff: datetime) -> int:
    """Delete events recorded before the cut-off; returns how many went."""
    result = await conn.execute("DELETE FROM stream_events WHERE at < $1", cutoff)
    return int(result.split()[-1])
