"""Work orders: intake, one action = one transaction = one event, reading and listing.

Every change locks the work-order row first (SELECT ... FOR UPDATE), so concurrent actions on one job queue
up and the second sees the first's result: two technicians accepting the same pool job, exactly one wins.
The row's `version` is always the `seq` of its last event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import callbacks as callback_q
from backend.db.queries import work_orders as q
from backend.domain import intake, sla
from backend.domain.clock import SystemClock
from backend.domain.models import CurrentUser
from backend.domain.work_orders import WorkOrder, WorkOrderCreate, WorkOrderDetail, WorkOrderPage
from backend.domain.workflow import (
    COMPLAINT_HANDLERS,
    DESK,
    EVIDENCE_KINDS,
    FIELD_WORKERS,
    Action,
    Kind,
    Status,
    WorkOrderState,
    is_unsatisfied,
    plan_transition,
    stale,
)
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.services import dispatch
from backend.services.notifications import notify, notify_roles, publish

# Kinds a person may record at the desk; maintenance comes from plans, inspections from the gateway.
DESK_KINDS = (Kind.REPAIR, Kind.COMPLAINT, Kind.EMERGENCY)
ALL_KINDS = tuple(Kind)
RESOLUTION_FIELDS = ("cause", "workDone", "parts", "chargeable", "advice")


def _state(row: asyncpg.Record) -> WorkOrderState:
    return WorkOrderState(
        kind=row["kind"],
        status=row["status"],
        in_home=row["in_home"],
        assignee_id=row["assignee_id"],
        version=row["version"],
    )


def _stream_data(
    row: Mapping[str, Any], *, status: str, version: int, assignee_id: UUID | None
) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "number": row["number"],
        "kind": row["kind"],
        "priority": row["priority"],
        "status": status,
        "version": version,
        "assigneeId": str(assignee_id) if assignee_id else None,
    }


async def _tell_assignee(
    conn: asyncpg.Connection, row: Mapping[str, Any], assignee_id: UUID, *, reopened: bool
) -> None:
    verb = "重新打开" if reopened else "派单"
    await notify(
        conn,
        site_id=row["site_id"],
        recipient_ids=[assignee_id],
        kind="assignment",
        title=f"{verb} {row['number']}: {row['title']}",
        body=row["location"] or "",
        data={"workOrderId": str(row["id"]), "number": row["number"], "priority": row["priority"]},
        urgency="high" if row["priority"] == 1 else "normal",
    )


async def create_work_order(
    conn: asyncpg.Connection,
    *,
    actor: CurrentUser | None,
    site_id: UUID,
    kind: str,
    category: str,
    priority: int | None,
    title: str,
    description: str = "",
    channel: str,
    now: datetime,
    asset_id: UUID | None = None,
    alarm_id: UUID | None = None,
    unit_id: UUID | None = None,
    location: str = "",
    in_home: bool = False,
    major: bool = False,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    appointment_at: datetime | None = None,
    plan_id: UUID | None = None,
    resolution: dict[str, Any] | None = None,
    auto_assign: bool = False,
) -> WorkOrder:
    """Record a new work order, its 'created' event and clocks; actor None is the system (an alarm, a plan).

    With auto_assign the best on-duty technician (same ranking as the suggestions) gets it at once, recorded
    as an assign event by the system.
    """
    if kind not in ALL_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(ALL_KINDS)}", field="kind")
    intake.check_category(kind, category)
    if channel not in intake.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(intake.CHANNELS)}", field="channel")
    if priority is None:
        priority = intake.suggest_priority(kind, category, f"{title} {description}", major=major)
    if not 1 <= priority <= 4:
        raise ValidationFailed("priority must be 1 to 4", field="priority")
    number = await q.next_number(conn, site_id, now)
    actor_id = actor.id if actor else None
    work_order_id = await q.insert_work_order(
        conn,
        {
            "site_id": site_id,
            "number": number,
            "kind": kind,
            "status": Status.NEW.value,
            "priority": priority,
            "category": category,
            "channel": channel,
            "title": title,
            "description": description,
            "unit_id": unit_id,
            "asset_id": asset_id,
            "alarm_id": alarm_id,
            "plan_id": plan_id,
            "reporter_name": reporter_name,
            "reporter_phone": reporter_phone,
            "location": location,
            "in_home": in_home,
            "major": major,
            "appointment_at": appointment_at,
            "created_by": actor_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "resolution": resolution or {},
        },
    )
    await q.append_event(
        conn,
        work_order_id=work_order_id,
        seq=1,
        action="created",
        from_status=None,
        to_status=Status.NEW.value,
        actor_id=actor_id,
        at=now,
        payload={"priority": priority, "channel": channel, "category": category},
    )
    policy = await q.sla_policy(conn, site_id, kind, priority)
    await q.start_clocks(
        conn, work_order_id, now, {c.value: due for c, due in sla.due_times(policy, now).items()}
    )
    row = {"id": work_order_id, "number": number, "kind": kind, "priority": priority, "site_id": site_id}
    await publish(
        conn,
        site_id=site_id,
        type="work_order.created",
        data={**_stream_data(row, status=Status.NEW.value, version=1, assignee_id=None), "title": title},
    )
    if major:
        # DOMAIN.md "Complaint": a major complaint goes to management at once
        await notify_roles(
            conn,
            site_id=site_id,
            roles=("manager", "supervisor"),
            kind="major_complaint",
            title=f"重大投诉 {number}: {title}",
            data={"workOrderId": str(work_order_id)},
            urgency="high",
        )
    if auto_assign:
        best = await dispatch.best_technician(conn, site_id, category)
        if best is not None:
            await _apply(
                conn,
                work_order_id=work_order_id,
                action=Action.ASSIGN,
                actor=None,
                now=now,
                payload={"assigneeId": best.user_id, "auto": True},
            )
    wo = await q.get_work_order(conn, work_order_id, now)
    assert wo is not None
    return wo


async def _resolve_site(conn: asyncpg.Connection, actor: CurrentUser, ref: str | None) -> UUID:
    if ref is None:
        if len(actor.site_ids) == 1:
            return actor.site_ids[0]
        raise ValidationFailed("say which site (you belong to several)", field="site")
    site = await q.find_site(conn, ref)
    if site is None or not actor.may_see_site(site["id"]):
        raise ValidationFailed(f"no site {ref}", field="site")
    return site["id"]


async def intake_work_order(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: WorkOrderCreate, now: datetime
) -> WorkOrder:
    """A desk intake: find the unit (by id, building + number, or owner phone), then create the work order."""
    if actor.role not in DESK:
        raise Forbidden(f"the {actor.role} role may not record work orders", code="role_forbidden")
    if data.kind not in DESK_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(DESK_KINDS)}", field="kind")
    if data.channel not in intake.DESK_CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(intake.DESK_CHANNELS)}", field="channel")
    if data.appointment_requested and data.appointment_at is None:
        raise ValidationFailed("the owner asked for an appointment: give its time", field="appointmentAt")
    reporter_name = data.reporter_name
    unit_id: UUID | None = None
    site_id: UUID | None = None
    if data.unit_id is not None:
        unit = await q.get_unit(conn, data.unit_id)
        if unit is None or not actor.may_see_site(unit["site_id"]):
            raise ValidationFailed("no such unit", field="unitId")
        unit_id, site_id = unit["id"], unit["site_id"]
    elif data.building is not None or data.unit_number is not None:
        if not data.building or not data.unit_number:
            raise ValidationFailed("give both building and unitNumber", field="unitNumber")
        site_id = await _resolve_site(conn, actor, data.site)
        unit = await q.find_unit(conn, site_id, data.building, data.unit_number)
        if unit is None:
            raise ValidationFailed(f"no unit {data.building} {data.unit_number}", field="unitNumber")
        unit_id = unit["id"]
    elif data.owner_phone is not None:
        sites = [await _resolve_site(conn, actor, data.site)] if data.site else list(actor.site_ids)
        units = await q.units_by_phone(conn, sites, data.owner_phone)
        if not units:
            raise ValidationFailed("no resident with this phone", field="ownerPhone")
        if len(units) > 1:
            raise ValidationFailed("this phone belongs to several units: give the unit", field="ownerPhone")
        unit_id, site_id = units[0]["id"], units[0]["site_id"]
        reporter_name = reporter_name or units[0]["name"]
    if data.asset_id is not None:
        asset_site = await q.get_asset_site(conn, data.asset_id)
        if asset_site is None or not actor.may_see_site(asset_site) or (site_id and asset_site != site_id):
            raise ValidationFailed("no such asset", field="assetId")
        site_id = site_id or asset_site
    if site_id is None:
        site_id = await _resolve_site(conn, actor, data.site)
    in_home = (
        data.in_home if data.in_home is not None else (unit_id is not None and data.kind != Kind.COMPLAINT)
    )
    return await create_work_order(
        conn,
        actor=actor,
        site_id=site_id,
        kind=data.kind,
        category=data.category,
        priority=data.priority,
        title=data.title,
        description=data.description,
        channel=data.channel,
        now=now,
        asset_id=data.asset_id,
        unit_id=unit_id,
        location=data.location,
        in_home=in_home,
        major=data.major,
        reporter_name=reporter_name,
        reporter_phone=data.reporter_phone or data.owner_phone,
        appointment_at=data.appointment_at,
    )


async def _check_assignee(conn: asyncpg.Connection, row: asyncpg.Record, assignee_id: Any) -> UUID | None:
    if assignee_id is None:
        return None
    try:
        assignee = assignee_id if isinstance(assignee_id, UUID) else UUID(str(assignee_id))
    except ValueError:
        raise ValidationFailed("assigneeId must be a user id", field="assigneeId") from None
    user = await q.assignable_user(conn, assignee, row["site_id"])
    allowed = COMPLAINT_HANDLERS if row["kind"] == Kind.COMPLAINT else FIELD_WORKERS
    if user is None or user["role"] not in allowed:
        raise ValidationFailed("the assignee must be a technician of this site", field="assigneeId")
    return assignee


async def _check_completion(
    conn: asyncpg.Connection, row: asyncpg.Record, payload: Mapping[str, Any]
) -> dict:
    work_done = payload.get("workDone")
    if not isinstance(work_done, str) or not work_done.strip():
        raise ValidationFailed("say what was done", field="workDone")
    resolution = dict(row["resolution"] or {})
    resolution.update({k: payload[k] for k in RESOLUTION_FIELDS if payload.get(k) is not None})
    if row["kind"] in EVIDENCE_KINDS:
        if await q.after_photo_count(conn, row["id"]) == 0:
            raise ValidationFailed("take at least one 'after' photo before completing", field="photos")
        checklist = payload.get("checklist") or {}
        if not isinstance(checklist, Mapping):
            raise ValidationFailed("checklist must map item codes to true/false", field="checklist")
        required = await q.required_checklist_codes(conn, row["site_id"], row["kind"])
        missing = [code for code in required if checklist.get(code) is not True]
        if missing:
            raise ValidationFailed(f"checklist items not done: {', '.join(missing)}", field="checklist")
        resolution["checklist"] = dict(checklist)
    return resolution


async def _apply(
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
        raise NotFound("no such work order")
    state = _state(row)
    if actor is None:
        # the system acts with the dispatcher's powers
        transition = plan_transition(state, action, role="supervisor", actor_id=None, payload=payload)
    else:
        transition = plan_transition(state, action, role=actor.role, actor_id=actor.id, payload=payload)
    event_payload: dict[str, Any] = {k: _jsonable(v) for k, v in payload.items() if v is not None}
    previous_at = await q.last_event_at(conn, work_order_id)
    credited = sla.credited_time(client_at, previous_at, now)
    changes: dict[str, Any] = {}
    assignee = transition.assignee_id
    to_status = transition.to_status
    policy: sla.Policy | None = None

    if action == Action.ASSIGN:
        assignee = await _check_assignee(conn, row, assignee)
        if payload.get("appointmentAt") is not None:
            changes["appointment_at"] = msgspec.convert(payload["appointmentAt"], datetime)
    elif action == Action.ACCEPT:
        changes["responded_at"] = row["responded_at"] or credited
        await q.meet_clock(conn, work_order_id, sla.ClockName.RESPOND, credited)
    elif action == Action.DECLINE:
        # Back in the pool nobody holds the job, and the owner's wait did not restart: the respond clock runs
        # again against its original due time, so an unaccepted declined job breaches. responded_at stays
        # the first acceptance (the log's first accept), as the response-time KPI has always measured it.
        await q.reset_clock(conn, work_order_id, sla.ClockName.RESPOND)
    elif action == Action.ARRIVE:
        changes["arrived_at"] = row["arrived_at"] or credited
        await q.meet_clock(conn, work_order_id, sla.ClockName.ARRIVE, credited)
    elif action == Action.PAUSE:
        await q.pause_clock(conn, work_order_id, sla.ClockName.RESOLVE, credited)
    elif action == Action.RESUME:
        await q.resume_clock(conn, work_order_id, sla.ClockName.RESOLVE, credited)
    elif action == Action.COMPLETE:
        changes["resolution"] = await _check_completion(conn, row, payload)
        changes["completed_at"] = credited
        await q.meet_clock(conn, work_order_id, sla.ClockName.RESOLVE, credited)
        policy = await q.sla_policy(conn, row["site_id"], row["kind"], row["priority"])
        callback_due = sla.callback_due(policy, credited)
        if callback_due is not None:
            await q.start_clocks(conn, work_order_id, credited, {sla.ClockName.CALLBACK.value: callback_due})
    elif action == Action.CALLBACK:
        if await q.open_clock(conn, work_order_id, sla.ClockName.CALLBACK) is None:
            raise stale(state, "no follow-up call is due for this work order")
        attempt = await callback_q.add_callback(
            conn,
            work_order_id=work_order_id,
            reached=bool(payload["reached"]),
            satisfaction=payload.get("satisfaction"),
            comment=str(payload.get("comment") or ""),
            called_by=actor.id if actor else None,
            called_at=now,
        )
        event_payload["attempt"] = attempt
        if payload["reached"]:
            await q.meet_clock(conn, work_order_id, sla.ClockName.CALLBACK, now)
    elif action == Action.REOPEN and row["last_assignee_id"] is None:
        to_status = Status.NEW

    if to_status == Status.CLOSED and transition.from_status != Status.CLOSED:
        changes["closed_at"] = now
    if assignee is not None and assignee != row["last_assignee_id"]:
        changes["last_assignee_id"] = assignee
    version = row["version"] + 1
    changes.update(status=to_status.value, assignee_id=assignee, version=version, updated_at=now)
    if action == Action.REOPEN:
        changes.update(_reopen_changes(row))
        assignee = row["last_assignee_id"]
        changes["assignee_id"] = assignee
        await _restart_resolve(conn, row, now)
    await q.append_event(
        conn,
        work_order_id=work_order_id,
        seq=version,
        action=action.value,
        from_status=transition.from_status.value,
        to_status=to_status.value,
        actor_id=actor.id if actor else None,
        at=now,
        client_at=client_at,
        geo=geo,
        payload=event_payload,
    )
    await q.update_work_order(conn, work_order_id, changes)
    await publish(
        conn,
        site_id=row["site_id"],
        type="work_order.updated",
        data={
            **_stream_data(row, status=to_status.value, version=version, assignee_id=assignee),
            "action": action,
        },
    )
    if (
        action in (Action.ASSIGN, Action.REOPEN)
        and assignee is not None
        and (actor is None or assignee != actor.id)
    ):
        await _tell_assignee(conn, row, assignee, reopened=action == Action.REOPEN)
    if action == Action.CALLBACK and is_unsatisfied(payload):
        # the unsatisfied owner reopens the job to the last assignee, as its own event
        fresh = await q.lock_work_order(conn, work_order_id)
        await _apply(
            conn,
            work_order_id=work_order_id,
            action=Action.REOPEN,
            actor=None,
            now=now,
            payload={"reason": f"unsatisfied callback ({payload.get('satisfaction')}/5)", "byCallback": True},
            row=fresh,
        )


def _reopen_changes(row: asyncpg.Record) -> dict[str, Any]:
    return {"reopen_count": row["reopen_count"] + 1, "completed_at": None, "closed_at": None}


async def _restart_resolve(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> None:
    """A reopened job gets a fresh resolve clock of the policy's length from the reopen."""
    policy = await q.sla_policy(conn, row["site_id"], row["kind"], row["priority"])
    due = sla.due_times(policy, now).get(sla.ClockName.RESOLVE)
    if due is not None:
        await q.start_clocks(conn, row["id"], now, {sla.ClockName.RESOLVE.value: due})


