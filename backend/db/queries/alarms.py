"""SQL for devices as the gateway sees them, device events, alarms, their history and threshold rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries.rows import insert_once, one_page, struct_of
from backend.domain.alarm_ladder import ack_due, reached_role
from backend.domain.alarms import Alarm, AlarmDetail, AlarmEvent, AlarmWorkOrder, ThresholdRule
from backend.domain.site_settings import read_site_settings


class DeviceIdentity(msgspec.Struct, frozen=True):
    """What the gateway checks a message against and what an alarm's work order needs."""

    id: str
    site_id: UUID
    site_code: str
    kind: str
    name: str
    active: bool
    asset_id: UUID | None
    location: str


_ALARM_COLUMNS = """a.id, a.site_id, a.device_id, a.code, a.severity, a.active, a.open, a.count, a.detail,
    a.raised_at, a.last_seen_at, a.cleared_at, a.acked_at, a.acked_by, a.resolved_at, a.resolved_by,
    a.escalation_level, d.name AS device_name, d.kind AS device_kind,
    COALESCE(NULLIF(ast.location, ''), ast.name) AS location, b.name AS building_name, s.code AS site_code,
    s.settings AS site_settings, COALESCE(a.unacked_since, a.raised_at) AS waiting_since,
    wo.id AS wo_id, wo.number AS wo_number, wo.kind AS wo_kind, wo.status AS wo_status,
    wo.assignee_id AS wo_assignee_id, wo.assignee_name AS wo_assignee_name,
    wo.responded_at AS wo_accepted_at, wo.arrived_at AS wo_arrived_at"""
# The alarm's device, site, watched asset and building, and its latest work order (an open one first).
_ALARM_FROM = """alarms a JOIN devices d ON d.id = a.device_id JOIN sites s ON s.id = a.site_id
    LEFT JOIN assets ast ON ast.id = d.asset_id LEFT JOIN buildings b ON b.id = ast.building_id
    LEFT JOIN LATERAL (
        SELECT w.id, w.number, w.kind, w.status, w.assignee_id, u.display_name AS assignee_name,
               w.responded_at, w.arrived_at
        FROM work_orders w LEFT JOIN users u ON u.id = w.assignee_id WHERE w.alarm_id = a.id
        ORDER BY (w.status IN ('closed', 'cancelled')), w.created_at DESC LIMIT 1) wo ON true"""
_DONE_STATUSES = frozenset({"completed", "signed", "closed", "cancelled"})


def _alarm_fields(row: asyncpg.Record) -> dict[str, Any]:
    """The row as Alarm fields, with its next escalation read from the site's own settings."""
    fields = dict(row)
    settings, _ = read_site_settings(fields.pop("site_settings"))
    waiting_since = fields.pop("waiting_since")
    wo = {k[3:]: fields.pop(k) for k in [k for k in fields if k.startswith("wo_")]}
    fields["work_order_id"] = wo["id"]
    if wo["id"] is not None:
        fields["work_order"] = AlarmWorkOrder(**wo, done=wo["status"] in _DONE_STATUSES)
    due = ack_due(
        severity=fields["severity"],
        open=fields["open"],
        acked=fields["acked_at"] is not None,
        waiting_since=waiting_since,
        escalation_level=fields["escalation_level"],
        settings=settings,
    )
    fields.update(
        ack_due_at=due.at, escalates_to=due.role, escalated_to=reached_role(fields["escalation_level"])
    )
    return fields


def _alarm(row: asyncpg.Record) -> Alarm:
    return Alarm(**_alarm_fields(row))


async def devices_by_id(conn: asyncpg.Connection, device_ids: Sequence[str]) -> dict[str, DeviceIdentity]:
    """The devices among these ids, with their site code and the location of the asset they watch."""
    rows = await conn.fetch(
        """SELECT d.id, d.site_id, s.code AS site_code, d.kind, d.name, d.active, d.asset_id,
                  COALESCE(NULLIF(a.location, ''), a.name, d.name) AS location
           FROM devices d JOIN sites s ON s.id = d.site_id LEFT JOIN assets a ON a.id = d.asset_id
           WHERE d.id = ANY($1::text[])""",
        list(device_ids),
    )
    return {r["id"]: DeviceIdentity(**dict(r)) for r in rows}


async def record_device_event(
    conn: asyncpg.Connection,
    *,
    device_id: str,
    event_id: str,
    code: str,
    state: str,
    ts: datetime,
    now: datetime,
) -> bool:
    """Remember (device, eventId); False when it was seen before (a redelivery: change nothing)."""
    values = dict(device_id=device_id, event_id=event_id, code=code, state=state, ts=ts, received_at=now)
    return await insert_once(conn, "device_events", values, "(device_id, event_id)")


