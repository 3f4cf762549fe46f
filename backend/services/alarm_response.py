"""People answering alarms: a guard acknowledges and resolves; an alarm nobody acknowledges climbs the ladder.

Each step is an alarm event, an `alarm.updated` on the live stream and, for escalations, a push to the
people it escalates to — all in the caller's transaction, so they happen together or not at all. Each alarm's
steps are a savepoint of their own, and each site's deadlines are read through its checked settings: one
alarm or one site's bad setting never holds up the escalation of the others.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import alarm_response as q
from backend.db.queries import alarms as alarm_queries
from backend.domain import alarm_ladder
from backend.domain.alarm_codes import ALARM_CODES
from backend.domain.alarms import Alarm
from backend.domain.models import CurrentUser
from backend.domain.site_settings import SiteSettings, read_site_settings
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.services.job_health import report_fault, savepoint_skipped_on_failure
from backend.services.notifications import notify_roles, publish


def alarm_payload(alarm: Alarm) -> dict[str, Any]:
    """The alarm as the stream and the API show it (camelCase, JSON-ready)."""
    return msgspec.to_builtins(alarm)


async def _visible_alarm(conn: asyncpg.Connection, user: CurrentUser, alarm_id: UUID) -> q.AlarmResponseState:
    state = await q.lock_alarm(conn, alarm_id)
    # another site's alarm answers like a missing one, so ids cannot be probed
    if state is None or not user.may_see_site(state.site_id):
        raise NotFound("no such alarm", code="alarm_not_found")
    return state


async def _publish_alarm(conn: asyncpg.Connection, alarm_id: UUID) -> Alarm:
    alarm = await alarm_queries.get_alarm(conn, alarm_id)
    assert alarm is not None  # locked by this transaction a moment ago
    await publish(conn, site_id=alarm.site_id, type="alarm.updated", data=alarm_payload(alarm))
    return alarm


async def acknowledge_alarm(
    conn: asyncpg.Connection, user: CurrentUser, alarm_id: UUID, *, now: datetime
) -> Alarm:
    """Record that someone has taken the alarm on; stops its escalation. A second ack is a 409."""
    state = await _visible_alarm(conn, user, alarm_id)
    if state.acked_at is not None:
        current = await alarm_queries.get_alarm(conn, alarm_id)
        raise Conflict(
            "this alarm is already acknowledged",
            code="alarm_already_acknowledged",
            extra={"alarm": alarm_payload(current)} if current else None,
        )
    if not state.open:
        raise Conflict("this alarm is already resolved", code="alarm_resolved")
    await q.record_ack(conn, alarm_id, user_id=user.id, at=now)
    seconds = max(0.0, (now - state.waiting_since).total_seconds())
    await alarm_queries.add_alarm_event(
        conn, alarm_id, "acked", now, {"secondsToAck": round(seconds, 1), "role": user.role}, actor_id=user.id
    )
    return await _publish_alarm(conn, alarm_id)


async def resolve_alarm(
    conn: asyncpg.Connection, user: CurrentUser, alarm_id: UUID, *, now: datetime, note: str | None = None
) -> Alarm:
    """Close the alarm as dealt with (acknowledging it too if nobody had).

    While its emergency work order is still open, resolving says why (`note`, else 422
    `alarm_resolve_reason_required`); the work order itself is left as it is, never closed or cancelled here.
    """
    state = await _visible_alarm(conn, user, alarm_id)
    if not state.open:
        raise Conflict("this alarm is already resolved", code="alarm_resolved")
    current = await alarm_queries.get_alarm(conn, alarm_id)
    open_job = current is not None and current.work_order is not None and not current.work_order.done
    if open_job and not (note and note.strip()):
        raise ValidationFailed(
            "its work order is still open: say why the alarm is resolved first",
            field="note",
            code="alarm_resolve_reason_required",
        )
    if state.acked_at is None:
        await alarm_queries.add_alarm_event(
            conn,
            alarm_id,
            "acked",
            now,
            {
                "secondsToAck": round(max(0.0, (now - state.waiting_since).total_seconds()), 1),
                "role": user.role,
            },
            actor_id=user.id,
        )
    await q.record_resolution(conn, alarm_id, user_id=user.id, at=now)
    payload: dict[str, Any] = {"note": note} if note else {}
    if open_job:
        assert current is not None and current.work_order is not None
        payload["workOrderOpen"] = {"id": str(current.work_order.id), "status": current.work_order.status}
    await alarm_queries.add_alarm_event(conn, alarm_id, "resolved", now, payload, actor_id=user.id)
    return await _publish_alarm(conn, alarm_id)


class Escalation(msgspec.Struct, frozen=True):
    """One step taken: the alarm, the level reached and the role told."""

    alarm_id: UUID
    level: int
    role: str
    recipients: tuple[UUID, ...]


async def site_ladders(conn: asyncpg.Connection) -> dict[UUID, SiteSettings]:
    """Every site's settings for the ladder; a bad stored setting takes its default and is reported."""
    ladders = {}
    for site in await q.site_settings(conn):
        settings, problems = read_site_settings(site.settings)
        for problem in problems:
            report_fault(site=site.code, subject="settings", error=f"{problem}; the default applies")
        ladders[site.id] = settings
    return ladders


