"""Work-order actions: one action = one transaction = one event, its effects carried out as the domain says.

Every change locks the work-order row first (SELECT ... FOR UPDATE), so concurrent actions on one job queue
up and the second sees the first's result: two technicians accepting the same pool job, exactly one wins.
The row's `version` is always the `seq` of its last event. The domain decides (workflow.plan_transition,
completion.shortfalls); this module only carries out the transition's `Effects` and the action's own
payload, which each have one small handler below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from backend.db.queries import alarms as alarm_q
from backend.db.queries import callbacks as callback_q
from backend.db.queries import clocks as clock_q
from backend.db.queries import dispatch as dispatch_q
from backend.db.queries import evidence as evidence_q
from backend.db.queries import sites as site_q
from backend.db.queries import work_orders as q
from backend.domain import completion, sla
from backend.domain.alerts import assignment_severity
from backend.domain.intake import MEDIATION_FIRST
from backend.domain.models import CurrentUser
from backend.domain.work_orders import WorkOrderDetail
from backend.domain.workflow import (
    ASSIGNEE_ROLES,
    CLOSED_STATUSES,
    Action,
    CallbackOutcome,
    Candidate,
    Status,
    Transition,
    callback_answers,
    callback_outcome,
    escalated,
    escalation_handler,
    escalation_level,
    needs_callback,
    plan_transition,
    priority_code,
)
from backend.errors import NotFound, ValidationFailed
from backend.services import job_notices, owner_updates
from backend.services.notifications import notify, notify_roles, publish
from backend.services.work_orders import get_work_order, state_of

# The system (an alarm, a plan, a follow-up call's verdict) acts with a dispatcher's powers.
SYSTEM_ROLE = "supervisor"
# Resolution fields a completion may record.
RESOLUTION_FIELDS = ("cause", "workDone", "parts", "chargeable", "advice")


@dataclass
class _Step:
    """One action being carried out: what the domain decided, and what the row and the log will get."""

    conn: asyncpg.Connection
    row: asyncpg.Record
    transition: Transition
    payload: Mapping[str, Any]
    actor: CurrentUser | None
    now: datetime
    credited: datetime
    changes: dict[str, Any] = field(default_factory=dict)
    event_payload: dict[str, Any] = field(default_factory=dict)
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def work_order_id(self) -> UUID:
        return self.row["id"]

    @property
    def resolution(self) -> dict[str, Any]:
        """The resolution being built (the row's, with this action's fields added)."""
        if "resolution" not in self.changes:
            self.changes["resolution"] = dict(self.row["resolution"] or {})
        return self.changes["resolution"]


async def _site_zone(conn: asyncpg.Connection, site_id: UUID) -> ZoneInfo:
    return ZoneInfo((await site_q.site_zones(conn, [site_id]))[site_id])


# ---- each action's own payload --------------------------------------------------------------------------


async def _assign(step: _Step) -> None:
    assignee = step.transition.assignee_id
    if assignee is not None:
        try:
            assignee = assignee if isinstance(assignee, UUID) else UUID(str(assignee))
        except ValueError:
            raise ValidationFailed("assigneeId must be a user id", field="assigneeId") from None
        step.transition = replace(step.transition, assignee_id=assignee)
        user = await dispatch_q.assignable_user(step.conn, assignee, step.row["site_id"])
        flow = state_of(step.row, callback_due=False).flow
        if user is None or user["role"] not in ASSIGNEE_ROLES[flow]:
            raise ValidationFailed("the assignee must be a technician of this site", field="assigneeId")
    if step.payload.get("appointmentAt") is not None:
        appointment_at = msgspec.convert(step.payload["appointmentAt"], datetime)
        refusal = sla.appointment_refusal(appointment_at, step.now, kind=step.row["kind"])
        if refusal is not None:
            raise ValidationFailed(refusal, field="appointmentAt", code="appointment_refused")
        if appointment_at != step.row["appointment_at"]:
            step.changes["appointment_at"] = appointment_at
            step.event_payload["appointmentAt"] = appointment_at.isoformat()


async def _arrive(step: _Step) -> None:
    """Arrival against the appointment agreed with the owner: a missed one is flagged and the supervisor
    told (DOMAIN.md "Repair", seeds-digest §3.1 row 18)."""
    row = step.row
    late = sla.missed_appointment_minutes(row["appointment_at"], step.credited)
    # told once per job: a later visit (reopened) or a replayed arrival adds nothing
    if late is None or row["arrived_at"] is not None or "missedAppointment" in (row["resolution"] or {}):
        return
    step.resolution["missedAppointment"] = {
        "appointmentAt": row["appointment_at"].isoformat(),
        "arrivedAt": step.credited.isoformat(),
        "lateMinutes": late,
    }
    step.event_payload["missedAppointment"] = True
    await _tell_missed_appointment(step.conn, row, late, arrived=True)


async def _tell_missed_appointment(
    conn: asyncpg.Connection, row: Mapping[str, Any], late: int, *, arrived: bool
) -> None:
    """The supervisor told of a missed appointment, once per job: when nobody has arrived by the end of the
    grace, or on a late arrival if that came first (one dedupe key for both)."""
    await notify_roles(
        conn,
        site_id=row["site_id"],
        roles=("supervisor",),
        kind="missed_appointment",
        title=f"预约未准时到达 {row['number']}: {row['title']}",
        body=f"晚到 {late} 分钟" if arrived else f"预约已过 {late} 分钟，尚未到场",
        data={"workOrderId": str(row["id"]), "lateMinutes": late, "arrived": arrived},
        dedupe_key=f"missed_appointment:{row['id']}",
    )


async def report_missed_appointments(conn: asyncpg.Connection, now: datetime) -> int:
    """Jobs whose agreed appointment passed its grace with nobody on site: the supervisor told at once
    rather than at the late arrival (seeds-digest §3.1 row 18); returns how many were found."""
    rows = await q.appointments_without_arrival(conn, before=now - sla.APPOINTMENT_GRACE)
    for row in rows:
        late = sla.missed_appointment_minutes(row["appointment_at"], now)
        if late is not None:
            await _tell_missed_appointment(conn, row, late, arrived=False)
    return len(rows)


async def _complete(step: _Step) -> None:
    row = step.row
    checklist = await evidence_q.checklist(step.conn, row["site_id"], row["kind"])
    stored = await q.get_work_order(step.conn, step.work_order_id, step.now)
    assert stored is not None
    req = completion.requirements(
        kind=row["kind"],
        in_home=row["in_home"],
        visit=row["reopen_count"] + 1,
        checklist=checklist,
        after_photos_taken=stored.after_photos_taken,
        asset_kind=stored.asset_kind,
    )
    missing = completion.shortfalls(req, step.payload)
    if missing:
        first = missing[0]
        raise ValidationFailed(
            first.detail,
            field=first.field,
            code=first.code,
            extra={"shortfalls": [msgspec.to_builtins(m) for m in missing]},
        )
    step.resolution.update({k: step.payload[k] for k in RESOLUTION_FIELDS if step.payload.get(k) is not None})
    if req.checklist:
        step.resolution["checklist"] = dict(step.payload.get("checklist") or {})


async def _investigate(step: _Step) -> None:
    step.resolution["findings"] = step.payload["findings"]


async def _solve(step: _Step) -> None:
    if step.payload.get("mediation") is not None:
        step.resolution["mediation"] = msgspec.to_builtins(step.payload["mediation"])
    if step.row["category"] in MEDIATION_FIRST and "mediation" not in step.resolution:
        # DOMAIN.md "Complaint": neighbour disputes are mediated first (先调解、后处理)
        raise ValidationFailed(
            "a neighbour dispute is mediated with both parties first",
            field="mediation",
            code="mediation_required",
        )
    for key in ("solution", "compensation", "approvedBy"):
        if step.payload.get(key) is not None:
            step.resolution[key] = step.payload[key]


async def _inform(step: _Step) -> None:
    step.resolution["result"] = step.payload["summary"]


async def _escalate(step: _Step) -> None:
    """The complaint goes up to a supervisor or the manager of its site, who holds it from now on and is told
    at once with their peers; going to the manager, or being major, starts the manager's apology call
    (DOMAIN.md "Complaint", seeds-digest §2.2). Who takes it over is the domain's rule (escalation_handler);
    the event keeps who held it before."""
    row = step.row
    level = escalation_level(str(step.payload.get("to") or "supervisor"), row["major"])
    roles = ("manager", "supervisor") if level == "manager" else ("supervisor",)
    people = [
        Candidate(id=p["id"], role=p["role"], name=p["display_name"], on_duty=p["on_duty"])
        for p in await dispatch_q.escalation_candidates(step.conn, row["site_id"])
    ]
    handler = escalation_handler(level, people, not_id=row["complained_about_id"])
    step.resolution.update(
        escalatedTo=level,
        escalatedAt=step.now.isoformat(),
        escalationReason=step.payload.get("reason"),
    )
    if handler is not None:
        step.transition = escalated(step.transition, handler.id)
        step.resolution["escalatedHandler"] = {"id": str(handler.id), "name": handler.name}
        step.event_payload["handler"] = {"id": str(handler.id), "name": handler.name}
    if row["assignee_id"] is not None:
        step.event_payload["previousHandler"] = {
            "id": str(row["assignee_id"]),
            "name": await dispatch_q.display_name(step.conn, row["assignee_id"]),
        }
    if level == "manager" and "managementTask" not in step.resolution:
        step.resolution["managementTask"] = {"kind": "apology_call", "startedAt": step.now.isoformat()}
    told = await notify_roles(
        step.conn,
        site_id=row["site_id"],
        roles=roles,
        kind="complaint_escalation",
        title=f"投诉升级 {row['number']}: {row['title']}",
        body=str(step.payload.get("note") or ""),
        data={"workOrderId": str(row["id"]), "reason": step.payload.get("reason"), "to": level},
        urgency="high",
    )
    if handler is not None and handler.id not in told:
        await notify(
            step.conn,
            site_id=row["site_id"],
            recipient_ids=[handler.id],
            kind="complaint_escalation",
            title=f"投诉升级 {row['number']}: {row['title']}",
            body=str(step.payload.get("note") or ""),
            data={"workOrderId": str(row["id"]), "reason": step.payload.get("reason"), "to": level},
            urgency="high",
        )


async def _apology_call_done(step: _Step) -> None:
    """The manager's apology call was made: how, what was said and who called; the management task is done."""
    task = dict(step.resolution.get("managementTask") or {"kind": "apology_call"})
    caller = str(step.payload.get("calledBy") or "").strip() or (
        step.actor.display_name if step.actor else ""
    )
    task.update(
        doneAt=step.now.isoformat(),
        doneBy=str(step.actor.id) if step.actor else None,
        calledBy=caller,
        via=step.payload.get("via"),
        summary=step.payload.get("summary"),
    )
    step.resolution["managementTask"] = task
    step.event_payload["calledBy"] = caller