async def lock_device_code(conn: asyncpg.Connection, device_id: str, code: str) -> None:
    """Serialise events of one (device, code) across gateway replicas until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))", device_id, code)


async def newest_other_event(
    conn: asyncpg.Connection, device_id: str, code: str, event_id: str
) -> tuple[datetime, str] | None:
    """(ts, state) of the device's newest recorded event for this code, other than `event_id`."""
    row = await conn.fetchrow(
        """SELECT ts, state FROM device_events
           WHERE device_id = $1 AND code = $2 AND event_id <> $3
           ORDER BY ts DESC LIMIT 1""",
        device_id,
        code,
        event_id,
    )
    return (row["ts"], row["state"]) if row else None


async def link_device_event(conn: asyncpg.Connection, device_id: str, event_id: str, alarm_id: UUID) -> None:
    """Note which alarm an event touched."""
    await conn.execute(
        "UPDATE device_events SET alarm_id = $3 WHERE device_id = $1 AND event_id = $2",
        device_id,
        event_id,
        alarm_id,
    )


async def lock_open_alarm(conn: asyncpg.Connection, device_id: str, code: str) -> Alarm | None:
    """The open alarm of (device, code), locked until the transaction ends."""
    row = await conn.fetchrow(
        f"""SELECT {_ALARM_COLUMNS} FROM {_ALARM_FROM}
            WHERE a.device_id = $1 AND a.code = $2 AND a.open FOR UPDATE OF a""",
        device_id,
        code,
    )
    return _alarm(row) if row else None


async def insert_or_bump_alarm(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    device_id: str,
    code: str,
    severity: str,
    detail: dict[str, Any],
    now: datetime,
) -> tuple[UUID, bool]:
    """Open a new alarm, or bump the one a concurrent raise opened first. Returns (id, created)."""
    row = await conn.fetchrow(
        """INSERT INTO alarms (site_id, device_id, code, severity, detail,
                              raised_at, last_seen_at, unacked_since)
           VALUES ($1, $2, $3, $4, $5, $6, $6, $6)
           -- the partial unique index makes racing raises meet here instead of making two alarms
           ON CONFLICT (device_id, code) WHERE open
           DO UPDATE SET count = alarms.count + 1, last_seen_at = EXCLUDED.last_seen_at,
                         active = true, cleared_at = NULL
           RETURNING id, (xmax = 0) AS created""",
        site_id,
        device_id,
        code,
        severity,
        detail,
        now,
    )
    return row["id"], row["created"]


async def bump_alarm(
    conn: asyncpg.Connection, alarm_id: UUID, *, now: datetime, reactivate: bool, detail: dict[str, Any]
) -> None:
    """Count a repeat (or a re-raise within the cool-down, which makes it active again)."""
    await conn.execute(
        """UPDATE alarms SET count = count + 1, last_seen_at = $2, detail = detail || $4,
                  active = active OR $3, cleared_at = CASE WHEN $3 THEN NULL ELSE cleared_at END,
                  -- a re-raise needs acknowledging afresh
                  acked_at = CASE WHEN $3 THEN NULL ELSE acked_at END,
                  acked_by = CASE WHEN $3 THEN NULL ELSE acked_by END,
                  unacked_since = CASE WHEN $3 THEN $2 ELSE unacked_since END,
                  escalation_level = CASE WHEN $3 THEN 0 ELSE escalation_level END
           WHERE id = $1""",
        alarm_id,
        now,
        reactivate,
        detail,
    )


async def close_alarm(conn: asyncpg.Connection, alarm_id: UUID) -> None:
    """Take a cleared alarm past its cool-down out of the open set, making room for a new one."""
    await conn.execute("UPDATE alarms SET open = false WHERE id = $1", alarm_id)


async def clear_alarm(conn: asyncpg.Connection, alarm_id: UUID, now: datetime) -> None:
    """Mark an alarm cleared (it stays open through its cool-down)."""
    await conn.execute(
        "UPDATE alarms SET active = false, cleared_at = $2, last_seen_at = $2 WHERE id = $1", alarm_id, now
    )


async def add_alarm_event(
    conn: asyncpg.Connection,
    alarm_id: UUID,
    action: str,
    at: datetime,
    payload: dict[str, Any] | None = None,
    actor_id: UUID | None = None,
) -> int:
    """Append to an alarm's history."""
    return await conn.fetchval(
        """INSERT INTO alarm_events (alarm_id, action, actor_id, at, payload)
           VALUES ($1, $2, $3, $4, $5) RETURNING id""",
        alarm_id,
        action,
        actor_id,
        at,
        payload or {},
    )


