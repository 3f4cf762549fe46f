"""The notification outbox and the live-stream event log, written in the transaction of the change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

# NOTIFY carries only the id; listeners read the row. A channel name every API process LISTENs on.
STREAM_CHANNEL = "caretaker_stream"
# Wakes the push dispatchers at commit, so a notification leaves at once rather than at the next poll.
OUTBOX_CHANNEL = "caretaker_outbox"


async def add_notifications(
    conn: asyncpg.Connection,
    *,
    site_id: UUID | None,
    recipient_ids: Iterable[UUID],
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    urgency: str = "normal",
    dedupe_key: str | None = None,
) -> int:
    """Queue one notification per recipient (skipping one already queued under the same dedupe key)."""
    ids = list(dict.fromkeys(recipient_ids))
    if not ids:
        return 0
    result = await conn.execute(
        """INSERT INTO notifications (site_id, recipient_id, kind, urgency, title, body, data, dedupe_key)
           SELECT $1, r, $3, $4, $5, $6, $7, $8 FROM UNNEST($2::uuid[]) AS r
           ON CONFLICT (recipient_id, dedupe_key) DO NOTHING""",
        site_id,
        ids,
        kind,
        urgency,
        title,
        body,
        data or {},
        dedupe_key,
    )
    queued = int(result.split()[-1])
    if queued:
        await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
    return queued


async def add_stream_event(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    type: str,
    data: dict[str, Any],
    roles: Iterable[str] | None = None,
) -> int:
    """Record a live event and NOTIFY its id; the NOTIFY is delivered only if the transaction commits."""
    event_id = await conn.fetchval(
        "INSERT INTO stream_events (site_id, type, roles, data) VALUES ($1, $2, $3, $4) RETURNING id",
        site_id,
        type,
        list(roles) if roles is not None else None,
        data,
    )
    await conn.execute("SELECT pg_notify($1, $2)", STREAM_CHANNEL, str(event_id))
    return event_id


async def site_staff_ids(
    conn: asyncpg.Connection, site_id: UUID, roles: Iterable[str], *, on_duty_only_for: Iterable[str] = ()
) -> list[UUID]:
    """Active staff of the site in these roles; for roles in `on_duty_only_for`, only those on duty."""
    return [
        r["id"]
        for r in await conn.fetch(
            """SELECT u.id FROM users u JOIN user_sites us ON us.user_id = u.id
               WHERE us.site_id = $1 AND u.active AND u.role = ANY($2::text[])
                 AND (u.on_duty OR NOT (u.role = ANY($3::text[])))
               ORDER BY u.username""",
            site_id,
            list(roles),
            list(on_duty_only_for),
        )
    ]
