"""Owners' messages outbox and the residents they go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Recipient:
    resident_id: UUID
    unit_id: UUID
    name: str
    phone: str | None
    email: str | None
    locale: str
    opted_out: bool
    vulnerable: bool


_RECIPIENT_COLS = "id, unit_id, name, phone, email, locale, messages_opt_out, vulnerable"


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(
        resident_id=row["id"],
        unit_id=row["unit_id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        locale=row["locale"],
        opted_out=row["messages_opt_out"],
        vulnerable=row["vulnerable"],
    )


async def residents_of_unit(conn: asyncpg.Connection, unit_id: UUID) -> list[Recipient]:
    rows = await conn.fetch(
        f"SELECT {_RECIPIENT_COLS} FROM residents WHERE unit_id = $1 ORDER BY created_at, id", unit_id
    )
    return [_recipient(r) for r in rows]


async def residents_of_building(conn: asyncpg.Connection, building_id: UUID) -> list[Recipient]:
    """Everyone living in the building, vulnerable residents first (the guard visits them first)."""
    rows = await conn.fetch(
        """SELECT r.id, r.unit_id, r.name, r.phone, r.email, r.locale, r.messages_opt_out, r.vulnerable
            FROM residents r JOIN units u ON u.id = r.unit_id
            WHERE u.building_id = $1 ORDER BY r.vulnerable DESC, u.number, r.created_at, r.id""",
        building_id,
    )
    return [_recipient(r) for r in rows]


async def site_for_messages(conn: asyncpg.Connection, site_id: UUID) -> asyncpg.Record:
    return await conn.fetchrow("SELECT id, name, timezone, settings FROM sites WHERE id = $1", site_id)


async def insert_message(conn: asyncpg.Connection, **row: Any) -> int | None:
    """Queue one message; None when the same (event, recipient, channel) is already queued."""
    return await conn.fetchval(
        """INSERT INTO owner_messages (site_id, resident_id, work_order_id, alarm_id, event_key, kind,
                                       channel, recipient, locale, urgent, params, body, status,
                                       next_attempt_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (event_key, recipient, channel) DO NOTHING RETURNING id""",
        row["site_id"],
        row.get("resident_id"),
        row.get("work_order_id"),
        row.get("alarm_id"),
        row["event_key"],
        row["kind"],
        row["channel"],
        row["recipient"],
        row["locale"],
        row["urgent"],
        row["params"],
        row["body"],
        row["status"],
        row["next_attempt_at"],
    )


@dataclass(frozen=True)
class DueMessage:
    id: int
    site_id: UUID
    kind: str
    channel: str
    recipient: str
    locale: str
    params: dict[str, Any]
    body: str
    attempts: int
    in_doubt: bool
    """The last attempt's lease ran out without a result: its sender died mid-send."""
    last_attempt_started: datetime

    @property
    def key(self) -> str:
        return f"owner-message-{self.id}"


async def claim_due(
    conn: asyncpg.Connection, now: datetime, lease_until: datetime, limit: int
) -> list[DueMessage]:
    """Lease due messages to this sender. SKIP LOCKED keeps concurrent senders off each other's rows; the
    lease (committed before any send) keeps them off rows being sent after the lock is gone."""
    async with conn.transaction():
        rows = await conn.fetch(
            """SELECT id, site_id, kind, channel, recipient, locale, params, body, attempts, status,
                      next_attempt_at
               FROM owner_messages WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1
               ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
        if not rows:
            return []
        await conn.execute(
            """UPDATE owner_messages SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2
               WHERE id = ANY($1::bigint[])""",
            [r["id"] for r in rows],
            lease_until,
        )
    return [
        DueMessage(
            id=r["id"],
            site_id=r["site_id"],
            kind=r["kind"],
            channel=r["channel"],
            recipient=r["recipient"],
            locale=r["locale"],
            params=r["params"],
            body=r["body"],
            attempts=r["attempts"] + 1,
            in_doubt=r["status"] == "sending",
            last_attempt_started=r["next_attempt_at"],
        )
        for r in rows
    ]


async def mark_sent(
    conn: asyncpg.Connection, message_id: int, attempts: int, now: datetime, ref: str | None
) -> None:
    await conn.execute(
        """UPDATE owner_messages SET status = 'sent', sent_at = $3, provider_ref = $4, last_error = NULL
           WHERE id = $1 AND attempts = $2 AND status = 'sending'""",
        message_id,
        attempts,
        now,
        ref,
    )


async def mark_retry(
    conn: asyncpg.Connection, message_id: int, attempts: int, when: datetime, error: str
) -> None:
    await conn.execute(
        """UPDATE owner_messages SET status = 'pending', next_attempt_at = $3, last_error = $4
           WHERE id = $1 AND attempts = $2 AND status = 'sending'""",
        message_id,
        attempts,
        when,
        error,
    )


async def keep_in_doubt(
    conn: asyncpg.Connection, message_id: int, attempts: int, until: datetime, error: str
) -> None:
    """Could not learn whether an interrupted send went out: look again later, never send blind."""
    await conn.execute(
        """UPDATE owner_messages SET next_attempt_at = $3, last_error = $4
           WHERE id = $1 AND attempts = $2 AND status = 'sending'""",
        message_id,
        attempts,
        until,
        error,
    )


async def mark_failed(
    conn: asyncpg.Connection, message_id: int, attempts: int, now: datetime, error: str
) -> None:
    await conn.execute(
        """UPDATE owner_messages SET status = 'failed', failed_at = $3, last_error = $4
           WHERE id = $1 AND attempts = $2 AND status = 'sending'""",
        message_id,
        attempts,
        now,
        error,
    )


async def messages_of_case(conn: asyncpg.Connection, work_order_id: UUID) -> list[asyncpg.Record]:
    """What the owners of a case were sent (staff view; recipients masked by the caller)."""
    return await conn.fetch(
        """SELECT id, kind, channel, recipient, status, attempts, body, last_error, created_at, sent_at,
                  failed_at
           FROM owner_messages WHERE work_order_id = $1 ORDER BY created_at, id""",
        work_order_id,
    )


async def failed_messages(
    conn: asyncpg.Connection, site_id: UUID, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        """SELECT id, work_order_id, kind, channel, recipient, attempts, last_error, failed_at
           FROM owner_messages WHERE site_id = $1 AND status = 'failed'
           ORDER BY failed_at DESC, id DESC LIMIT $2 OFFSET $3""",
        site_id,
        limit,
        offset,
    )
    total = await conn.fetchval(
        "SELECT count(*) FROM owner_messages WHERE site_id = $1 AND status = 'failed'", site_id
    )
    return list(rows), total
