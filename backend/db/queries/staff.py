"""Staff accounts as colleagues see them: lists for dispatch, creation, duty and deactivation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.rows import struct_of
from backend.domain.registry import StaffMember
from backend.errors import Conflict

_STAFF = """
    SELECT u.id, u.username, u.display_name, u.role, u.phone, u.skills, u.on_duty, u.active, u.locale,
           ARRAY(SELECT site_id FROM user_sites WHERE user_id = u.id ORDER BY site_id) AS site_ids
    FROM users u
"""


def _staff(row: asyncpg.Record) -> StaffMember:
    return struct_of(StaffMember, row, skills=list(row["skills"]), site_ids=list(row["site_ids"]))


async def get_staff(conn: asyncpg.Connection, user_id: UUID) -> StaffMember | None:
    """One user (without the password hash)."""
    row = await conn.fetchrow(_STAFF + " WHERE u.id = $1", user_id)
    return _staff(row) if row else None


async def list_staff(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    role: str | None,
    skill: str | None,
    on_duty: bool | None,
    active: bool | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[StaffMember], int]:
    """Users who are members of one of these sites (every user when `site_ids` is None)."""
    conditions: list[str] = []
    args: list[Any] = []

    def add(condition: str, value: Any) -> None:
        args.append(value)
        conditions.append(condition.replace("?", f"${len(args)}"))

    if site_ids is not None:
        add(
            "EXISTS (SELECT 1 FROM user_sites s WHERE s.user_id = u.id AND s.site_id = ANY(?::uuid[]))",
            list(site_ids),
        )
    if site_id is not None:
        add("EXISTS (SELECT 1 FROM user_sites s WHERE s.user_id = u.id AND s.site_id = ?)", site_id)
    if role:
        add("u.role = ?", role)
    if skill:
        add("? = ANY(u.skills)", skill)
    if on_duty is not None:
        add("u.on_duty = ?", on_duty)
    if active is not None:
        add("u.active = ?", active)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        add("(u.username ILIKE ? OR u.display_name ILIKE ? OR coalesce(u.phone, '') ILIKE ?)", pattern)
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    total = await conn.fetchval(f"SELECT count(*) FROM users u{where}", *args)
    n = len(args)
    rows = await conn.fetch(
        f"{_STAFF}{where} ORDER BY u.role, u.username LIMIT ${n + 1} OFFSET ${n + 2}", *args, limit, offset
    )
    return [_staff(r) for r in rows], total


async def insert_user(
    conn: asyncpg.Connection,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: str,
    phone: str | None,
    skills: Sequence[str],
    on_duty: bool,
    site_ids: Sequence[UUID],
) -> UUID:
    """A new user and their site memberships; Conflict when the username is taken."""
    user_id = await conn.fetchval(
        """INSERT INTO users (username, display_name, password_hash, role, phone, skills, on_duty)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7)
           ON CONFLICT (username) DO NOTHING RETURNING id""",
        username,
        display_name,
        password_hash,
        role,
        phone,
        list(skills),
        on_duty,
    )
    if user_id is None:
        raise Conflict(f"the username {username} is taken", code="username_taken")
    await set_memberships(conn, user_id, site_ids)
    return user_id


async def set_memberships(conn: asyncpg.Connection, user_id: UUID, site_ids: Sequence[UUID]) -> None:
    """Make the user a member of exactly these sites."""
    await conn.execute(
        "DELETE FROM user_sites WHERE user_id = $1 AND NOT site_id = ANY($2::uuid[])", user_id, list(site_ids)
    )
    await conn.execute(
        """INSERT INTO user_sites (user_id, site_id) SELECT $1, s FROM UNNEST($2::uuid[]) AS s
           ON CONFLICT DO NOTHING""",
        user_id,
        list(site_ids),
    )


_USER_COLUMNS = {"display_name": "", "role": "", "phone": "", "skills": "::text[]", "on_duty": "",
                 "active": "", "locale": "", "password_hash": ""}  # fmt: skip


async def update_user(conn: asyncpg.Connection, user_id: UUID, changes: dict[str, Any]) -> bool:
    """Change some fields of a user; False when there is no such user."""
    if not changes:
        return await conn.fetchval("SELECT true FROM users WHERE id = $1", user_id) is not None
    # column names come from the fixed table above, never from the request
    sets = ", ".join(f"{name} = ${i + 2}{_USER_COLUMNS[name]}" for i, name in enumerate(changes))
    return (
        await conn.execute(f"UPDATE users SET {sets} WHERE id = $1", user_id, *changes.values()) == "UPDATE 1"
    )
