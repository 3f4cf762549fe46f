"""Sessions that can be ended: login opens one, logout and password changes end them, and the live stream
opens with a single-use ticket instead of a bearer token in its URL.

A bearer token names its session (`jti`); every request checks that the session is open and its user
active (one indexed lookup). Whatever changes a user's access makes PostgreSQL NOTIFY `caretaker_access`
with the user id (a trigger, in the sessions migration), which is what ends open streams at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg

from backend.db.queries import sessions as q
from backend.db.queries import users as users_q
from backend.domain.models import CurrentUser
from backend.errors import ValidationFailed
from backend.services.passwords import check_new_password, hash_password, verify_password

# Long enough for a phone on a poor network to open the stream after asking for the ticket; short enough
# that a ticket seen in a log is useless (and it is single-use anyway).
STREAM_TICKET_TTL = timedelta(seconds=30)
# 256 bits from the OS's CSPRNG, URL-safe: unguessable, and fit for a query string.
STREAM_TICKET_BYTES = 32


class EndedWhy(StrEnum):
    """Why a session ended (kept on the row)."""

    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a secret
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a reason, not a secret
    DEACTIVATED = "deactivated"


async def start_session(conn: asyncpg.Connection, user_id: UUID, ttl_seconds: int) -> UUID:
    """Open a session for a successful login; the token carries its id."""
    return await q.start_session(conn, user_id, timedelta(seconds=ttl_seconds))


async def session_user(
    conn: asyncpg.Connection | asyncpg.Pool, session_id: UUID, user_id: UUID
) -> CurrentUser | None:
    """The user a token acts as, while its session is open and the user active; None once it is not."""
    return await q.session_user(conn, session_id, user_id)


async def open_sessions_users(
    conn: asyncpg.Connection | asyncpg.Pool, session_ids: Sequence[UUID]
) -> dict[UUID, CurrentUser]:
    """The current user of each of these sessions that is still open (closed ones are missing)."""
    if not session_ids:
        return {}
    return await q.session_users(conn, session_ids)


async def log_out(conn: asyncpg.Connection, session_id: UUID) -> None:
    """End this session (a second logout of the same session changes nothing)."""
    await q.end_session(conn, session_id, EndedWhy.LOGOUT)


async def log_out_everywhere(conn: asyncpg.Connection, user_id: UUID) -> int:
    """End every session of the user, this one included; how many were open."""
    return await q.end_user_sessions(conn, user_id, EndedWhy.LOGOUT_ALL)


async def end_user_sessions(conn: asyncpg.Connection, user_id: UUID, why: EndedWhy) -> int:
    """End every session of a user whose access an admin changed (deactivated, password reset)."""
    return await q.end_user_sessions(conn, user_id, why)


async def change_own_password(
    conn: asyncpg.Connection, user: CurrentUser, session_id: UUID, current: str, new: str
) -> int:
    """Change the caller's password after checking the current one; every other session ends.

    Returns how many other sessions were ended. A wrong current password is a ValidationFailed with code
    `wrong_current_password` (the caller is signed in, so not a 401 that would sign the phone out).
    """
    found = await users_q.get_login(conn, user.username)
    if found is None or not verify_password(found[1], current):
        raise ValidationFailed(
            "the current password is wrong", field="currentPassword", code="wrong_current_password"
        )
    if new == current:
        raise ValidationFailed(
            "the new password must differ from the current one",
            field="newPassword",
            code="password_unchanged",
        )
    check_new_password(new, names=(user.username, user.display_name), field="newPassword")
    await users_q.set_password_hash(conn, user.id, hash_password(new))
    return await q.end_user_sessions(conn, user.id, EndedWhy.PASSWORD_CHANGED, keep=session_id)


def _ticket_hash(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode("utf-8")).digest()


async def issue_stream_ticket(conn: asyncpg.Connection, session_id: UUID) -> str:
    """A fresh single-use ticket that opens the live stream as this session, for STREAM_TICKET_TTL."""
    ticket = secrets.token_urlsafe(STREAM_TICKET_BYTES)
    await q.add_stream_ticket(conn, _ticket_hash(ticket), session_id, STREAM_TICKET_TTL)
    return ticket


async def redeem_stream_ticket(
    conn: asyncpg.Connection | asyncpg.Pool, ticket: str
) -> tuple[UUID, CurrentUser] | None:
    """Use up a ticket: its session id and user when the ticket is fresh and the session still open."""
    taken = await q.take_stream_ticket(conn, _ticket_hash(ticket))
    if taken is None:
        return None
    session_id, user_id = taken
    user = await q.session_user(conn, session_id, user_id)
    return (session_id, user) if user is not None else None


async def forget_old_sessions(conn: asyncpg.Connection, retention: timedelta) -> int:
    """Housekeeping: drop sessions expired for longer than `retention`, and expired stream tickets."""
    return await q.forget_sessions(conn, retention)
