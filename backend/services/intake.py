"""Intake: a new work order with its number, first event and clocks — from the desk, an alarm or a plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.db.queries import clocks as clock_q
from backend.db.queries import dispatch as dispatch_q
from backend.db.queries import sites as site_q
from backend.db.queries import work_orders as q
from backend.domain import intake, sla
from backend.domain.models import CurrentUser
from backend.domain.roles import DESK_ROLES
from backend.domain.work_orders import WorkOrder, WorkOrderCreate
from backend.domain.workflow import Action, Kind, Status, priority_code, priority_value
from backend.errors import Forbidden, ValidationFailed
from backend.services import dispatch, owner_updates
from backend.services.notifications import notify_roles, publish
from backend.services.sites import site_for, site_ids_for
from backend.services.work_order_actions import apply_action
from backend.services.work_orders import views

# Kinds a person may record at the desk; maintenance comes from plans, inspections from the gateway.
DESK_KINDS = tuple(Kind(k) for k in get_args(intake.DeskKind))


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
    complained_about_id: UUID | None = None,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    appointment_at: datetime | None = None,
    plan_id: UUID | None = None,
    resolution: dict[str, Any] | None = None,
    auto_assign: bool = False,
    client_at: datetime | None = None,
) -> WorkOrder:
    """Record a new work order, its 'created' event and clocks; actor None is the system (an alarm, a plan).

    With auto_assign the best on-duty technician (same ranking as the suggestions) gets it at once, recorded
    as an assign event by the system. Returns the work order as the actor sees it.
    """
    if kind not in Kind.__members__.values():
        raise ValidationFailed(f"kind must be one of {', '.join(Kind)}", field="kind")
    intake.check_category(kind, category)
    if channel not in intake.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(intake.CHANNELS)}", field="channel")
    if priority is None:
        priority = intake.suggest_priority(kind, category, f"{title} {description}", major=major)
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
            "complained_about_id": complained_about_id,
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
        client_at=client_at,
        payload={"priority": priority, "channel": channel, "category": category},
    )
    policy = await clock_q.sla_policy(conn, site_id, kind, priority)
    zones = await site_q.site_zones(conn, [site_id])
    due = sla.due_times(policy, now, ZoneInfo(zones[site_id]))
    await clock_q.start_clocks(conn, work_order_id, now, {c.value: at for c, at in due.items()})
    await publish(
        conn,
        site_id=site_id,
        type="work_order.created",
        data={"id": str(work_order_id), "number": number, "kind": kind, "status": Status.NEW.value,
              "version": 1, "assigneeId": None, "title": title, "priority": priority_code(priority),
              "major": major},
    )  # fmt: skip
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
        best = await dispatch.best_technician(conn, site_id, category, unit_id=unit_id, asset_id=asset_id)
        if best is not None:
            await apply_action(
                conn,
                work_order_id=work_order_id,
                action=Action.ASSIGN,
                actor=None,
                now=now,
                payload={"assigneeId": best.user_id, "auto": True},
            )
    stored = await q.get_work_order(conn, work_order_id, now)
    assert stored is not None
    return (await views(conn, [stored], actor))[0]


async def _unit_of(
    conn: asyncpg.Connection, actor: CurrentUser, data: WorkOrderCreate
) -> tuple[UUID | None, UUID | None, str | None]:
    """(unit, site, reporter name) named by the intake: a unit id, building + number, or the owner's phone."""
    if data.unit_id is not None:
        unit = await q.get_unit(conn, data.unit_id)
        if unit is None or not actor.may_see_site(unit["site_id"]):
            raise ValidationFailed("no such unit", field="unitId")
        return unit["id"], unit["site_id"], data.reporter_name
    if data.building is not None or data.unit_number is not None:
        if not data.building or not data.unit_number:
            raise ValidationFailed("give both building and unitNumber", field="unitNumber")
        site_id = (await site_for(conn, actor, data.site)).id
        unit = await q.find_unit(conn, site_id, data.building, data.unit_number)
        if unit is None:
            raise ValidationFailed(f"no unit {data.building} {data.unit_number}", field="unitNumber")
        return unit["id"], site_id, data.reporter_name
    if data.owner_phone is not None:
        units = await q.units_by_phone(conn, await site_ids_for(conn, actor, data.site), data.owner_phone)
        if not units:
            raise ValidationFailed("no resident with this phone", field="ownerPhone")
        if len(units) > 1:
            raise ValidationFailed("this phone belongs to several units: give the unit", field="ownerPhone")
        return units[0]["id"], units[0]["site_id"], data.reporter_name or units[0]["name"]
    return None, None, data.reporter_name


