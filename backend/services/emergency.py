"""Emergency plans that run themselves, and the register of drills and safety training.

A site's plan per scenario is its own row or the default of backend/domain/emergency.py. When an alarm opens
an emergency work order, `start_plan` copies the plan of the alarm's scenario onto the work order as a timed
checklist (each step due minutes after the alarm); whoever does a step ticks it off, and the first tick is
the record (who, when). A power cut's checklist also lists the vulnerable residents of the building hit, as
docs/PRIVACY.md lets the viewer see them (`welfare_visits`).

`remind_missing_drills` runs in every scheduler process: the unique (site, scenario, period) row it inserts
before telling the managers makes each reminder go out once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from backend.db.queries import emergency as q
from backend.db.queries.rows import struct_of
from backend.domain import emergency as rules
from backend.domain.alarm_codes import EMERGENCY_SCENARIO
from backend.domain.emergency import (
    Checklist,
    ChecklistStep,
    Drill,
    DrillCreate,
    DrillDue,
    DrillPage,
    DrillsDue,
    DrillTiming,
    EmergencyReport,
    Plan,
    PlanEdit,
    PlanList,
    PlanPhone,
    PlanStep,
    RunningEmergency,
    RunningEmergencyPage,
    StepDone,
    Training,
    TrainingCreate,
    TrainingPage,
)
from backend.domain.models import CurrentUser
from backend.domain.personal_data import VulnerableResident
from backend.domain.sla import credited_time
from backend.domain.workflow import CLOSED_STATUSES
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.services import intake, personal_data
from backend.services.job_context import JobContext
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify_roles, publish
from backend.services.sites import site_for, site_ids_for

# --- plans -------------------------------------------------------------------------------------------------


async def _plans_of(conn: asyncpg.Connection, site_id: UUID) -> dict[str, Plan]:
    own = await q.site_plans(conn, site_id)
    plans = {}
    for scenario in rules.SCENARIOS:
        row = own.get(scenario)
        if row is None:
            plans[scenario] = rules.default_plan(scenario)
        else:
            plans[scenario] = rules.site_plan(
                scenario,
                msgspec.convert(row["steps"], list[PlanStep]),
                msgspec.convert(row["phones"], list[PlanPhone]),
                row["updated_at"],
            )
    return plans


async def list_plans(conn: asyncpg.Connection, viewer: CurrentUser, *, site: str | None) -> PlanList:
    """Every scenario's plan of the site (its own, or the default)."""
    found = await site_for(conn, viewer, site)
    items = list((await _plans_of(conn, found.id)).values())
    return PlanList(
        site_id=found.id,
        items=items,
        total=len(items),
        limit=len(items),
        offset=0,
        editable=viewer.role in rules.PLAN_EDITORS,
    )


async def save_plan(
    conn: asyncpg.Connection, actor: CurrentUser, *, scenario: str, data: PlanEdit, now: datetime
) -> Plan:
    """Replace the site's plan for a scenario (managers and admins)."""
    if scenario not in rules.SCENARIOS:
        raise NotFound(f"no scenario {scenario!r}", code="scenario_not_found")
    if actor.role not in rules.PLAN_EDITORS:
        raise Forbidden("only a manager edits the emergency plans", code="role_forbidden")
    found = await site_for(conn, actor, data.site)
    await q.save_plan(
        conn,
        site_id=found.id,
        scenario=scenario,
        steps=msgspec.to_builtins(data.steps),
        phones=msgspec.to_builtins(data.phones),
        by=actor.id,
        now=now,
    )
    return (await _plans_of(conn, found.id))[scenario]


async def start_plan(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    work_order_id: UUID,
    alarm_id: UUID | None,
    alarm_code: str,
    now: datetime,
) -> bool:
    """Attach the plan of the alarm's scenario to its emergency work order as a timed checklist."""
    scenario = EMERGENCY_SCENARIO.get(alarm_code)
    if scenario is None:
        return False
    await _copy_plan(
        conn, site_id=site_id, work_order_id=work_order_id, alarm_id=alarm_id, scenario=scenario, now=now
    )
    return True


