"""Users and their site memberships."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.models import CurrentUser

# The signed-in user as every request sees it; sessions.py narrows it to an open session.
USER_WITH_SITES = """
    SELECT u.id, u.username, u.display_name, u.role, u.skills, u.on_duty, u.locale, u.password_hash,
           u.active,
           -- admins see every site; everyone else only their memberships
           CASE WHEN u.role = 'admin' THEN ARRAY(SELECT id FROM sites ORDER BY code)
                ELSE ARRAY(SELECT site_id FROM user_sites WHERE user_id = u.id) END AS site_ids
    FROM users u
"""


def current_user_from_row(row: asyncpg.Record) -> CurrentUser:
    return struct_of(CurrentUser, row, site_ids=tuple(row["site_ids"]), skills=tuple(row["skills"]))


async def get_active_user(conn: asyncpg.Connection | asyncpg.Pool, user_id: UUID) -> CurrentUser | None:
    """The active user with this id, with their sites, or None."""
    row = await conn.fetchrow(USER_WITH_SITES + " WHERE u.id = $1 AND u.active", user_id)
    return current_user_from_row(row) if row else None


async def get_login(conn: asyncpg.Connection, username: str) -> tuple[CurrentUser, str] | None:
    """The active user with this username and their password hash, for checking a login."""
    row = await conn.fetchrow(USER_WITH_SITES + " WHERE u.username = $1 AND u.active", username)
    return (current_user_from_row(row), row["password_hash"]) if row else None


async def set_password_hash(conn: asyncpg.Connection, user_id: UUID, password_hash: str) -> None:
    """Store a new hash (after argon2 asks for a rehash with stronger parameters)."""
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)
