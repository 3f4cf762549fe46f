"""Device events, telemetry and liveness become alarms, and alarms become emergency work orders.

Every function takes a connection already in a transaction: the alarm, its history, its work order, the
notifications and the live-stream event commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import alarms as q
from backend.db.queries import telemetry as tq
from backend.db.queries.alarms import DeviceIdentity
from backend.db.queries.telemetry import DeviceState, TelemetryRow
from backend.domain.alarm_codes import ALARM_CODES, DEVICE_OFFLINE, AlarmSpec
from backend.domain.alarms import (
    Alarm,
    AlarmDetail,
    AlarmPage,
    RaiseOutcome,
    ThresholdRule,
    decide_raise,
    evaluate_thresholds,
    is_stale_event,
)
from backend.domain.models import CurrentUser
from backend.errors import NotFound, ValidationFailed
from backend.services import emergency, intake, notifications, owner_updates
from backend.services.job_context import JobContext
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.sites import site_for

log = logging.getLogger(__name__)

# Devices report at least every 30 s; four missed reports mean the device (or its link) is gone.
HEARTBEAT_TIMEOUT_SECONDS = 120
# DESIGN.md: a device still offline after 10 minutes gets a P3 inspection.
OFFLINE_INSPECTION_AFTER_SECONDS = 600
OFFLINE_INSPECTION_PRIORITY = 3

# Which repair category an inspection of a silent device belongs to.
_CATEGORY_OF_DEVICE_KIND = {
    "elevator": "elevator",
    "pump": "water",
    "pressure": "water",
    "tank": "water",
    "leak": "water",
    "power": "electrical",
    "generator": "electrical",
}


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    """The alarm as the live stream carries it (camelCase, JSON types)."""
    return msgspec.to_builtins(alarm)


@dataclass
class EventResult:
    """What recording one device event did."""

    duplicate: bool = False
    alarm: Alarm | None = None
    outcome: str | None = None
    work_order_id: UUID | None = None


async def record_device_event(
    conn: asyncpg.Connection,
    device: DeviceIdentity,
    *,
    event_id: str,
    code: str,
    state: str,
    ts: datetime,
    detail: dict[str, Any],
    now: datetime,
) -> EventResult:
    """Apply a device's raised/cleared event once: a second delivery of the same eventId changes nothing."""
    spec = ALARM_CODES.get(code)
    if spec is None or device.kind not in spec.device_kinds:
        raise ValidationFailed(f"{code} is not an alarm code of a {device.kind} device", field="code")
    await q.lock_device_code(conn, device.id, code)
    if not await q.record_device_event(
        conn, device_id=device.id, event_id=event_id, code=code, state=state, ts=ts, now=now
    ):
        return EventResult(duplicate=True)
    if is_stale_event(state, ts, await q.newest_other_event(conn, device.id, code, event_id)):
        return await _record_stale_event(
            conn, device, code, now=now, source={"eventId": event_id, "state": state}
        )
    if state == "raised":
        result = await raise_alarm(conn, device, spec, detail=detail, now=now, source={"eventId": event_id})
    else:
        result = await clear_alarm(conn, device, code, now=now, source={"eventId": event_id})
    if result.alarm is not None:
        await q.link_device_event(conn, device.id, event_id, result.alarm.id)
    return result


