"""Owners' messages outbox and the residents they go to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.rows import insert_returning, insert_row, one_page, struct_of


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
    return struct_of(Recipient, row, resident_id=row["id"], opted_out=row["messages_opt_out"])


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
                                       next_attempt_at, planned_outage_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
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
        row.get("planned_outage_id"),
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
    handed_over: bool = False
    """An email whose DATA had begun when its sender stopped (the server may have kept it)."""

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
                      next_attempt_at, handed_over_at
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
        struct_of(
            DueMessage,
            r,
            attempts=r["attempts"] + 1,
            in_doubt=r["status"] == "sending",
            last_attempt_started=r["next_attempt_at"],
            handed_over=r["handed_over_at"] is not None,
        )
        for r in rows
    ]


async def _settle(conn: asyncpg.Connection, message_id: int, attempts: int, sets: str, *values: Any) -> None:
    """Write `sets` ($3 on) on a message only while this attempt still holds its lease (a sender that lost
    it changes nothing)."""
    await conn.execute(
        f"UPDATE owner_messages SET {sets} WHERE id = $1 AND attempts = $2 AND status = 'sending'",
        message_id,
        attempts,
        *values,
    )


async def mark_sent(
    conn: asyncpg.Connection, message_id: int, attempts: int, now: datetime, ref: str | None
) -> None:
    sets = "status = 'sent', sent_at = $3, provider_ref = $4, last_error = NULL"
    await _settle(conn, message_id, attempts, sets, now, ref)


async def mark_retry(
    conn: asyncpg.Connection, message_id: int, attempts: int, when: datetime, error: str
) -> None:
    sets = "status = 'pending', next_attempt_at = $3, last_error = $4, handed_over_at = NULL"
    await _settle(conn, message_id, attempts, sets, when, error)


async def keep_in_doubt(
    conn: asyncpg.Connection, message_id: int, attempts: int, until: datetime, error: str
) -> None:
    """Could not learn whether an interrupted send went out: look again later, never send blind."""
    await _settle(conn, message_id, attempts, "next_attempt_at = $3, last_error = $4", until, error)


async def mark_failed(
    conn: asyncpg.Connection, message_id: int, attempts: int, now: datetime, error: str
) -> None:
    sets = "status = 'failed', failed_at = $3, last_error = $4"
    await _settle(conn, message_id, attempts, sets, now, error)


async def failed_messages(
    conn: asyncpg.Connection, site_id: UUID, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    return await failed_on_sites(conn, [site_id], limit, offset)


# --- the owner's page: unit links, sign-in codes, sessions, the unit's cases ---


async def unit_by_link(conn: asyncpg.Connection, link: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT u.id, u.site_id, u.number, u.owner_link, b.name AS building, s.name AS site, s.timezone
           FROM units u JOIN buildings b ON b.id = u.building_id JOIN sites s ON s.id = u.site_id
           WHERE u.owner_link = $1""",
        link,
    )