async def escalate_unacknowledged_alarms(conn: asyncpg.Connection, now: datetime) -> list[Escalation]:
    """Take every due step of unacknowledged alarms. Call in a transaction; safe on every replica."""
    ladders = await site_ladders(conn)
    deadlines = [
        q.AckDeadline(site_id=site_id, level=level, seconds=seconds)
        for site_id, settings in ladders.items()
        for level, seconds in alarm_ladder.deadlines(settings)
    ]
    claimed = await q.claim_unacked_alarms(
        conn, now=now, severities=alarm_ladder.ESCALATING_SEVERITIES, deadlines=deadlines
    )
    steps: list[Escalation] = []
    for alarm in claimed:
        async with savepoint_skipped_on_failure(conn, site=alarm.site_code, subject=f"alarm {alarm.id}"):
            steps.extend(await _climb(conn, alarm, ladders[alarm.site_id], now))
    return steps


async def _climb(
    conn: asyncpg.Connection, alarm: q.UnackedAlarm, settings: SiteSettings, now: datetime
) -> list[Escalation]:
    """Every step of the ladder this alarm is due for now."""
    steps: list[Escalation] = []
    waited = round((now - alarm.waiting_since).total_seconds())
    target = alarm_ladder.due_level(waited, settings)
    spec = ALARM_CODES.get(alarm.code)
    label = spec.label_zh if spec else alarm.code
    if target > alarm.escalation_level:
        await q.set_escalation_level(conn, alarm.id, target)
    current = await alarm_queries.get_alarm(conn, alarm.id)
    assert current is not None  # locked by this transaction
    # a job that runs late takes every missed step, so the supervisor is never skipped
    for level in range(alarm.escalation_level + 1, target + 1):
        role = alarm_ladder.step(level).role
        message = {
            "alarmId": str(alarm.id),
            "level": level,
            "role": role,
            "at": now.isoformat(),
            "code": alarm.code,
            "severity": alarm.severity,
            "deviceId": alarm.device_id,
            "deviceName": alarm.device_name,
            "secondsUnacknowledged": waited,
        }
        recipients = await notify_roles(
            conn,
            site_id=alarm.site_id,
            roles=[role],
            kind="escalation",
            urgency="high",
            title=f"{label} {waited} 秒无人确认：{alarm.device_name}",
            body=f"已升级至{'主管' if role == 'supervisor' else '经理'}",
            data={**message, "url": f"/#/alarms/{alarm.id}"},
            # one message per step of each occurrence: a re-raise climbs the ladder again
            dedupe_key=f"alarm:{alarm.id}:escalation:{level}:{alarm.waiting_since.isoformat()}",
        )
        await alarm_queries.add_alarm_event(
            conn, alarm.id, "escalated", now, {**message, "recipients": [str(r) for r in recipients]}
        )
        # the same alarm object as alarm.* events carry (`alarm.id`), so a screen reads one id field
        await publish(
            conn,
            site_id=alarm.site_id,
            type="escalation",
            data={"kind": "alarm", **message, "alarm": alarm_payload(current)},
        )
        steps.append(Escalation(alarm_id=alarm.id, level=level, role=role, recipients=tuple(recipients)))
    if target > alarm.escalation_level:
        await publish(conn, site_id=alarm.site_id, type="alarm.updated", data=alarm_payload(current))
    return steps
