"""What start-up needs from the database: is there an estate yet, and the secrets every process shares."""

from __future__ import annotations

import asyncpg


async def site_count(conn: asyncpg.Connection) -> int:
    """How many sites exist (none means a brand-new database that `caretaker up` may seed)."""
    return await conn.fetchval("SELECT count(*) FROM sites")


async def shared_secret(conn: asyncpg.Connection, name: str, candidate: str) -> str:
    """The secret stored under `name`, storing `candidate` first if there is none.

    Every process races to insert its own candidate; the first one wins and all of them read it back,
    so API replicas started together sign and verify tokens with the same key.
    """
    await conn.execute(
        "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, candidate
    )
    return await conn.fetchval("SELECT value FROM app_secrets WHERE name = $1", name)


async def device_ids(conn: asyncpg.Connection) -> list[str]:
    """Every registered device's MQTT identity (the embedded broker gives each its own login)."""
    return [row["id"] for row in await conn.fetch("SELECT id FROM devices WHERE active ORDER BY id")]


async def owner_link_of_phone(conn: asyncpg.Connection, phone: str) -> str | None:
    """The owner's-page link of the unit where this phone is registered (the first, if several)."""
    return await conn.fetchval(
        """SELECT u.owner_link FROM units u JOIN residents r ON r.unit_id = u.id
           WHERE r.phone = $1 ORDER BY u.id LIMIT 1""",
        phone,
    )