async def resident_by_phone(conn: asyncpg.Connection, unit_id: UUID, phone: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT id, name, locale FROM residents WHERE unit_id = $1 AND phone = $2
           ORDER BY created_at LIMIT 1""",
        unit_id,
        phone,
    )


async def _count_since(
    conn: asyncpg.Connection, table: str, at: str, phone: str | None, address: str | None, since: datetime
) -> int:
    """Rows of `table` since `since` for this phone number or this address (whichever is given)."""
    return await conn.fetchval(
        f"""SELECT count(*) FROM {table}
            WHERE {at} >= $3
              AND (($1::text IS NOT NULL AND phone = $1) OR ($2::text IS NOT NULL AND address = $2))""",
        phone,
        address,
        since,
    )


async def codes_since(
    conn: asyncpg.Connection, *, phone: str | None, address: str | None, since: datetime
) -> int:
    return await _count_since(conn, "owner_codes", "created_at", phone, address, since)


_CODE_COLS = ("unit_id", "resident_id", "phone", "address", "salt", "code_hash", "created_at", "expires_at")


async def add_code(conn: asyncpg.Connection, **row: Any) -> int:
    return await insert_returning(conn, "owner_codes", {c: row[c] for c in _CODE_COLS})


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
    await insert_row(conn, "owner_sign_in_failures", dict(phone=phone, address=address, reason=reason, at=at))


async def failures_since(
    conn: asyncpg.Connection, *, phone: str | None, address: str | None, since: datetime
) -> int:
    return await _count_since(conn, "owner_sign_in_failures", "at", phone, address, since)


_SESSION_COLS = ("token_hash", "resident_id", "unit_id", "created_at", "expires_at")


async def add_session(conn: asyncpg.Connection, **row: Any) -> UUID:
    return await insert_returning(conn, "owner_sessions", {c: row[c] for c in _SESSION_COLS})


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


async def last_arrival_told(conn: asyncpg.Connection, work_order_id: UUID) -> dict[str, str] | None:
    """Who and when the owners of a case were last told would come (None before any assignment)."""
    params = await conn.fetchval(
        """SELECT params FROM owner_messages
           WHERE work_order_id = $1 AND kind IN ('technician_assigned', 'arrival_changed')
           ORDER BY id DESC LIMIT 1""",
        work_order_id,
    )
    return None if params is None else {k: str(v) for k, v in params.items()}


async def residents_of_unit_by_phone(conn: asyncpg.Connection, unit_id: UUID, phone: str) -> list[Recipient]:
    """The unit's residents registered with this number (digits compared, a +86 prefix ignored)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return []
    rows = await conn.fetch(
        f"""SELECT {_RECIPIENT_COLS} FROM residents
            WHERE unit_id = $1 AND right(regexp_replace(phone, '\\D', '', 'g'), 11) = right($2, 11)
            ORDER BY created_at, id""",
        unit_id,
        digits,
    )
    return [_recipient(r) for r in rows]


async def unit_owner_link(conn: asyncpg.Connection, unit_id: UUID) -> str:
    return await conn.fetchval("SELECT owner_link FROM units WHERE id = $1", unit_id)


# --- the staff side: a case's messages, failed messages, a retry by hand, owners' notes ---


async def case_site(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, site_id, unit_id, number, kind FROM work_orders WHERE id = $1", work_order_id
    )


async def case_history(
    conn: asyncpg.Connection, work_order_id: UUID, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Messages to the case's owners and what they told staff, in the order they happened."""
    rows = await conn.fetch(
        """SELECT * FROM (
               SELECT 'out' AS direction, m.id::text AS id, m.kind, m.channel, m.recipient, m.status,
                      m.attempts, m.body, m.last_error, m.created_at, m.sent_at, m.failed_at,
                      r.name AS resident
               FROM owner_messages m LEFT JOIN residents r ON r.id = m.resident_id
               WHERE m.work_order_id = $1
               UNION ALL
               SELECT 'in', 'note-' || n.id, n.kind, 'page', NULL, 'received', 0, n.body, NULL, n.created_at,
                      NULL, NULL, r.name
               FROM owner_case_notes n JOIN residents r ON r.id = n.resident_id
               WHERE n.work_order_id = $1) h
           ORDER BY created_at, id LIMIT $2 OFFSET $3""",
        work_order_id,
        limit,
        offset,
    )
    total = await conn.fetchval(
        """SELECT (SELECT count(*) FROM owner_messages WHERE work_order_id = $1)
                + (SELECT count(*) FROM owner_case_notes WHERE work_order_id = $1)""",
        work_order_id,
    )
    return list(rows), total


async def failed_on_sites(
    conn: asyncpg.Connection, site_ids: list[UUID], limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    return await one_page(
        conn,
        """m.id, m.site_id, m.work_order_id, w.number, w.kind AS case_kind, m.alarm_id, m.kind, m.channel,
           m.recipient, m.attempts, m.last_error, m.failed_at, m.body""",
        "owner_messages m LEFT JOIN work_orders w ON w.id = m.work_order_id",
        "m.site_id = ANY($1::uuid[]) AND m.status = 'failed'",
        "m.failed_at DESC, m.id DESC",
        (site_ids,),
        limit,
        offset,
        count_from="owner_messages m",
    )


async def message_site(conn: asyncpg.Connection, message_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, site_id, kind, status FROM owner_messages WHERE id = $1", message_id
    )


async def retry_failed(conn: asyncpg.Connection, message_id: int, by: UUID, now: datetime) -> bool:
    """A failed message back in the outbox for a new round of attempts; False unless it was failed (a
    second press, or one racing it, changes nothing: the row is sent once)."""
    result = await conn.execute(
        """UPDATE owner_messages SET status = 'pending', attempts = 0, next_attempt_at = $3, failed_at = NULL,
                  handed_over_at = NULL, retried_by = $2, retried_at = $3
           WHERE id = $1 AND status = 'failed'""",
        message_id,
        by,
        now,
    )
    return result.endswith(" 1")


async def add_case_note(
    conn: asyncpg.Connection, work_order_id: UUID, resident_id: UUID, kind: str, body: str, now: datetime
) -> bool:
    """False when this case already has the note (a confirmation is given once)."""
    row = await conn.fetchval(
        """INSERT INTO owner_case_notes (work_order_id, resident_id, kind, body, created_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id""",
        work_order_id,
        resident_id,
        kind,
        body,
        now,
    )
    return row is not None


async def case_confirmation(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """SELECT n.created_at, r.name FROM owner_case_notes n JOIN residents r ON r.id = n.resident_id
           WHERE n.work_order_id = $1 AND n.kind = 'confirm'""",
        work_order_id,
    )


async def mark_handed_over(conn: asyncpg.Connection, message_id: int, attempts: int, now: datetime) -> None:
    """Written (and committed) just before an email's DATA goes to the SMTP server."""
    await _settle(conn, message_id, attempts, "handed_over_at = $3", now)


async def building_unit_links(conn: asyncpg.Connection, building_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT u.number, u.owner_link, b.name AS building, b.site_id, s.name AS site
           FROM buildings b JOIN sites s ON s.id = b.site_id LEFT JOIN units u ON u.building_id = b.id
           WHERE b.id = $1 ORDER BY u.floor NULLS LAST, u.number""",
        building_id,
    )


# --- owners writing to staff about a case (a `message` note) ---


async def add_owner_message(
    conn: asyncpg.Connection,
    work_order_id: UUID,
    resident_id: UUID,
    body: str,
    request_key: str | None,
    now: datetime,
) -> int | None:
    """The note's id; None when this owner already sent it under the same key (a retried request)."""
    return await conn.fetchval(
        """INSERT INTO owner_case_notes (work_order_id, resident_id, kind, body, request_key, created_at)
           VALUES ($1, $2, 'message', $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id""",
        work_order_id,
        resident_id,
        body,
        request_key,
        now,
    )


async def owner_messages_since(conn: asyncpg.Connection, resident_id: UUID, since: datetime) -> int:
    return await conn.fetchval(
        """SELECT count(*) FROM owner_case_notes
           WHERE resident_id = $1 AND kind = 'message' AND created_at >= $2""",
        resident_id,
        since,
    )


async def case_handler(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        "SELECT site_id, number, kind, status, assignee_id FROM work_orders WHERE id = $1", work_order_id
    )


async def owner_thread(
    conn: asyncpg.Connection, work_order_id: UUID, resident_id: UUID
) -> list[asyncpg.Record]:
    """What one owner sees of a case's conversation, oldest first: their own messages and each staff reply
    once (a reply is one row per recipient and channel), with the replier's role and name."""
    return await conn.fetch(
        """SELECT * FROM (
               SELECT 'owner' AS author, n.id::text AS id, n.id AS seq, n.body AS text, n.created_at AS at,
                      NULL AS role, NULL AS name
               FROM owner_case_notes n
               WHERE n.work_order_id = $1 AND n.resident_id = $2 AND n.kind = 'message'
               UNION ALL
               (SELECT DISTINCT ON (m.event_key) 'staff', 'reply-' || m.id, m.id, m.params->>'reply',
                       m.created_at, u.role, u.display_name
                FROM owner_messages m LEFT JOIN users u ON u.id = m.sent_by
                WHERE m.work_order_id = $1 AND m.kind = 'staff_reply'
                ORDER BY m.event_key, m.id)) t
           ORDER BY at, author, seq""",
        work_order_id,
        resident_id,
    )


async def stamp_reply(conn: asyncpg.Connection, message_ids: list[int], user_id: UUID, now: datetime) -> None:
    """Who replied, and when by the service's clock (the owner's messages are on it too: one timeline)."""
    await conn.execute(
        "UPDATE owner_messages SET sent_by = $2, created_at = $3 WHERE id = ANY($1::bigint[])",
        message_ids,
        user_id,
        now,
    )


async def mark_owner_messages_read(
    conn: asyncpg.Connection, work_order_id: UUID, user_id: UUID, now: datetime
) -> int:
    """The case's unread owner messages, read by this desk user now; how many there were."""
    result = await conn.execute(
        """UPDATE owner_case_notes SET read_at = $3, read_by = $2
           WHERE work_order_id = $1 AND kind = 'message' AND read_at IS NULL""",
        work_order_id,
        user_id,
        now,
    )
    return int(result.split()[-1])


async def unread_note_ids(conn: asyncpg.Connection, work_order_id: UUID) -> set[str]:
    rows = await conn.fetch(
        """SELECT 'note-' || id AS id FROM owner_case_notes
           WHERE work_order_id = $1 AND kind = 'message' AND read_at IS NULL""",
        work_order_id,
    )
    return {r["id"] for r in rows}


async def cases_waiting_for_answer(
    conn: asyncpg.Connection, site_ids: list[UUID], limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Cases whose owner wrote after the last staff reply (or never had one), the longest waiting first."""
    base = """FROM (SELECT n.work_order_id, min(n.created_at) AS since, count(*) AS waiting,
                           bool_or(n.read_at IS NULL) AS unread,
                           (array_agg(n.body ORDER BY n.created_at DESC, n.id DESC))[1] AS last_text
                    FROM owner_case_notes n JOIN work_orders w ON w.id = n.work_order_id
                    WHERE n.kind = 'message' AND w.site_id = ANY($1::uuid[])
                      AND n.created_at > COALESCE(
                          (SELECT max(m.created_at) FROM owner_messages m
                           WHERE m.work_order_id = n.work_order_id AND m.kind = 'staff_reply'), '-infinity')
                    GROUP BY n.work_order_id) c
              JOIN work_orders w ON w.id = c.work_order_id"""
    rows = await conn.fetch(
        f"""SELECT c.*, w.number, w.kind, w.status, w.title, w.site_id {base}
            ORDER BY c.since, c.work_order_id LIMIT $2 OFFSET $3""",
        site_ids,
        limit,
        offset,
    )
    total = await conn.fetchval(f"SELECT count(*) {base}", site_ids)
    return list(rows), total