async def _callback(step: _Step) -> None:
    reached = bool(step.payload.get("reached"))
    satisfaction = step.payload.get("satisfaction")
    outcome = callback_outcome(reached, satisfaction)
    answers = callback_answers(reached, step.payload)
    attempt = await callback_q.add_callback(
        step.conn,
        work_order_id=step.work_order_id,
        reached=reached,
        satisfaction=satisfaction,
        answers=answers,
        comment=str(step.payload.get("comment") or ""),
        called_by=step.actor.id if step.actor else None,
        called_at=step.now,
    )
    step.event_payload.update(attempt=attempt, outcome=outcome.value)
    if reached:
        await clock_q.meet_clock(step.conn, step.work_order_id, sla.ClockName.CALLBACK, step.now)
    if outcome == CallbackOutcome.NEUTRAL:
        # DOMAIN.md: a neutral 3 is not satisfaction; the supervisor follows up or closes with a reason
        step.after.append(lambda: _ask_supervisor(step))
    elif outcome == CallbackOutcome.UNSATISFIED:
        step.after.append(lambda: _reopen_after_callback(step))


async def _ask_supervisor(step: _Step) -> None:
    row = step.row
    await notify_roles(
        step.conn,
        site_id=row["site_id"],
        roles=("supervisor",),
        kind="callback_neutral",
        title=f"回访一般 {row['number']}: {row['title']}",
        body=str(step.payload.get("comment") or ""),
        data={"workOrderId": str(row["id"])},
    )