async def raise_alarm(
    conn: asyncpg.Connection,
    device: DeviceIdentity,
    spec: AlarmSpec,
    *,
    detail: dict[str, Any],
    now: datetime,
    source: dict[str, Any],
) -> EventResult:
    """Open an alarm, count a repeat, or re-open one cleared within the cool-down; make its work order."""
    current = await q.lock_open_alarm(conn, device.id, spec.code)
    outcome = decide_raise(
        open_active=current.active if current else None,
        cleared_at=current.cleared_at if current else None,
        now=now,
        cooldown_seconds=spec.cooldown_seconds,
    )
    if outcome is RaiseOutcome.REPLACE:
        assert current is not None
        await q.close_alarm(conn, current.id)
        current = None
    if current is None:
        alarm_id, created = await q.insert_or_bump_alarm(
            conn,
            site_id=device.site_id,
            device_id=device.id,
            code=spec.code,
            severity=spec.severity,
            detail=detail,
            now=now,
        )
        # a replica that lost the race on the unique index bumped the winner's alarm instead
        outcome = RaiseOutcome.NEW if created else RaiseOutcome.REPEATED
    else:
        alarm_id = current.id
        await q.bump_alarm(
            conn, alarm_id, now=now, reactivate=outcome is RaiseOutcome.RERAISED, detail=detail
        )
    history_id = await q.add_alarm_event(conn, alarm_id, outcome.value, now, {**source, "detail": detail})

    work_order_id = None
    opens_work = outcome in (RaiseOutcome.NEW, RaiseOutcome.RERAISED) and spec.work_order_kind is not None
    if opens_work and not await q.has_work_order(conn, alarm_id, open_only=True):
        work_order_id = await _open_work_order(
            conn, device, spec, alarm_id, kind=spec.work_order_kind, priority=spec.priority or 2, now=now
        )
    alarm = await q.get_alarm(conn, alarm_id)
    assert alarm is not None
    if outcome in (RaiseOutcome.NEW, RaiseOutcome.RERAISED):
        await notifications.notify_roles(
            conn,
            site_id=device.site_id,
            roles=spec.tell_roles,
            kind="alarm",
            title=f"{spec.label_zh} · {device.name}",
            body=device.location,
            data={
                "alarmId": str(alarm_id),
                "code": spec.code,
                "deviceId": device.id,
                "severity": spec.severity,
                "ackDueAt": alarm.ack_due_at.isoformat() if alarm.ack_due_at else None,
                "escalationLevel": alarm.escalation_level,
            },
            urgency="high" if spec.severity == "critical" else "normal",
            # one message per person per raise, however often this transaction is retried
            dedupe_key=f"alarm:{alarm_id}:{history_id}",
        )
        await notifications.publish(conn, site_id=device.site_id, type="alarm.raised", data=alarm_json(alarm))
        await owner_updates.after_alarm(
            conn, alarm_id=alarm_id, device_id=device.id, code=spec.code, cleared=False, now=now
        )
    else:
        await notifications.publish(
            conn, site_id=device.site_id, type="alarm.updated", data=alarm_json(alarm)
        )
    return EventResult(alarm=alarm, outcome=outcome.value, work_order_id=work_order_id)


async def _record_stale_event(
    conn: asyncpg.Connection, device: DeviceIdentity, code: str, *, now: datetime, source: dict[str, Any]
) -> EventResult:
    """Keep an out-of-order event in the alarm's history without letting it change the alarm."""
    current = await q.lock_open_alarm(conn, device.id, code)
    if current is not None:
        await q.add_alarm_event(conn, current.id, "stale", now, source)
    return EventResult(alarm=current, outcome="stale")


async def clear_alarm(
    conn: asyncpg.Connection, device: DeviceIdentity, code: str, *, now: datetime, source: dict[str, Any]
) -> EventResult:
    """Clear the open alarm of (device, code); a clear with nothing active is recorded and changes nothing."""
    current = await q.lock_open_alarm(conn, device.id, code)
    if current is None or not current.active:
        return EventResult(alarm=current, outcome="noop")
    await q.clear_alarm(conn, current.id, now)
    await q.add_alarm_event(conn, current.id, "cleared", now, source)
    alarm = await q.get_alarm(conn, current.id)
    assert alarm is not None
    await notifications.publish(conn, site_id=device.site_id, type="alarm.updated", data=alarm_json(alarm))
    await owner_updates.after_alarm(
        conn, alarm_id=current.id, device_id=device.id, code=code, cleared=True, now=now
    )
    return EventResult(alarm=alarm, outcome="cleared")


async def _open_work_order(
    conn: asyncpg.Connection,
    device: DeviceIdentity,
    spec: AlarmSpec,
    alarm_id: UUID,
    *,
    kind: str,
    priority: int,
    now: datetime,
) -> UUID:
    category = (
        spec.category if spec.code != DEVICE_OFFLINE else _CATEGORY_OF_DEVICE_KIND.get(device.kind, "other")
    )
    order = await intake.create_work_order(
        conn,
        actor=None,
        site_id=device.site_id,
        kind=kind,
        category=category,
        priority=priority,
        title=f"{spec.label_zh}:{device.name}",
        # in the estate's words, like the title: the code itself is for machines, not for the technician
        description=f"设备报警：{spec.label_zh}（{device.name}，设备编号 {device.id}）",
        channel="sensor",
        asset_id=device.asset_id,
        alarm_id=alarm_id,
        location=device.location,
        in_home=False,
        now=now,
        auto_assign=True,
    )
    if kind == "emergency":
        # the scenario's plan becomes the job's timed checklist, on the guard's console and the job screen
        await emergency.start_plan(
            conn,
            site_id=device.site_id,
            work_order_id=order.id,
            alarm_id=alarm_id,
            alarm_code=spec.code,
            now=now,
        )
    return order.id


