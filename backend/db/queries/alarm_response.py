"""SQL for people answering alarms: acknowledgement, resolution and escalation of unacknowledged alarms.

The ladder itself (who, after how long) is backend/domain/alarm_ladder.py; this module only stores and claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class AlarmResponseState(msgspec.Struct, frozen=True):
    """The parts of an alarm that acknowledgement and resolution decide on."""

    id: UUID
    site_id: UUID
    open: bool
    waiting_since: datetime  # the raise, or the latest re-raise: when acknowledgement became due
    acked_at: datetime | None
    acked_by: UUID | None


class UnackedAlarm(msgspec.Struct, frozen=True):
    """An unacknowledged alarm whose next escalation step is due."""

    id: UUID
    site_id: UUID
    site_code: str
    device_id: str
    device_name: str
    code: str
    severity: str
    waiting_since: datetime
    escalation_level: int


async def lock_alarm(conn: asyncpg.Connection, alarm_id: UUID) -> AlarmResponseState | None:
    """The alarm, locked until the transaction ends (a racing ack or escalation waits)."""
    row = await conn.fetchrow(
        """SELECT id, site_id, open, COALESCE(unacked_since, raised_at) AS waiting_since, acked_at, acked_by
           FROM alarms WHERE id = $1 FOR UPDATE""",
        alarm_id,
    )
    return AlarmResponseState(**dict(row)) if row else None


async def record_ack(conn: asyncpg.Connection, alarm_id: UUID, *, user_id: UUID, at: datetime) -> None:
    """Note who acknowledged the alarm and when (the KPI's acknowledgement time)."""
    await conn.execute("UPDATE alarms SET acked_at = $2, acked_by = $3 WHERE id = $1", alarm_id, at, user_id)


async def record_resolution(conn: asyncpg.Connection, alarm_id: UUID, *, user_id: UUID, at: datetime) -> None:
    """Close the alarm as dealt with; resolving implies acknowledging when nobody had yet."""
    await conn.execute(
        """UPDATE alarms SET open = false, active = false, cleared_at = COALESCE(cleared_at, $2),
                  resolved_at = $2, resolved_by = $3,
                  acked_at = COALESCE(acked_at, $2), acked_by = COALESCE(acked_by, $3)
           WHERE id = $1""",
        alarm_id,
        at,
        user_id,
    )


class SiteSettingsRow(msgspec.Struct, frozen=True):
    """A site's settings as stored (checked by the caller, not here)."""

    id: UUID
    code: str
    settings: Any


class AckDeadline(msgspec.Struct, frozen=True):
    """One rung of one site's escalation ladder: reached this many seconds after the alarm began waiting."""

    site_id: UUID
    level: int
    seconds: int


async def site_settings(conn: asyncpg.Connection) -> list[SiteSettingsRow]:
    """Every site's stored settings."""
    rows = await conn.fetch("SELECT id, code, settings FROM sites ORDER BY code")
    return [SiteSettingsRow(**dict(r)) for r in rows]


async def claim_unacked_alarms(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    severities: tuple[str, ...],
    deadlines: Sequence[AckDeadline],
    limit: int = 200,
) -> list[UnackedAlarm]:
    """Open, unacknowledged alarms whose next rung is due, locked (other replicas skip them).

    The deadlines come checked from the caller: a stored setting is never cast here, where one bad value
    would fail the query for every site. Rungs fall due in order, so only the next one needs checking.
    """
    rows = await conn.fetch(
        """WITH ladder AS (
               SELECT * FROM UNNEST($3::uuid[], $4::int[], $5::int[]) AS l(site_id, level, seconds))
           SELECT a.id, a.site_id, s.code AS site_code, a.device_id, d.name AS device_name, a.code,
                  a.severity, COALESCE(a.unacked_since, a.raised_at) AS waiting_since, a.escalation_level
           FROM alarms a JOIN ladder l ON l.site_id = a.site_id AND l.level = a.escalation_level + 1
                JOIN devices d ON d.id = a.device_id JOIN sites s ON s.id = a.site_id
           WHERE a.open AND a.acked_at IS NULL AND a.severity = ANY($2::text[])
             AND COALESCE(a.unacked_since, a.raised_at) <= $1::timestamptz - make_interval(secs => l.seconds)
           ORDER BY waiting_since
           LIMIT $6
           FOR UPDATE OF a SKIP LOCKED""",
        now,
        list(severities),
        [d.site_id for d in deadlines],
        [d.level for d in deadlines],
        [d.seconds for d in deadlines],
        limit,
    )
    return [UnackedAlarm(**dict(r)) for r in rows]


async def set_escalation_level(conn: asyncpg.Connection, alarm_id: UUID, level: int) -> None:
    """Remember how far the alarm has been escalated so no step repeats."""
    await conn.execute("UPDATE alarms SET escalation_level = $2 WHERE id = $1", alarm_id, level)
