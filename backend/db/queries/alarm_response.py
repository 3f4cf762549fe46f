"""SQL for people answering alarms: acknowledgement, resolution and escalation of unacknowledged alarms."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

# DESIGN.md: not acknowledged by a guard in 60 s → supervisor, in 180 s → manager (per-site overrides).
DEFAULT_SUPERVISOR_SECONDS = 60
DEFAULT_MANAGER_SECONDS = 180


class AlarmResponseState(msgspec.Struct, frozen=True):
    """The parts of an alarm that acknowledgement and resolution decide on."""

    id: UUID
    site_id: UUID
    open: bool
    waiting_since: datetime  # the raise, or the latest re-raise: when acknowledgement became due
    acked_at: datetime | None
    acked_by: UUID | None


class UnackedAlarm(msgspec.Struct, frozen=True):
    """An unacknowledged alarm past at least one of its site's escalation deadlines."""

    id: UUID
    site_id: UUID
    device_id: str
    device_name: str
    code: str
    severity: str
    waiting_since: datetime
    escalation_level: int
    supervisor_seconds: int
    manager_seconds: int


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


async def claim_unacked_alarms(
    conn: asyncpg.Connection, *, now: datetime, severities: tuple[str, ...], limit: int = 200
) -> list[UnackedAlarm]:
    """Open, unacknowledged alarms whose next escalation step is due, locked (other replicas skip them)."""
    rows = await conn.fetch(
        """WITH limits AS (
               SELECT s.id AS site_id,
                      COALESCE((s.settings->>'alarmAckSupervisorSeconds')::int, $3) AS supervisor_seconds,
                      COALESCE((s.settings->>'alarmAckManagerSeconds')::int, $4) AS manager_seconds
               FROM sites s)
           SELECT a.id, a.site_id, a.device_id, d.name AS device_name, a.code, a.severity,
                  COALESCE(a.unacked_since, a.raised_at) AS waiting_since,
                  a.escalation_level, l.supervisor_seconds, l.manager_seconds
           FROM alarms a JOIN limits l ON l.site_id = a.site_id JOIN devices d ON d.id = a.device_id
           WHERE a.open AND a.acked_at IS NULL AND a.severity = ANY($2::text[])
             AND ((a.escalation_level < 1
                   AND COALESCE(a.unacked_since, a.raised_at)
                       <= $1::timestamptz - make_interval(secs => l.supervisor_seconds))
               OR (a.escalation_level < 2
                   AND COALESCE(a.unacked_since, a.raised_at)
                       <= $1::timestamptz - make_interval(secs => l.manager_seconds)))
           ORDER BY waiting_since
           LIMIT $5
           FOR UPDATE OF a SKIP LOCKED""",
        now,
        list(severities),
        DEFAULT_SUPERVISOR_SECONDS,
        DEFAULT_MANAGER_SECONDS,
        limit,
    )
    return [UnackedAlarm(**dict(r)) for r in rows]


async def set_escalation_level(conn: asyncpg.Connection, alarm_id: UUID, level: int) -> None:
    """Remember how far the alarm has been escalated so no step repeats."""
    await conn.execute("UPDATE alarms SET escalation_level = $2 WHERE id = $1", alarm_id, level)
