"""Fixtures shared by the abuse tests: bearer tokens minted for any user, a module-wide demo database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from backend.api.security import build_jwt_auth
from backend.services.sessions import start_session
from tests.conftest import TEST_SECRET, _create_database, _drop_database


async def bearer_for(
    conn: asyncpg.Connection, user_id: uuid.UUID | str, *, secret: str = TEST_SECRET, ttl_seconds: int = 3600
) -> dict[str, str]:
    """Authorization headers for a user id: a session opened and a token signed as the app's login does."""
    session_id = await start_session(conn, uuid.UUID(str(user_id)), ttl_seconds)
    token = build_jwt_auth(secret, ttl_seconds).create_token(
        identifier=str(user_id), token_unique_jwt_id=str(session_id)
    )
    return {"Authorization": f"Bearer {token}"}


async def user_ids(conn: asyncpg.Connection) -> dict[str, uuid.UUID]:
    """Every user id by username."""
    return {r["username"]: r["id"] for r in await conn.fetch("SELECT username, id FROM users")}


@pytest.fixture(scope="module")
async def module_db_url(database_server_url: str, demo_template: str) -> AsyncIterator[str]:
    """A demo-estate database shared by one module's tests (for suites too slow to clone per test)."""
    name = f"ct_abuse_{uuid.uuid4().hex[:12]}"
    url = await _create_database(database_server_url, name, template=demo_template)
    yield url
    await _drop_database(database_server_url, name)