async def _check_complained_about(conn: asyncpg.Connection, data: WorkOrderCreate, site_id: UUID) -> None:
    """Only a complaint names someone, and only a member of staff of its site."""
    if data.kind != Kind.COMPLAINT:
        raise ValidationFailed("only a complaint is about a member of staff", field="complainedAboutId")
    assert data.complained_about_id is not None
    if await dispatch_q.assignable_user(conn, data.complained_about_id, site_id) is None:
        raise ValidationFailed("no such member of staff at this site", field="complainedAboutId")


async def intake_work_order(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: WorkOrderCreate, now: datetime
) -> WorkOrder:
    """A desk intake: find the unit (by id, building + number, or owner phone), then create the work order."""
    if actor.role not in DESK_ROLES:
        raise Forbidden(f"the {actor.role} role may not record work orders", code="role_forbidden")
    if data.kind not in DESK_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(DESK_KINDS)}", field="kind")
    if data.channel not in intake.DESK_CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(intake.DESK_CHANNELS)}", field="channel")
    if data.appointment_requested and data.appointment_at is None:
        raise ValidationFailed("the owner asked for an appointment: give its time", field="appointmentAt")
    if data.appointment_at is not None:
        # an intake queued on a tablet is judged at the time the agent recorded it
        recorded = min(now, data.client_at) if data.client_at is not None else now
        refusal = sla.appointment_refusal(data.appointment_at, recorded, kind=data.kind)
        if refusal is not None:
            raise ValidationFailed(refusal, field="appointmentAt", code="appointment_refused")
    unit_id, site_id, reporter_name = await _unit_of(conn, actor, data)
    if data.asset_id is not None:
        asset_site = await q.get_asset_site(conn, data.asset_id)
        if asset_site is None or not actor.may_see_site(asset_site) or (site_id and asset_site != site_id):
            raise ValidationFailed("no such asset", field="assetId")
        site_id = site_id or asset_site
    if site_id is None:
        site_id = (await site_for(conn, actor, data.site)).id
    in_home = (
        data.in_home if data.in_home is not None else (unit_id is not None and data.kind != Kind.COMPLAINT)
    )
    intake.check_home_named(data.kind, in_home, unit_id is not None)
    if data.complained_about_id is not None:
        await _check_complained_about(conn, data, site_id)
    resolution = None
    if data.kind == Kind.COMPLAINT:
        earlier = await q.earlier_complaint(
            conn,
            site_id=site_id,
            since=now - timedelta(days=intake.REPEAT_COMPLAINT_DAYS),
            unit_id=unit_id,
            complained_about_id=data.complained_about_id,
            asset_id=data.asset_id,
        )
        if earlier is not None:
            resolution = {"repeatOf": {"id": str(earlier["id"]), "number": earlier["number"]}}
    order = await create_work_order(
        conn,
        actor=actor,
        site_id=site_id,
        kind=data.kind,
        category=data.category,
        priority=priority_value(data.priority) if data.priority else None,
        title=data.title,
        description=data.description,
        channel=data.channel,
        now=now,
        asset_id=data.asset_id,
        unit_id=unit_id,
        location=data.location,
        in_home=in_home,
        major=data.major,
        complained_about_id=data.complained_about_id,
        reporter_name=reporter_name,
        reporter_phone=data.reporter_phone or data.owner_phone,
        appointment_at=data.appointment_at,
        client_at=data.client_at,
        resolution=resolution,
    )
    reporter_phone = data.reporter_phone or data.owner_phone
    if unit_id is not None and reporter_phone:
        await owner_updates.after_desk_intake(
            conn,
            order_id=order.id,
            number=order.number,
            site_id=site_id,
            unit_id=unit_id,
            reporter_phone=reporter_phone,
            now=now,
        )
    return order
