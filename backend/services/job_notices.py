"""Building notices from maintenance work: a job on a building's shared asset tells every resident of the
building what it interrupts and when (once), and "restored" when the job is completed or cancelled (once).
A maintenance plan may carry the flag, so its jobs announce themselves ahead of the work (a scheduler job,
exactly once however many schedulers run: the notice row is unique per job and only its inserter queues).

A notice is a planned outage linked to its job (backend/services/outages.py sends both messages through the
owner outbox), so it is on the guard's visit list like a planned cut and logged in the case's history.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg

from backend.db.queries import job_notices as q
from backend.domain import job_notices as rules
from backend.domain.job_notices import PlanNotice, PlanNoticeView, ResidentNotice, ResidentNoticeCreate
from backend.domain.models import CurrentUser
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services.job_context import JobContext
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.outages import queue_notice, queue_restored


def _view(row: asyncpg.Record) -> ResidentNotice:
    return ResidentNotice(
        id=row["id"],
        work_order_id=row["work_order_id"],
        building_id=row["building_id"],
        building=row["building"],
        kind=row["kind"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        note=row["note"],
        created_at=row["created_at"],
        restored_at=row["restored_at"],
        recipients=row["recipients"],
    )


async def _visible_job(conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID) -> asyncpg.Record:
    job = await q.job_place(conn, work_order_id)
    if job is None or not viewer.may_see_site(job["site_id"]):
        raise NotFound("no such work order", code="work_order_not_found")
    return job


async def tell_residents(
    conn: asyncpg.Connection,
    actor: CurrentUser,
    work_order_id: UUID,
    data: ResidentNoticeCreate,
    *,
    now: datetime,
) -> ResidentNotice:
    """Announce the job's interruption to every resident of its asset's building, once: a job told already
    keeps its first notice (and nobody is told twice)."""
    if actor.role not in rules.NOTICE_MARKERS:
        raise Forbidden("the desk and supervisors tell the residents", code="role_forbidden")
    job = await _visible_job(conn, actor, work_order_id)
    existing = await q.notice_of_job(conn, work_order_id)
    if existing is not None:
        return _view(existing)
    if job["status"] in rules.FINISHED_STATUSES:
        raise Conflict("this job's work is done", code="work_order_closed")
    if job["building_id"] is None:
        raise ValidationFailed("the job is not on an asset of one building", field="workOrderId")
    if data.ends_at <= data.starts_at:
        raise ValidationFailed("the work must end after it starts", field="endsAt")
    if data.ends_at <= now:
        raise ValidationFailed("this work is over already", field="endsAt")
    await _announce(
        conn,
        job,
        kind=data.kind,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        note=data.note,
        by=actor.id,
        now=now,
    )
    row = await q.notice_of_job(conn, work_order_id)
    assert row is not None
    return _view(row)


async def _announce(
    conn: asyncpg.Connection,
    job: asyncpg.Record,
    *,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    by: UUID | None,
    now: datetime,
) -> bool:
    """Record the job's notice and queue it; False when another request or process recorded it first."""
    notice_id = await q.insert_job_notice(
        conn,
        site_id=job["site_id"],
        building_id=job["building_id"],
        work_order_id=job["id"],
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        created_by=by,
        now=now,
    )
    if notice_id is None:
        return False
    row = await q.notice_of_job(conn, job["id"])
    assert row is not None
    await queue_notice(conn, row, now)
    return True


async def notice_of(conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID) -> ResidentNotice:
    """The job's notice to its building (404 resident_notice_not_found when it has none)."""
    await _visible_job(conn, viewer, work_order_id)
    row = await q.notice_of_job(conn, work_order_id)
    if row is None:
        raise NotFound("this job has told no residents", code="resident_notice_not_found")
    return _view(row)


async def after_action(conn: asyncpg.Connection, *, work_order_id: UUID, action: str, now: datetime) -> bool:
    """A job completed, cancelled or closed: its building is told "restored", once."""
    if action not in rules.RESTORING_ACTIONS:
        return False
    if await q.restore_job_notice(conn, work_order_id, now) is None:
        return False
    row = await q.notice_of_job(conn, work_order_id)
    assert row is not None
    await queue_restored(conn, row, now)
    return True


async def set_plan_notice(
    conn: asyncpg.Connection, actor: CurrentUser, plan_id: UUID, data: PlanNotice
) -> PlanNoticeView:
    """Say what a plan's work interrupts (or nothing): its later jobs announce themselves ahead."""
    if actor.role not in rules.PLAN_EDITORS:
        raise Forbidden("only supervisors and up plan maintenance", code="role_forbidden")
    plan = await q.plan_for_notice(conn, plan_id)
    if plan is None or not actor.may_see_site(plan["site_id"]):
        raise NotFound("no such maintenance plan", code="maintenance_plan_not_found")
    await q.set_plan_notice(conn, plan_id, data.kind, data.lead_hours, data.window_hours)
    return PlanNoticeView(
        plan_id=plan_id, kind=data.kind, lead_hours=data.lead_hours, window_hours=data.window_hours
    )


async def announce_planned_work(conn: asyncpg.Connection, now: datetime) -> int:
    """Each open job of an announcing plan whose notice time has come tells its building, once."""
    told = 0
    for job in await q.plan_jobs_to_announce(conn, sorted(rules.FINISHED_STATUSES)):
        starts_at, ends_at = rules.plan_work_window(
            date.fromisoformat(job["period_due"]), job["timezone"], job["notice_window_hours"]
        )
        if not rules.plan_notice_due(starts_at, ends_at, job["notice_lead_hours"], now):
            continue
        async with savepoint_skipped_on_failure(
            conn, site=str(job["site_id"]), subject=f"notice {job['id']}"
        ):
            told += int(
                await _announce(
                    conn,
                    job,
                    kind=job["notice_kind"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    note=job["title"],
                    by=None,
                    now=now,
                )
            )
    return told


async def announce_planned_work_job(ctx: JobContext) -> int:
    """Scheduler job: announce_planned_work in its own transaction."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await announce_planned_work(conn, ctx.clock.now())