@dataclass
class TelemetryReading:
    """One decoded telemetry message of a known device."""

    device: DeviceIdentity
    ts: datetime
    seq: int | None
    metrics: dict[str, Any]


@dataclass
class TelemetryResult:
    """What storing a batch did."""

    stored: int = 0
    duplicates: int = 0
    raised: list[Alarm] = field(default_factory=list)
    cleared: list[Alarm] = field(default_factory=list)


def _is_redelivery(state: DeviceState, reading: TelemetryReading) -> bool:
    # A redelivered message repeats a seq and ts already stored; a rebooted device restarts its seq
    # but with a newer ts, so both must be old.
    return (
        reading.seq is not None
        and state.last_seq is not None
        and reading.seq <= state.last_seq
        and state.metrics_at is not None
        and reading.ts <= state.metrics_at
    )


async def record_telemetry_batch(
    conn: asyncpg.Connection, readings: Sequence[TelemetryReading], *, now: datetime
) -> TelemetryResult:
    """Store a batch with one COPY, update each device's latest state and apply its threshold rules."""
    result = TelemetryResult()
    if not readings:
        return result
    devices = {r.device.id: r.device for r in readings}
    states = await tq.lock_device_states(conn, list(devices))
    rules = await q.threshold_rules_for(conn, list({d.site_id for d in devices.values()}))
    rows: list[TelemetryRow] = []
    came_back: set[str] = set()
    decisions: list[tuple[DeviceIdentity, Any]] = []
    for reading in readings:
        state = states[reading.device.id]
        if _is_redelivery(state, reading):
            result.duplicates += 1
            continue
        rows.append(
            TelemetryRow(device_id=reading.device.id, ts=reading.ts, seq=reading.seq, metrics=reading.metrics)
        )
        if state.online is False:
            came_back.add(reading.device.id)
        device_rules: list[ThresholdRule] = rules.get((reading.device.site_id, reading.device.kind), [])
        due, pending = evaluate_thresholds(device_rules, reading.metrics, state.pending, now)
        decisions.extend((reading.device, d) for d in due)
        newest = state.metrics_at is None or reading.ts >= state.metrics_at
        states[reading.device.id] = msgspec.structs.replace(
            state,
            online=True,
            last_seen_at=now,
            last_seq=reading.seq if newest and reading.seq is not None else state.last_seq,
            metrics={**state.metrics, **reading.metrics} if newest else state.metrics,
            metrics_at=max(reading.ts, state.metrics_at) if state.metrics_at else reading.ts,
            pending=pending,
        )
    result.stored = await tq.copy_telemetry(conn, rows)
    await tq.save_device_states(conn, list(states.values()))
    for device_id in sorted(came_back):
        cleared = await clear_alarm(
            conn, devices[device_id], DEVICE_OFFLINE, now=now, source={"reason": "telemetry"}
        )
        if cleared.outcome == "cleared" and cleared.alarm:
            result.cleared.append(cleared.alarm)
    for device, decision in decisions:
        spec = ALARM_CODES[decision.rule.code]
        source = {
            "metric": decision.rule.metric,
            "value": decision.value,
            "threshold": decision.rule.raise_at,
        }
        if decision.action == "raise":
            raised = await raise_alarm(
                conn, device, spec, detail=source, now=now, source={"reason": "threshold"}
            )
            if raised.alarm:
                result.raised.append(raised.alarm)
        else:
            cleared = await clear_alarm(
                conn, device, spec.code, now=now, source={"reason": "threshold", **source}
            )
            if cleared.alarm and cleared.outcome == "cleared":
                result.cleared.append(cleared.alarm)
    return result


