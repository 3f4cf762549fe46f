"""The migration runner on a real PostgreSQL: idempotent, and safe when several processes start at once."""

from __future__ import annotations

import asyncio

from backend.db.migrate import available_migrations, migrate
from backend.db.pool import connect


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
