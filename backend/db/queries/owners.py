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


# --- the owner's page: unit links, sign-in codes, sessions, the unit's cases ---


async def unit_by_link(conn: asyncpg.Connection, link: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT u.id, u.site_id, u.number, u.owner_link, b.name AS building, s.name AS site, s.timezone
           FROM units u JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = u.site_id
           WHERE u.owner_link = $1""",
        link,
    )


async def unit_links(conn: asyncpg.Connection, site_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT u.id, u.number, u.owner_link, b.name AS building FROM units u
           JOIN buildings b ON b.id = u.building_id WHERE u.site_id = $1 ORDER BY b.code, u.number""",
        site_id,
    )


async def resident_by_phone(conn: asyncpg.Connection, unit_id: UUID, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, name, locale FROM residents WHERE unit_id = $1 AND phone = $2
           ORDER BY created_at LIMIT 1""",
        unit_id,
        phone,
    )


async def codes_since(
    conn: asyncpg.Connection, *, phone: str | None, address: str | None, since: datetime
) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM owner_codes
           WHERE created_at >= $3
             AND (($1::text IS NOT NULL AND phone = $1) OR ($2::text IS NOT NULL AND address = $2))""",
        phone,
        address,
        since,
    )


async def add_code(conn: asyncpg.Connection, **row: Any) -> int:
    return await conn.fetchval(
        """INSERT INTO owner_codes
               (unit_id, resident_id, phone, address, salt, code_hash, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
        row["unit_id"],
        row["resident_id"],
        row["phone"],
        row["address"],
        row["salt"],
        row["code_hash"],
        row["created_at"],
        row["expires_at"],
    )


async def live_code(
    conn: asyncpg.Connection, unit_id: UUID, phone: str, now: datetime
) -> asyncpg.Record | None:
    """The latest unused, unexpired code for this number and unit (locked: guesses are counted one by one)."""
    return await conn.fetchrow(
        """SELECT id, resident_id, salt, code_hash, wrong FROM owner_codes
           WHERE unit_id = $1 AND phone = $2 AND used_at IS NULL AND expires_at > $3 AND code_hash IS NOT NULL
           ORDER BY created_at DESC LIMIT 1 FOR UPDATE""",
        unit_id,
        phone,
        now,
    )


async def count_wrong(conn: asyncpg.Connection, code_id: int) -> None:
    await conn.execute("UPDATE owner_codes SET wrong = wrong + 1 WHERE id = $1", code_id)


async def use_code(conn: asyncpg.Connection, code_id: int, now: datetime) -> None:
    await conn.execute("UPDATE owner_codes SET used_at = $2 WHERE id = $1", code_id, now)


async def add_failure(conn: asyncpg.Connection, phone: str, address: str, reason: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO owner_sign_in_failures (phone, address, reason, at) VALUES ($1, $2, $3, $4)",
        phone,
        address,
        reason,
        at,
    )


async def failures_since(
    conn: asyncpg.Connection, *, phone: str | None, address: str | None, since: datetime
) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM owner_sign_in_failures
           WHERE at >= $3
             AND (($1::text IS NOT NULL AND phone = $1) OR ($2::text IS NOT NULL AND address = $2))""",
        phone,
        address,
        since,
    )


async def add_session(conn: asyncpg.Connection, **row: Any) -> UUID:
    return await conn.fetchval(
        """INSERT INTO owner_sessions (token_hash, resident_id, unit_id, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        row["token_hash"],
        row["resident_id"],
        row["unit_id"],
        row["created_at"],
        row["expires_at"],
    )


async def session_by_token(
    conn: asyncpg.Connection, token_hash: bytes, now: datetime
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT s.id, s.resident_id, s.unit_id, u.site_id, r.name, r.locale
           FROM owner_sessions s JOIN units u ON u.id = s.unit_id JOIN residents r ON r.id = s.resident_id
           WHERE s.token_hash = $1 AND s.expires_at > $2""",
        token_hash,
        now,
    )


