"""Sessions (one per login, named by the token's jti) and the single-use tickets that open the live stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import asyncpg

from backend.db.queries.users import USER_WITH_SITES, current_user_from_row
from backend.domain.models import CurrentUser

# What makes a session good: not ended, not expired, and its user still active.
_OPEN = "s.ended_at IS NULL AND s.expires_at > now()"


async def start_session(conn: asyncpg.Connection, user_id: UUID, ttl: timedelta) -> UUID:
    """Open a session for a login that lasts `ttl`; its id goes into the token."""
    return await conn.fetchval(
        "INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() + $2::interval) RETURNING id",
        user_id,
        ttl,
    )


async def session_user(
    conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID, user_id: UUID
) -> CurrentUser | None:
    """The user of an open session, with their sites, or None: the check every authenticated request makes.

    One primary-key lookup joined to the user's row.
    """
    row = await conn.fetchrow(
        USER_WITH_SITES
        + f" JOIN sessions s ON s.user_id = u.id WHERE s.id = $1 AND u.id = $2 AND u.active AND {_OPEN}",
        session_id,
        user_id,
    )
    return current_user_from_row(row) if row else None


async def session_users(
    conn: asyncpg.Connection | asyncpg.Pool, session_ids: Sequence[UUID]
) -> dict[UUID, CurrentUser]:
    """The users of those sessions that are still open, by session id (the live stream's recheck)."""
    rows = await conn.fetch(
        f"""SELECT s.id AS session_id, u.*
            FROM sessions s
            -- the same user row every request sees, sites included
            CROSS JOIN LATERAL ({USER_WITH_SITES} WHERE u.id = s.user_id AND u.active) u
            WHERE s.id = ANY($1::uuid[]) AND {_OPEN}""",
        list(session_ids),
    )
    return {r["session_id"]: current_user_from_row(r) for r in rows}


async def end_session(conn: asyncpg.Connection, session_id: UUID, why: str) -> bool:
    """End one open session; False when it was already ended (or never was)."""
    result = await conn.execute(
        "UPDATE sessions SET ended_at = now(), ended_why = $2 WHERE id = $1 AND ended_at IS NULL",
        session_id,
        why,
    )
    return result == "UPDATE 1"


async def end_user_sessions(
    conn: asyncpg.Connection, user_id: UUID, why: str, *, keep: UUID | None = None
) -> int:
    """End every open session of a user, but `keep` (the caller's own, after a password change)."""
    result = await conn.execute(
        """UPDATE sessions SET ended_at = now(), ended_why = $2
           WHERE user_id = $1 AND ended_at IS NULL AND id IS DISTINCT FROM $3""",
        user_id,
        why,
        keep,
    )
    return int(result.split()[-1])


async def add_stream_ticket(
    conn: asyncpg.Connection, ticket_hash: bytes, session_id: UUID, ttl: timedelta
) -> None:
    """Record a stream ticket (by its hash) for a session, good for `ttl`."""
    await conn.execute(
        """INSERT INTO stream_tickets (ticket_hash, session_id, expires_at)
           VALUES ($1, $2, now() + $3::interval)""",
        ticket_hash,
        session_id,
        ttl,
    )


async def take_stream_ticket(
    conn: asyncpg.Connection | asyncpg.Pool, ticket_hash: bytes
) -> tuple[UUID, UUID] | None:
    """Use up a ticket: (session id, user id) when it was unused and unexpired, else None.

    The DELETE is the use: of two requests racing with one ticket, exactly one gets the row.
    """
    row = await conn.fetchrow(
        """DELETE FROM stream_tickets t USING sessions s
           WHERE t.ticket_hash = $1 AND s.id = t.session_id
           RETURNING t.expires_at > now() AS fresh, t.session_id, s.user_id""",
        ticket_hash,
    )
    if row is None or not row["fresh"]:
        return None
    return row["session_id"], row["user_id"]


async def forget_sessions(conn: asyncpg.Connection, ended_before: timedelta) -> int:
    """Drop sessions expired longer ago than `ended_before`, and every expired stream ticket."""
    await conn.execute("DELETE FROM stream_tickets WHERE expires_at < now()")
    result = await conn.execute("DELETE FROM sessions WHERE expires_at < now() - $1::interval", ended_before)
    return int(result.split()[-1])