async def _copy_plan(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    work_order_id: UUID,
    alarm_id: UUID | None,
    scenario: str,
    now: datetime,
) -> None:
    """The site's plan for the scenario, as it is now, becomes the work order's timed checklist."""
    plan = (await _plans_of(conn, site_id))[scenario]
    await q.add_checklist(
        conn,
        site_id=site_id,
        work_order_id=work_order_id,
        alarm_id=alarm_id,
        scenario=scenario,
        opened_at=now,
        steps=[(s.label_zh, s.label_en, s.role, rules.step_due_at(now, s)) for s in plan.steps],
        phones=msgspec.to_builtins(plan.phones),
        welfare_visits=plan.welfare_visits,
    )


def _checklist(rows: list[asyncpg.Record], now: datetime) -> Checklist:
    first = rows[0]
    zh, en = rules.SCENARIO_LABELS.get(first["scenario"], (first["scenario"], first["scenario"]))
    return Checklist(
        work_order_id=first["work_order_id"],
        alarm_id=first["alarm_id"],
        scenario=first["scenario"],
        label_zh=zh,
        label_en=en,
        opened_at=first["opened_at"],
        steps=[
            struct_of(
                ChecklistStep,
                r,
                overdue=rules.is_overdue(r["due_at"], r["done_at"], now),
            )
            for r in rows
        ],
        phones=msgspec.convert(first["phones"] or [], list[PlanPhone]),
        welfare_visits=bool(first["welfare_visits"]),
    )


async def _visible_checklist(
    conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID | None, now: datetime
) -> Checklist:
    rows = await q.checklist_of_work_order(conn, work_order_id) if work_order_id else []
    if not rows or not viewer.may_see_site(rows[0]["site_id"]):
        raise NotFound("no emergency plan runs here", code="emergency_plan_not_found")
    return _checklist(rows, now)


async def checklist_of_work_order(
    conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID, *, now: datetime
) -> Checklist:
    """The plan running on an emergency work order."""
    return await _visible_checklist(conn, viewer, work_order_id, now)


async def checklist_of_alarm(
    conn: asyncpg.Connection, viewer: CurrentUser, alarm_id: UUID, *, now: datetime
) -> Checklist:
    """The plan running for an alarm (on the newest work order it opened)."""
    return await _visible_checklist(conn, viewer, await q.latest_work_order_of_alarm(conn, alarm_id), now)


async def mark_step_done(
    conn: asyncpg.Connection, actor: CurrentUser, step_id: UUID, data: StepDone, *, now: datetime
) -> Checklist:
    """Tick a step off: who did it and when (the phone's time, credited between the alarm and now). A step
    already done keeps its first record; the checklist comes back either way."""
    step = await q.lock_step(conn, step_id)
    if step is None or not actor.may_see_site(step["site_id"]):
        raise NotFound("no such step", code="emergency_step_not_found")
    if actor.role not in rules.STEP_DOERS:
        raise Forbidden("your role does not run emergency plans", code="role_forbidden")
    if step["done_at"] is None:
        at = credited_time(data.client_at, step["opened_at"], now)
        await q.mark_step_done(conn, step_id, by=actor.id, at=at)
        await publish(
            conn,
            site_id=step["site_id"],
            type="emergency.updated",
            data={"workOrderId": str(step["work_order_id"]), "alarmId": str(step["alarm_id"] or "")},
        )
    return await _visible_checklist(conn, actor, step["work_order_id"], now)


async def welfare_visits(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    alarm_id: UUID,
    *,
    limit: int,
    offset: int,
    endpoint: str,
    now: datetime,
) -> tuple[list[VulnerableResident], int]:
    """The vulnerable residents to visit in a power cut: of the building whose plant raised the alarm, or of
    the whole estate when the plant serves it all. What the viewer sees of them, and the read log, are
    docs/PRIVACY.md's (a guard sees them in full while the emergency lasts)."""
    place = await q.alarm_place(conn, alarm_id)
    if place is None or not viewer.may_see_site(place["site_id"]):
        raise NotFound("no such alarm", code="alarm_not_found")
    scenario = EMERGENCY_SCENARIO.get(place["code"])
    if scenario not in rules.WELFARE_SCENARIOS:
        return [], 0
    return await personal_data.vulnerable_residents(
        conn,
        viewer,
        site=str(place["site_id"]),
        building_id=place["building_id"],
        limit=limit,
        offset=offset,
        endpoint=endpoint,
        now=now,
    )


