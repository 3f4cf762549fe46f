"""Planned maintenance: plans per asset (every N days or a crontab) generate work orders ahead of time,
each listing the checks of its asset kind (backend/domain/maintenance_checks.py);
exactly once per (plan, period) however many schedulers run: the plan row is claimed with SKIP LOCKED and
the unique index work_orders_plan_period refuses a second work order for the same period.

The job goes site by site (each site's days are counted in its own time zone) and plan by plan: a site or a
plan that fails is skipped and reported (backend/services/job_health.py), and the rest are planned.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
from apscheduler.triggers.cron import CronTrigger

from backend.db.queries import plans as q
from backend.domain.maintenance_checks import checks_for
from backend.domain.models import CurrentUser
from backend.domain.roles import OVERSIGHT_ROLES
from backend.domain.work_orders import MaintenancePlan, MaintenancePlanCreate
from backend.errors import Conflict, Forbidden, ValidationFailed
from backend.services.intake import create_work_order
from backend.services.job_context import JobContext
from backend.services.job_health import failure, report_fault, savepoint_skipped_on_failure
from backend.services.sites import every_site, site_ids_for

# Elevators every 15 days (TSG T5002's half-monthly maintenance), work orders two days ahead.
ELEVATOR_INTERVAL_DAYS = 15
DEFAULT_LEAD_DAYS = 2
# The work-order category a plan's asset falls under (the trade that does it).
CATEGORY_BY_ASSET_KIND = {
    "elevator": "elevator",
    "pump": "water",
    "water_tank": "water",
    "pipework": "water",
    "switchgear": "electrical",
    "generator": "electrical",
    "lighting": "electrical",
    "fire_system": "fire_safety",
    "access_control": "doors_windows",
    "other": "other",
}


def _cron_trigger(cron: str, timezone: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
    except ValueError as e:
        raise ValidationFailed(f"not a 5-field crontab: {e}", field="cron") from e


def next_period(due_on: date, *, interval_days: int | None, cron: str | None, timezone: str) -> date:
    """The due day of the period after `due_on`."""
    if interval_days is not None:
        return due_on + timedelta(days=interval_days)
    assert cron is not None
    tz = ZoneInfo(timezone)
    start = datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=tz)
    fire = _cron_trigger(cron, timezone).get_next_fire_time(None, start)
    if fire is None:
        raise ValidationFailed("this crontab never fires", field="cron")
    return fire.astimezone(tz).date()


async def list_plans(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None = None
) -> list[MaintenancePlan]:
    """Plans of the viewer's sites (or one site)."""
    return await q.list_plans(conn, await site_ids_for(conn, viewer, site))


async def create_plan(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: MaintenancePlanCreate, now: datetime
) -> MaintenancePlan:
    """A new plan for an asset of the actor's sites."""
    if actor.role not in OVERSIGHT_ROLES:
        raise Forbidden("only supervisors and up plan maintenance", code="role_forbidden")
    if (data.interval_days is None) == (data.cron is None):
        raise ValidationFailed("give intervalDays or cron, not both", field="intervalDays")
    found = await q.asset(conn, data.asset_id)
    if found is None or not actor.may_see_site(found["site_id"]):
        raise ValidationFailed("no such asset", field="assetId")
    today = await q.site_today(conn, found["site_id"], now)
    if data.first_due_on is not None:
        try:
            first = date.fromisoformat(str(data.first_due_on))
        except ValueError:
            raise ValidationFailed("firstDueOn must be a date (YYYY-MM-DD)", field="firstDueOn") from None
    else:
        first = next_period(
            today, interval_days=data.interval_days, cron=data.cron, timezone=found["timezone"]
        )
    if data.cron is not None:
        _cron_trigger(data.cron, found["timezone"])
    return await q.insert_plan(
        conn,
        site_id=found["site_id"],
        asset_id=data.asset_id,
        title=data.title,
        interval_days=data.interval_days,
        cron=data.cron,
        lead_days=data.lead_days,
        next_due_on=first,
    )


async def generate_due(conn: asyncpg.Connection, site_id: UUID, now: datetime) -> int:
    """Create the work order of every plan period of the site that has come within its lead days."""
    created = 0
    for plan in await q.claim_due_plans(conn, site_id, now):
        # one plan that cannot be planned (a crontab that never fires, say) must not abort the site's batch
        subject = f"maintenance plan {plan['id']}"
        async with savepoint_skipped_on_failure(conn, site=plan["site_code"], subject=subject):
            created += await _generate_period(conn, plan, now)
    return created


async def _generate_period(conn: asyncpg.Connection, plan: asyncpg.Record, now: datetime) -> int:
    """The work order of the plan's due period (unless another process made it), then the next period."""
    due_on: date = plan["next_due_on"]
    checks = checks_for(plan["asset_kind"])
    created = 0
    try:
        # a savepoint: a duplicate period (another process got there first) must not abort the batch
        async with conn.transaction():
            await create_work_order(
                conn,
                actor=None,
                site_id=plan["site_id"],
                kind="maintenance",
                category=CATEGORY_BY_ASSET_KIND.get(plan["asset_kind"], "other"),
                priority=3,
                title=f"{plan['title']} ({due_on.isoformat()})",
                description=f"计划保养，应于 {due_on.isoformat()} 完成。保养内容：" + "；".join(checks),
                channel="schedule",
                now=now,
                asset_id=plan["asset_id"],
                location=plan["asset_location"] or "",
                plan_id=plan["id"],
                resolution={"periodDue": due_on.isoformat(), "checks": list(checks)},
                auto_assign=True,
            )
        created = 1
    except Conflict:
        pass
    following = next_period(
        due_on, interval_days=plan["interval_days"], cron=plan["cron"], timezone=plan["timezone"]
    )
    await q.set_next_due(conn, plan["id"], following)
    return created


async def generate_planned_maintenance(ctx: JobContext) -> int:
    """Scheduler job (every 10 min): a plan for every asset with an interval that has none (elevators always),
    then the work orders now due."""
    now = ctx.clock.now()
    async with ctx.pool.acquire() as conn:
        sites = await every_site(conn)
    created = 0
    for site, _zone in sites:
        try:
            async with ctx.pool.acquire() as conn, conn.transaction():
                await q.create_default_plans(conn, site.id, now, ELEVATOR_INTERVAL_DAYS, DEFAULT_LEAD_DAYS)
            async with ctx.pool.acquire() as conn, conn.transaction():
                created += await generate_due(conn, site.id, now)
        except Exception as exc:
            report_fault(site=site.code, subject="planned maintenance", error=failure(exc), exc=exc)
    return created