_CASE_COLS = """w.id, w.number, w.kind, w.status, w.category, w.title, w.description, w.created_at,
                (SELECT count(*) FROM photos p WHERE p.work_order_id = w.id AND p.by_owner)
                    AS photos,
                (SELECT s.timezone FROM sites s WHERE s.id = w.site_id) AS timezone,
                w.appointment_at, w.completed_at, w.resolution, w.unit_id, w.site_id,
                a.display_name AS technician, COALESCE(a.badge, a.username) AS badge,
                (SELECT c.due_at FROM work_order_clocks c WHERE c.work_order_id = w.id AND c.clock = 'arrive')
                    AS arrive_by"""


async def unit_cases(
    conn: asyncpg.Connection, unit_id: UUID, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    rows = await conn.fetch(
        f"""SELECT {_CASE_COLS} FROM work_orders w LEFT JOIN users a ON a.id = COALESCE(w.assignee_id, w.last_assignee_id)
            WHERE w.unit_id = $1 ORDER BY w.created_at DESC, w.id LIMIT $2 OFFSET $3""",  # noqa: E501
        unit_id,
        limit,
        offset,
    )
    total = await conn.fetchval("SELECT count(*) FROM work_orders WHERE unit_id = $1", unit_id)
    return list(rows), total


async def unit_case(conn: asyncpg.Connection, unit_id: UUID, work_order_id: UUID) -> asyncpg.Record | None:
    """One case, only when it is this unit's."""
    return await conn.fetchrow(
        f"""SELECT {_CASE_COLS} FROM work_orders w LEFT JOIN users a ON a.id = COALESCE(w.assignee_id, w.last_assignee_id)
            WHERE w.id = $2 AND w.unit_id = $1""",  # noqa: E501
        unit_id,
        work_order_id,
    )


async def case_callbacks(conn: asyncpg.Connection, work_order_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT attempt, reached, satisfaction, speed, attitude, quality, recommend, called_at, called_by
           FROM callbacks WHERE work_order_id = $1 ORDER BY attempt""",
        work_order_id,
    )


async def scrub_code_message(conn: asyncpg.Connection, message_id: int) -> None:
    """A sign-in code leaves the outbox's copy once it is out (or given up on): only its hash is kept."""
    await conn.execute(
        """UPDATE owner_messages SET body = '(code)', params = params - 'code'
           WHERE id = $1 AND kind = 'sign_in_code' AND status IN ('sent', 'failed')""",
        message_id,
    )


async def case_for_message(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT w.id, w.site_id, w.unit_id, w.kind, w.channel, w.number, w.appointment_at, w.resolution,
                  w.assignee_id,
                  s.timezone, a.display_name AS technician, COALESCE(a.badge, a.username) AS badge,
                  (SELECT c.due_at FROM work_order_clocks c
                   WHERE c.work_order_id = w.id AND c.clock = 'arrive') AS arrive_by,
                  (SELECT e.payload FROM work_order_events e WHERE e.work_order_id = w.id
                   ORDER BY e.seq DESC LIMIT 1) AS last_payload
           FROM work_orders w JOIN sites s ON s.id = w.site_id
           LEFT JOIN users a ON a.id = COALESCE(w.assignee_id, w.last_assignee_id)
           WHERE w.id = $1""",
        work_order_id,
    )


async def replied_before(conn: asyncpg.Connection, work_order_id: UUID, version: int) -> bool:
    return await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM work_order_events
                          WHERE work_order_id = $1 AND action = 'reply' AND seq < $2)""",
        work_order_id,
        version,
    )


async def device_building(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    """The building a device's asset stands in (None for site-wide plant)."""
    return await conn.fetchrow(
        """SELECT b.id, b.name, b.site_id FROM devices d JOIN assets a ON a.id = d.asset_id
           JOIN buildings b ON b.id = a.building_id WHERE d.id = $1""",
        device_id,
    )


async def owner_photo_count(conn: asyncpg.Connection, work_order_id: UUID) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM photos WHERE work_order_id = $1 AND by_owner", work_order_id
    )


async def mark_owner_photo(conn: asyncpg.Connection, photo_id: UUID) -> None:
    await conn.execute("UPDATE photos SET by_owner = true WHERE id = $1", photo_id)
