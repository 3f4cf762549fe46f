"""Upkeep of the month-partitioned telemetry table."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def ensure_telemetry_partitions(conn: asyncpg.Connection, at: datetime) -> None:
    """Make the partitions for the month of `at` and the month after (a no-op when they exist)."""
    await conn.execute(
        """SELECT ensure_telemetry_partition(date_trunc('month', $1::timestamptz)::date),
                  -- next month too, so midnight on the 1st never lands in the default partition
                  ensure_telemetry_partition(
                      (date_trunc('month', $1::timestamptz) + interval '1 month')::date)
        """,
        at,
    )
