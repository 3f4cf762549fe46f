"""Logging in: check the password, upgrade its hash, and say who the user is."""

from __future__ import annotations

import asyncpg

from backend.db.queries import users as q
from backend.domain.models import CurrentUser
from backend.errors import Unauthorized
from backend.services.passwords import hash_password, needs_rehash, verify_password


async def authenticate(conn: asyncpg.Connection, username: str, password: str) -> CurrentUser:
    """The user these credentials belong to, or Unauthorized (the same for a wrong name or password)."""
    found = await q.get_login(conn, username)
    if not verify_password(found[1] if found else None, password) or found is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    user, password_hash = found
    if needs_rehash(password_hash):
        await q.set_password_hash(conn, user.id, hash_password(password))
    return user
