"""Sessions that can be ended: login opens one, logout and password changes end them, and the live stream
opens with a single-use ticket instead of a bearer token in its URL.

A bearer token names its session (`jti`); a request checks that the session is open and its user active
(one indexed lookup), and the answer is remembered per session until the token lapses (`SessionCache`).
Whatever changes a user's access makes PostgreSQL NOTIFY `caretaker_access` with the user id (a trigger, in
the sessions migration): that ends open streams at once and makes every API process forget the user.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
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


# A bound on remembered sessions (each a few hundred bytes); past it the cache starts again empty.
SESSION_CACHE_MAX = 20_000


class SessionCache:
    """The user of each open session, remembered until its token lapses so that a request needs no query.

    Revocation is still honoured: the live-stream hub's LISTEN connection hands every `caretaker_access`
    notification to `forget` (the user's sessions are dropped, their next request reads afresh), and while
    that connection is down (`live()` false) nothing is remembered or served from memory, because changes
    would go unseen. What this process ends itself (logout, password change) is forgotten at once too. A
    lookup that began before a `forget` does not store its answer (`generation`), so a read racing a
    revocation cannot put the old user back.
    """

    def __init__(self, live: Callable[[], bool], max_entries: int = SESSION_CACHE_MAX) -> None:
        self._live = live
        self._max = max_entries
        self._users: dict[UUID, tuple[CurrentUser, float]] = {}  # session id -> (user, lapses at)
        self.generation = 0

    def get(self, session_id: UUID, user_id: UUID) -> CurrentUser | None:
        """The remembered user of an open session, or None (look it up)."""
        found = self._users.get(session_id) if self._live() else None
        if found is None:
            return None
        user, lapses = found
        if time.time() >= lapses or user.id != user_id:
            self._users.pop(session_id, None)
            return None
        return user

    def put(self, session_id: UUID, user: CurrentUser, lapses: float, generation: int) -> None:
        """Remember a user read while the cache was at `generation`, until the unix time `lapses`."""
        if generation != self.generation or not self._live():
            return
        if len(self._users) >= self._max:
            self._users.clear()
        self._users[session_id] = (user, lapses)

    def forget(self, user_id: UUID | None) -> None:
        """Forget a user's sessions (None: everyone's) — their access changed."""
        self.generation += 1
        if user_id is None:
            self._users.clear()
            return
        for session_id in [s for s, (u, _) in self._users.items() if u.id == user_id]:
            del self._users[session_id]


async def cached_session_user(
    cache: SessionCache | None,
    pool: asyncpg.Pool,
    session_id: UUID,
    user_id: UUID,
    lapses: float,
) -> CurrentUser | None:
    """`session_user`, answered from the cache when it can be; the token lapses at unix time `lapses`."""
    if cache is None:
        return await q.session_user(pool, session_id, user_id)
    user = cache.get(session_id, user_id)
    if user is None:
        generation = cache.generation
        user = await q.session_user(pool, session_id, user_id)
        if user is not None:
            cache.put(session_id, user, lapses, generation)
    return user


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