async def _reopen_after_callback(step: _Step) -> None:
    """The unsatisfied owner reopens the job to the last assignee, as its own event carrying their words."""
    await apply_action(
        step.conn,
        work_order_id=step.work_order_id,
        action=Action.REOPEN,
        actor=None,
        now=step.now,
        payload={
            "reason": f"回访不满意 ({step.payload.get('satisfaction')}/5)",
            "byCallback": True,
            "satisfaction": step.payload.get("satisfaction"),
            "comment": step.payload.get("comment") or "",
        },
    )


_PAYLOAD_HANDLERS: dict[Action, Callable[[_Step], Awaitable[None]]] = {
    Action.ASSIGN: _assign,
    Action.ARRIVE: _arrive,
    Action.COMPLETE: _complete,
    Action.INVESTIGATE: _investigate,
    Action.SOLVE: _solve,
    Action.INFORM: _inform,
    Action.ESCALATE: _escalate,
    Action.APOLOGY_CALL_DONE: _apology_call_done,
    Action.CALLBACK: _callback,
}


# ---- the transition's effects --------------------------------------------------------------------------


async def _carry_out_effects(step: _Step) -> None:
    conn, wid, effects, row = step.conn, step.work_order_id, step.transition.effects, step.row
    if effects.meets is not None:
        await clock_q.meet_clock(conn, wid, effects.meets, step.credited)
    if effects.restarts is not None:
        await clock_q.reset_clock(conn, wid, effects.restarts)
    if effects.pauses is not None:
        await clock_q.pause_clock(conn, wid, effects.pauses, step.credited)
    if effects.resumes is not None:
        await clock_q.resume_clock(conn, wid, effects.resumes, step.credited)
    if effects.stamps is not None:
        step.changes[effects.stamps] = row[effects.stamps] or step.credited
    if effects.opens_callback and needs_callback(row["channel"], row["reporter_name"], row["reporter_phone"]):
        policy = await clock_q.sla_policy(conn, row["site_id"], row["kind"], row["priority"])
        due = sla.callback_due(policy, step.credited)
        if due is not None:
            await clock_q.start_clocks(conn, wid, step.credited, {sla.ClockName.CALLBACK.value: due})
    if effects.new_visit:
        await _new_visit(step)
    if step.transition.to_status in CLOSED_STATUSES and step.transition.from_status not in CLOSED_STATUSES:
        if step.transition.to_status == Status.CLOSED:
            step.changes["closed_at"] = step.now
        # the job has ended: a follow-up call still owed is no longer owed (DOMAIN.md "Callbacks")
        if await clock_q.drop_unmet_clock(conn, wid, sla.ClockName.CALLBACK):
            step.event_payload["callbackSettled"] = True