async def report_emergency(
    conn: asyncpg.Connection, actor: CurrentUser, data: EmergencyReport, *, now: datetime
) -> RunningEmergency:
    """A person reports an emergency no alarm can (a fire, or a call-in): an emergency work order opens,
    assigned like an alarm's, and runs the scenario's plan as its timed checklist from now."""
    if actor.role not in rules.REPORTERS:
        raise Forbidden("your role does not report emergencies", code="role_forbidden")
    found = await site_for(conn, actor, data.site)
    zh, _en = rules.SCENARIO_LABELS[data.scenario]
    order = await intake.create_work_order(
        conn,
        actor=actor,
        site_id=found.id,
        kind="emergency",
        category=rules.SCENARIO_CATEGORY[data.scenario],
        priority=None,
        title=f"{zh}{('：' + data.location) if data.location else ''}",
        description=data.description or zh,
        channel=rules.reported_channel(actor.role),
        location=data.location,
        now=now,
        client_at=data.client_at,
        auto_assign=True,
    )
    await _copy_plan(
        conn, site_id=found.id, work_order_id=order.id, alarm_id=None, scenario=data.scenario, now=now
    )
    await publish(
        conn,
        site_id=found.id,
        type="emergency.updated",
        data={"workOrderId": str(order.id), "alarmId": ""},
    )
    return RunningEmergency(
        work_order_id=order.id,
        number=order.number,
        status=order.status,
        location=data.location,
        reported_by_name=actor.display_name,
        checklist=await _visible_checklist(conn, actor, order.id, now),
    )


async def reported_emergencies(
    conn: asyncpg.Connection, viewer: CurrentUser, *, site: str | None, limit: int, offset: int, now: datetime
) -> RunningEmergencyPage:
    """The emergencies reported by hand that are still open, each with its checklist (the guard's console)."""
    if viewer.role not in rules.STEP_DOERS | rules.REPORTERS:
        raise Forbidden("your role does not run emergency plans", code="role_forbidden")
    rows, total = await q.reported_emergencies(
        conn, await site_ids_for(conn, viewer, site), list(CLOSED_STATUSES), limit, offset
    )
    items = [
        RunningEmergency(
            work_order_id=r["id"],
            number=r["number"],
            status=r["status"],
            location=r["location"],
            reported_by_name=r["reported_by_name"],
            checklist=_checklist(await q.checklist_of_work_order(conn, r["id"]), now),
        )
        for r in rows
    ]
    return RunningEmergencyPage(items=items, total=total, limit=limit, offset=offset)


async def drills_due(
    conn: asyncpg.Connection, viewer: CurrentUser, *, site: str | None, now: datetime
) -> DrillsDue:
    """The scenarios the site has not drilled within a year (the rule the managers' reminder follows)."""
    if viewer.role not in rules.REGISTER_KEEPERS:
        raise Forbidden("only supervisors and managers keep the drill register", code="role_forbidden")
    found = await site_for(conn, viewer, site)
    today = now.astimezone(ZoneInfo(found.timezone)).date()
    items = []
    for row in await q.last_drills_of_site(conn, found.id, rules.SCENARIOS):
        if rules.drill_is_due(row["last_held_on"], today):
            zh, en = rules.SCENARIO_LABELS[row["scenario"]]
            items.append(
                DrillDue(scenario=row["scenario"], label_zh=zh, label_en=en, last_held_on=row["last_held_on"])
            )
    return DrillsDue(site_id=found.id, items=items)


# --- drills and training -----------------------------------------------------------------------------------


def _keeper(actor: CurrentUser) -> None:
    if actor.role not in rules.REGISTER_KEEPERS:
        raise Forbidden("only supervisors and managers keep the drill register", code="role_forbidden")