async def record_device_status(
    conn: asyncpg.Connection, device: DeviceIdentity, *, online: bool, now: datetime
) -> EventResult:
    """`offline` (a Last Will, or said on purpose) raises DEVICE_OFFLINE at once; `online` clears it."""
    was_online = await tq.set_device_status(conn, device.id, online=online, now=now)
    if online:
        if was_online is False:
            return await clear_alarm(conn, device, DEVICE_OFFLINE, now=now, source={"reason": "status"})
        return EventResult(outcome="noop")
    if was_online is False:
        # a retained `offline` re-sent on reconnect is not news
        return EventResult(outcome="noop")
    return await raise_alarm(
        conn,
        device,
        ALARM_CODES[DEVICE_OFFLINE],
        detail={"offlineSince": now.isoformat(), "reason": "status"},
        now=now,
        source={"reason": "status"},
    )


async def check_device_heartbeats(conn: asyncpg.Connection, *, now: datetime) -> tuple[int, int]:
    """Raise DEVICE_OFFLINE for devices silent past the timeout; open a P3 inspection for those offline
    10 minutes. Returns (raised, inspections)."""
    silent = await q.claim_silent_devices(
        conn, silent_since=now - timedelta(seconds=HEARTBEAT_TIMEOUT_SECONDS)
    )
    devices = await q.devices_by_id(conn, [s.device_id for s in silent])
    raised = 0
    for s in silent:
        device = devices[s.device_id]
        # a savepoint per device: one that cannot be marked must not stop the watch over the others
        async with savepoint_skipped_on_failure(
            conn, site=device.site_code, subject=f"device {device.id} gone silent"
        ):
            await tq.mark_offline(conn, s.device_id, now)
            await raise_alarm(
                conn,
                device,
                ALARM_CODES[DEVICE_OFFLINE],
                detail={
                    "offlineSince": now.isoformat(),
                    "reason": "heartbeat",
                    "lastSeenAt": s.last_seen_at.isoformat(),
                },
                now=now,
                source={"reason": "heartbeat"},
            )
            raised += 1
    long_offline = await q.claim_long_offline_alarms(
        conn, raised_before=now - timedelta(seconds=OFFLINE_INSPECTION_AFTER_SECONDS)
    )
    devices = await q.devices_by_id(conn, [a.device_id for a in long_offline])
    inspections = 0
    for alarm in long_offline:
        device = devices[alarm.device_id]
        async with savepoint_skipped_on_failure(
            conn, site=device.site_code, subject=f"inspection for device {device.id}"
        ):
            await _open_work_order(
                conn,
                device,
                ALARM_CODES[DEVICE_OFFLINE],
                alarm.id,
                kind="inspection",
                priority=OFFLINE_INSPECTION_PRIORITY,
                now=now,
            )
            inspections += 1
    return raised, inspections


async def lookup_devices(conn: asyncpg.Connection, device_ids: Sequence[str]) -> dict[str, DeviceIdentity]:
    """Devices by id, for the gateway's identity checks."""
    return await q.devices_by_id(conn, device_ids)


async def list_alarms(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    site: str | None,
    active: bool | None,
    limit: int = 100,
    offset: int = 0,
) -> AlarmPage:
    """Alarms the caller may see, newest first; `site` (code or id) narrows to one of the caller's sites."""
    if site:
        site_ids: list[UUID] | None = [(await site_for(conn, user, site)).id]
    else:
        site_ids = None if user.is_admin else list(user.site_ids)
    items, total = await q.list_alarms(conn, site_ids=site_ids, active=active, limit=limit, offset=offset)
    return AlarmPage(items=items, total=total, limit=limit, offset=offset)


async def get_alarm(conn: asyncpg.Connection, user: CurrentUser, alarm_id: UUID) -> AlarmDetail:
    """One alarm with its history; another site's alarm is NotFound."""
    alarm = await q.get_alarm_detail(conn, alarm_id)
    if alarm is None or not user.may_see_site(alarm.site_id):
        raise NotFound("no such alarm")
    return alarm


async def watch_device_heartbeats(ctx: JobContext) -> tuple[int, int]:
    """Scheduler job: check_device_heartbeats in its own transaction (rows claimed with SKIP LOCKED)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await check_device_heartbeats(conn, now=ctx.clock.now())