async def get_alarm(conn: asyncpg.Connection, alarm_id: UUID) -> Alarm | None:
    """One alarm."""
    row = await conn.fetchrow(
        f"SELECT {_ALARM_COLUMNS} FROM {_ALARM_FROM} WHERE a.id = $1",
        alarm_id,
    )
    return _alarm(row) if row else None


async def get_alarm_detail(conn: asyncpg.Connection, alarm_id: UUID) -> AlarmDetail | None:
    """One alarm with its history, oldest first."""
    row = await conn.fetchrow(
        f"SELECT {_ALARM_COLUMNS} FROM {_ALARM_FROM} WHERE a.id = $1",
        alarm_id,
    )
    if row is None:
        return None
    events = await conn.fetch(
        "SELECT id, action, at, actor_id, payload FROM alarm_events WHERE alarm_id = $1 ORDER BY id", alarm_id
    )
    return AlarmDetail(**_alarm_fields(row), events=tuple(AlarmEvent(**dict(e)) for e in events))


async def list_alarms(
    conn: asyncpg.Connection, *, site_ids: Sequence[UUID] | None, active: bool | None, limit: int, offset: int
) -> tuple[list[Alarm], int]:
    """One page of the alarms of these sites (None: every site), newest first, and how many there are."""
    where = "($1::uuid[] IS NULL OR a.site_id = ANY($1::uuid[])) AND ($2::boolean IS NULL OR a.active = $2)"
    sites = list(site_ids) if site_ids is not None else None
    rows, total = await one_page(
        conn,
        _ALARM_COLUMNS,
        _ALARM_FROM,
        where,
        "a.last_seen_at DESC, a.id",
        (sites, active),
        limit,
        offset,
        count_from="alarms a",
    )
    return [_alarm(r) for r in rows], total


async def has_work_order(conn: asyncpg.Connection, alarm_id: UUID, *, open_only: bool) -> bool:
    """Whether a work order was made for this alarm (only counting open ones if asked)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM work_orders WHERE alarm_id = $1
                              AND (NOT $2 OR status NOT IN ('closed', 'cancelled')))""",
            alarm_id,
            open_only,
        )
    )


async def threshold_rules_for(
    conn: asyncpg.Connection, site_ids: Sequence[UUID]
) -> dict[tuple[UUID, str], list[ThresholdRule]]:
    """Rules by (site, device kind); a site's own rule replaces the default of that kind, code and side."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (s.id, r.device_kind, r.code, r.direction)
                  s.id AS site_id, r.device_kind, r.metric, r.code, r.direction,
                  r.raise_at, r.clear_at, r.hold_seconds
           FROM UNNEST($1::uuid[]) AS s(id)
           JOIN threshold_rules r ON r.site_id IS NULL OR r.site_id = s.id
           ORDER BY s.id, r.device_kind, r.code, r.direction, r.site_id NULLS LAST""",
        list(site_ids),
    )
    rules: dict[tuple[UUID, str], list[ThresholdRule]] = {}
    for r in rows:
        rules.setdefault((r["site_id"], r["device_kind"]), []).append(struct_of(ThresholdRule, r))
    return rules


class SilentDevice(msgspec.Struct, frozen=True):
    """A device not heard from within the heartbeat timeout."""

    device_id: str
    site_id: UUID
    last_seen_at: datetime


async def claim_silent_devices(conn: asyncpg.Connection, *, silent_since: datetime) -> list[SilentDevice]:
    """Devices believed online but silent since before `silent_since`, locked (other replicas skip them)."""
    rows = await conn.fetch(
        """SELECT s.device_id, d.site_id, s.last_seen_at
           FROM device_state s JOIN devices d ON d.id = s.device_id
           WHERE d.active AND s.online IS DISTINCT FROM false AND s.last_seen_at < $1
           ORDER BY s.last_seen_at
           FOR UPDATE OF s SKIP LOCKED""",
        silent_since,
    )
    return [SilentDevice(**dict(r)) for r in rows]


async def claim_long_offline_alarms(conn: asyncpg.Connection, *, raised_before: datetime) -> list[Alarm]:
    """Active DEVICE_OFFLINE alarms older than the cut-off that have no work order yet, locked."""
    rows = await conn.fetch(
        f"""SELECT {_ALARM_COLUMNS} FROM {_ALARM_FROM}
            -- measured from the start of this offline spell: a flapping alarm keeps its first raised_at;
            -- the detail may come from a device, so a value that is no time falls back to the raise
            WHERE a.code = 'DEVICE_OFFLINE' AND a.open AND a.active
              AND COALESCE(try_timestamptz(a.detail->>'offlineSince'), a.raised_at) < $1
              AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.alarm_id = a.id)
            ORDER BY a.raised_at
            FOR UPDATE OF a SKIP LOCKED""",
        raised_before,
    )
    return [_alarm(r) for r in rows]