async def _register(
    conn: asyncpg.Connection,
    actor: CurrentUser,
    data: DrillCreate | TrainingCreate,
    now: datetime,
    *,
    what: str,
    add: Callable[..., Awaitable[UUID]],
    get: Callable[[asyncpg.Connection, UUID], Awaitable[asyncpg.Record | None]],
    **stored: Any,
) -> asyncpg.Record:
    """Write an entry of a register (drills, trainings) on the keeper's site, once it has been held there;
    `stored` are the fields kept otherwise than the body gives them."""
    _keeper(actor)
    found = await site_for(conn, actor, data.site)
    if data.held_on > now.astimezone(ZoneInfo(found.timezone)).date():
        raise ValidationFailed(f"{what} is registered once it has been held", field="heldOn")
    fields = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "site"}
    entry_id = await add(conn, site_id=found.id, by=actor.id, now=now, **fields | stored)
    row = await get(conn, entry_id)
    assert row is not None
    return row


def _drill(r: asyncpg.Record) -> Drill:
    timings = msgspec.convert(r["timings"], list[DrillTiming])
    return struct_of(Drill, r, participants=list(r["participants"]), timings=timings)


def _training(r: asyncpg.Record) -> Training:
    return struct_of(Training, r, attendees=list(r["attendees"]))


async def add_drill(
    conn: asyncpg.Connection, actor: CurrentUser, data: DrillCreate, *, now: datetime
) -> Drill:
    """Register a drill held (not in the future)."""
    timings = msgspec.to_builtins(data.timings)
    row = await _register(
        conn, actor, data, now, what="a drill", add=q.add_drill, get=q.get_drill, timings=timings
    )
    return _drill(row)


async def list_drills(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    scenario: str | None,
    limit: int,
    offset: int,
) -> DrillPage:
    """The drill register of the viewer's sites (or one), newest first."""
    _keeper(viewer)
    rows, total = await q.list_drills(
        conn, await site_ids_for(conn, viewer, site), scenario=scenario, limit=limit, offset=offset
    )
    return DrillPage(items=[_drill(r) for r in rows], total=total, limit=limit, offset=offset)


async def add_training(
    conn: asyncpg.Connection, actor: CurrentUser, data: TrainingCreate, *, now: datetime
) -> Training:
    """Register a training session held."""
    return _training(
        await _register(conn, actor, data, now, what="a session", add=q.add_training, get=q.get_training)
    )


async def list_trainings(
    conn: asyncpg.Connection, viewer: CurrentUser, *, site: str | None, limit: int, offset: int
) -> TrainingPage:
    """The training register, newest first."""
    _keeper(viewer)
    rows, total = await q.list_trainings(
        conn, await site_ids_for(conn, viewer, site), limit=limit, offset=offset
    )
    return TrainingPage(items=[_training(r) for r in rows], total=total, limit=limit, offset=offset)


async def remind_missing_drills(conn: asyncpg.Connection, now: datetime) -> int:
    """Tell each site's managers of every scenario with no drill within a year: once per site, scenario and
    period (the claim row is unique, so a second scheduler inserts nothing and tells no one)."""
    told = 0
    for row in await q.last_drills(conn, rules.SCENARIOS):
        today = now.astimezone(ZoneInfo(row["timezone"])).date()
        if not rules.drill_is_due(row["last_held_on"], today):
            continue
        due_from = rules.drill_due_from(row["last_held_on"])
        async with savepoint_skipped_on_failure(
            conn, site=str(row["site_id"]), subject=f"drill reminder {row['scenario']}"
        ):
            if not await q.claim_drill_reminder(
                conn, site_id=row["site_id"], scenario=row["scenario"], due_from=due_from, now=now
            ):
                continue
            zh, _en = rules.SCENARIO_LABELS[row["scenario"]]
            last = row["last_held_on"].isoformat() if row["last_held_on"] else "—"
            await notify_roles(
                conn,
                site_id=row["site_id"],
                roles=("manager",),
                kind="drill_due",
                title=f"一年内未进行{zh}演练",
                body=f"上次演练:{last}",
                data={"scenario": row["scenario"], "lastHeldOn": row["last_held_on"] and last},
                dedupe_key=f"drill:{row['site_id']}:{row['scenario']}:{due_from.isoformat()}",
            )
            told += 1
    return told


async def remind_missing_drills_job(ctx: JobContext) -> int:
    """Scheduler job: remind_missing_drills in its own transaction."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await remind_missing_drills(conn, ctx.clock.now())
