"""The asyncpg pool: JSON codecs set once per connection so jsonb columns read and write as Python values."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


async def init_connection(conn: asyncpg.Connection) -> None:
    """Register jsonb/json codecs (msgspec is several times faster than the json module)."""
    for name in ("jsonb", "json"):
        await conn.set_type_codec(
            name,
            schema="pg_catalog",
            encoder=lambda v: _json_encode(v).decode(),
            decoder=_json_decode,
            format="text",
        )


# No JIT compilation: every statement here reads a few rows through an index, or a report's rollups. JIT
# starts whenever a plan's estimated cost passes a threshold, and a generic plan estimates from averages: one
# technician's 50 open jobs were costed as the average over all technicians (11,500 with one busy colleague),
# and compiling took 12-35 ms of a 0.5 ms query. The KPI report's larger periods tripped it the same way.
SERVER_SETTINGS = {"jit": "off"}


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    """Open a pool whose connections all have Caretaker's codecs and settings."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        # a stuck statement must not hold a technician's request forever
        command_timeout=30,
        server_settings=SERVER_SETTINGS,
        **kwargs,
    )


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with Caretaker's codecs and settings (CLI commands, the gateway's listener)."""
    conn = await asyncpg.connect(dsn, server_settings=SERVER_SETTINGS)
    await init_connection(conn)
    return conn