async def _new_visit(step: _Step) -> None:
    """A reopened job goes round again: a fresh resolve clock, and evidence and a signature of its own."""
    conn, row = step.conn, step.row
    visit = row["reopen_count"] + 2
    step.changes.update(reopen_count=row["reopen_count"] + 1, completed_at=None, closed_at=None)
    step.event_payload["visit"] = visit
    policy = await clock_q.sla_policy(conn, row["site_id"], row["kind"], row["priority"])
    due = sla.due_times(policy, step.now, await _site_zone(conn, row["site_id"])).get(sla.ClockName.RESOLVE)
    if due is not None:
        await clock_q.start_clocks(conn, row["id"], step.now, {sla.ClockName.RESOLVE.value: due})
    superseded = await evidence_q.supersede_signature(conn, row["id"], step.now)
    if superseded is not None:
        step.event_payload["supersedesRecordHash"] = superseded


# ---- one action ----------------------------------------------------------------------------------------


async def _tell_assignee(
    conn: asyncpg.Connection, row: Mapping[str, Any], assignee_id: UUID, *, reopened: bool
) -> None:
    verb = "重新打开" if reopened else "派单"
    priority = priority_code(row["priority"])
    await notify(
        conn,
        site_id=row["site_id"],
        recipient_ids=[assignee_id],
        kind="assignment",
        title=f"{verb} {priority} {row['number']}: {row['title']}",
        body=row["location"] or "",
        data={
            "workOrderId": str(row["id"]),
            "number": row["number"],
            "priority": priority,
            "kind": row["kind"],
            "jobKind": row["kind"],
            "severity": assignment_severity(row["kind"], row["priority"]),
        },
        urgency="high" if row["priority"] == 1 or row["kind"] == "emergency" else "normal",
    )