def _jsonable(value: Any) -> Any:
    return msgspec.to_builtins(value)


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
        raise NotFound("no such work order")
    await _apply(
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


async def get_work_order(
    conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser, *, now: datetime | None = None
) -> WorkOrderDetail:
    """A work order with events, clocks, callbacks, photos, signature; NotFound outside the viewer's sites."""
    at = now or SystemClock().now()
    wo = await q.get_work_order(conn, work_order_id, at)
    if wo is None or not viewer.may_see_site(wo.site_id):
        raise NotFound("no such work order")
    # exactly the items completion will demand (_check_completion), so the phone can show them offline
    needs_checklist = wo.kind in EVIDENCE_KINDS
    return WorkOrderDetail(
        **q.as_fields(wo),
        events=await q.list_events(conn, work_order_id),
        callbacks=await q.list_callbacks(conn, work_order_id),
        photos=await q.list_photos(conn, work_order_id),
        signature=await q.get_signature(conn, work_order_id),
        checklist=await q.checklist(conn, wo.site_id, wo.kind) if needs_checklist else [],
    )


async def list_work_orders(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    now: datetime,
    status: str | None = None,
    kind: str | None = None,
    assignee: str | None = None,
    site: str | None = None,
    overdue: bool = False,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> WorkOrderPage:
    """The viewer's work orders, filtered, most urgent first."""
    site_ids = list(viewer.site_ids)
    if site is not None:
        found = await q.find_site(conn, site)
        if found is None or not viewer.may_see_site(found["id"]):
            raise ValidationFailed(f"no site {site}", field="site")
        site_ids = [found["id"]]
    statuses = [s.strip() for s in status.split(",") if s.strip()] if status else None
    for s in statuses or ():
        if s not in Status.__members__.values():
            raise ValidationFailed(f"unknown status {s}", field="status")
    if kind is not None and kind not in ALL_KINDS:
        raise ValidationFailed(f"unknown kind {kind}", field="kind")
    assignee_id: UUID | None = None
    unassigned = False
    if assignee == "me":
        assignee_id = viewer.id
    elif assignee == "none":
        unassigned = True
    elif assignee:
        try:
            assignee_id = UUID(assignee)
        except ValueError:
            raise ValidationFailed("assignee must be me, none or a user id", field="assignee") from None
    items, total = await q.list_work_orders(
        conn,
        site_ids=site_ids,
        now=now,
        statuses=statuses,
        kind=kind,
        assignee_id=assignee_id,
        unassigned=unassigned,
        overdue=overdue,
        text=text or None,
        limit=limit,
        offset=offset,
    )
    return WorkOrderPage(items=items, total=total, limit=limit, offset=offset)


async def suggest_technicians(conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser):
    """The ranking of on-duty technicians for this work order (skill, then workload)."""
    wo = await q.get_work_order(conn, work_order_id, SystemClock().now())
    if wo is None or not viewer.may_see_site(wo.site_id):
        raise NotFound("no such work order")
    return await dispatch.rank_technicians(conn, wo.site_id, wo.category)
