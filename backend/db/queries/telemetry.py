"""SQL for telemetry (COPY into the monthly-partitioned table) and each device's latest state."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

_encode = msgspec.json.Encoder().encode


class DeviceState(msgspec.Struct, frozen=True):
    """A device's latest state as the gateway keeps it."""

    device_id: str
    online: bool | None
    last_seen_at: datetime | None
    last_seq: int | None
    metrics: dict[str, Any]
    metrics_at: datetime | None
    pending: dict[str, Any]


class TelemetryRow(msgspec.Struct, frozen=True):
    """One reading to store."""

    device_id: str
    ts: datetime
    seq: int | None
    metrics: dict[str, Any]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    # An async iterable, not a file: asyncpg reads a file source through the default thread pool, a hop to
    # another thread and back for every batch, which showed as the top of the gateway's profile.
    yield data


async def copy_telemetry(conn: asyncpg.Connection, rows: Sequence[TelemetryRow]) -> int:
    """Store readings with COPY (several times faster than INSERT); PostgreSQL routes them to partitions."""
    if not rows:
        return 0
    # Text COPY: the pool's jsonb codec is a text codec, which binary COPY (copy_records_to_table) refuses.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in rows:
        writer.writerow(
            (r.device_id, r.ts.isoformat(), "" if r.seq is None else r.seq, _encode(r.metrics).decode())
        )
    await conn.copy_to_table(
        "telemetry",
        source=_once(buffer.getvalue().encode()),
        columns=["device_id", "ts", "seq", "metrics"],
        format="csv",
    )
    return len(rows)


async def lock_device_states(conn: asyncpg.Connection, device_ids: Sequence[str]) -> dict[str, DeviceState]:
    """The state rows of these devices (made when missing), locked in id order so replicas never deadlock."""
    await conn.execute(
        """INSERT INTO device_state (device_id) SELECT UNNEST($1::text[]) ORDER BY 1
           ON CONFLICT (device_id) DO NOTHING""",
        sorted(device_ids),
    )
    rows = await conn.fetch(
        """SELECT device_id, online, last_seen_at, last_seq, metrics, metrics_at, pending
           FROM device_state WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR UPDATE""",
        sorted(device_ids),
    )
    return {r["device_id"]: DeviceState(**dict(r)) for r in rows}


async def save_device_states(conn: asyncpg.Connection, states: Sequence[DeviceState]) -> None:
    """Write back the latest readings, sequence, liveness and threshold bookkeeping."""
    await conn.executemany(
        """UPDATE device_state SET online = $2, last_seen_at = $3, last_seq = $4, metrics = $5,
                  metrics_at = $6, pending = $7
           WHERE device_id = $1""",
        [
            (s.device_id, s.online, s.last_seen_at, s.last_seq, s.metrics, s.metrics_at, s.pending)
            for s in states
        ],
    )


async def set_device_status(
    conn: asyncpg.Connection, device_id: str, *, online: bool, now: datetime
) -> bool | None:
    """Record online/offline; returns what it was before (None: unknown)."""
    before = await conn.fetchval("SELECT online FROM device_state WHERE device_id = $1 FOR UPDATE", device_id)
    await conn.execute(
        """INSERT INTO device_state (device_id, online, status_at, last_seen_at) VALUES ($1, $2, $3, $3)
           ON CONFLICT (device_id) DO UPDATE SET online = $2, status_at = $3, last_seen_at = $3""",
        device_id,
        online,
        now,
    )
    return before


async def mark_offline(conn: asyncpg.Connection, device_id: str, now: datetime) -> None:
    """A heartbeat timeout: the device counts as offline from now on."""
    await conn.execute(
        "UPDATE device_state SET online = false, status_at = $2 WHERE device_id = $1", device_id, now
    )


async def latest_telemetry(conn: asyncpg.Connection, device_id: str, limit: int = 100) -> list[TelemetryRow]:
    """A device's latest readings, newest first."""
    rows = await conn.fetch(
        "SELECT device_id, ts, seq, metrics FROM telemetry WHERE device_id = $1 ORDER BY ts DESC LIMIT $2",
        device_id,
        limit,
    )
    return [TelemetryRow(**dict(r)) for r in rows]