async def apply_action(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    action: Action,
    actor: CurrentUser | None,
    now: datetime,
    payload: Mapping[str, Any],
    client_at: datetime | None = None,
    geo: dict[str, Any] | None = None,
    row: asyncpg.Record | None = None,
) -> None:
    """Plan, check and record one action under the row lock; actor None is the system."""
    row = row or await q.lock_work_order(conn, work_order_id)
    if row is None:
        raise NotFound("no such work order", code="work_order_not_found")
    state = state_of(row, callback_due=row["callback_due"])
    role, actor_id = (actor.role, actor.id) if actor else (SYSTEM_ROLE, None)
    transition = plan_transition(state, action, role=role, actor_id=actor_id, payload=payload)
    previous_at = (
        row["last_event_at"] if "last_event_at" in row else await q.last_event_at(conn, work_order_id)
    )
    step = _Step(
        conn=conn,
        row=row,
        transition=transition,
        payload=payload,
        actor=actor,
        now=now,
        credited=sla.credited_time(client_at, previous_at, now),
        event_payload={k: msgspec.to_builtins(v) for k, v in payload.items() if v is not None},
    )
    handler = _PAYLOAD_HANDLERS.get(action)
    if handler is not None:
        await handler(step)
    await _carry_out_effects(step)

    transition = step.transition  # the action's own payload may have settled the assignee (escalate)
    assignee = transition.assignee_id
    version = row["version"] + 1
    if assignee is not None and assignee != row["last_assignee_id"]:
        step.changes["last_assignee_id"] = assignee
    step.changes.update(
        status=transition.to_status.value, assignee_id=assignee, version=version, updated_at=now
    )
    await q.append_event(
        conn,
        work_order_id=work_order_id,
        seq=version,
        action=action.value,
        from_status=transition.from_status.value,
        to_status=transition.to_status.value,
        actor_id=actor_id,
        at=now,
        client_at=client_at,
        geo=geo,
        payload=step.event_payload,
    )
    await q.update_work_order(conn, work_order_id, step.changes)
    await publish(
        conn,
        site_id=row["site_id"],
        type="work_order.updated",
        data={
            "id": str(row["id"]),
            "number": row["number"],
            "kind": row["kind"],
            "priority": priority_code(row["priority"]),
            "status": transition.to_status.value,
            "version": version,
            "assigneeId": str(assignee) if assignee else None,
            "action": action.value,
        },
    )
    if row["alarm_id"] is not None:
        # the guard who answered the alarm follows its work order on the alarm's card (who, since when)
        alarm = await alarm_q.get_alarm(conn, row["alarm_id"])
        if alarm is not None:
            await publish(conn, site_id=row["site_id"], type="alarm.updated", data=msgspec.to_builtins(alarm))
    if action in (Action.ASSIGN, Action.REOPEN) and assignee is not None and assignee != actor_id:
        await _tell_assignee(conn, row, assignee, reopened=action == Action.REOPEN)
    await owner_updates.after_action(
        conn, work_order_id=work_order_id, action=action.value, version=version, now=now
    )
    # the work that stopped a building's water, power or lift is over: its residents are told, once
    await job_notices.after_action(conn, work_order_id=work_order_id, action=action.value, now=now)
    for follow_up in step.after:
        await follow_up()


async def perform_action(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    action: str,
    actor: CurrentUser,
    now: datetime,
    client_at: datetime | None = None,
    geo: dict[str, Any] | None = None,
    payload: dict[str, Any],
) -> WorkOrderDetail:
    """Take one action on a work order in the caller's transaction and return the work order after it.

    Raises NotFound (unknown or another site's id), Forbidden (role), InvalidTransition with the current state
    (stale or not allowed from this status), ValidationFailed (a missing reason, evidence or value).
    """
    try:
        act = Action(action)
    except ValueError:
        raise NotFound(f"no action {action}") from None
    row = await q.lock_work_order(conn, work_order_id)
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such work order", code="work_order_not_found")
    await apply_action(
        conn,
        work_order_id=work_order_id,
        action=act,
        actor=actor,
        now=now,
        payload=payload,
        client_at=client_at,
        geo=geo,
        row=row,
    )
    return await get_work_order(conn, work_order_id, actor, now=now)
