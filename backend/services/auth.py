"""Logging in: check the password, upgrade its hash, and say who the user is."""

from __future__ import annotations

import asyncpg

from backend.db.queries import sites as site_q
from backend.db.queries import users as q
from backend.domain.models import CurrentUser, Me
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


async def profile(conn: asyncpg.Connection, user: CurrentUser) -> Me:
    """The user with their sites' time zones: screens show every time as it is at the site, wherever the
    phone's own clock is set."""
    zones = await site_q.site_zones(conn, list(user.site_ids))
    fields = {f: getattr(user, f) for f in CurrentUser.__struct_fields__}
    first = next((zones[s] for s in user.site_ids if s in zones), None)
    return Me(**fields, time_zone=first, site_time_zones={str(k): v for k, v in zones.items()})
