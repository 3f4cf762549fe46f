"""The migration runner on a real PostgreSQL: idempotent, and safe when several processes start at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from backend.db.migrate import available_migrations, migrate
from backend.db.pool import connect
from tests.conftest import with_database


@pytest.fixture
async def blank_db_url(database_server_url: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even the migrations table."""
    name = f"ct_blank_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield with_database(database_server_url, name)
    admin = await asyncpg.connect(database_server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _applied_rows(url: str) -> list[str]:
    conn = await connect(url)
    try:
        return [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    finally:
        await conn.close()


async def test_the_second_run_applies_nothing(blank_db_url: str) -> None:
    names = [name for name, _ in available_migrations()]
    conn = await connect(blank_db_url)
    try:
        assert await migrate(conn) == names
        assert await migrate(conn) == []
        # the schema is really there, not only recorded
        assert await conn.fetchval("SELECT to_regclass('work_orders') IS NOT NULL")
    finally:
        await conn.close()
    assert await _applied_rows(blank_db_url) == names


async def test_two_processes_migrating_at_once_apply_each_migration_once(blank_db_url: str) -> None:
    names = [name for name, _ in available_migrations()]
    first, second = await connect(blank_db_url), await connect(blank_db_url)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
    finally:
        await first.close()
        await second.close()
    applied = [name for result in results for name in result]
    assert sorted(applied) == names, "every migration applied exactly once between the two"
    assert [] in results, "the one that waited for the lock found nothing left to do"
    assert await _applied_rows(blank_db_url) == names
