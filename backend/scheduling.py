"""APScheduler jobs. Every API process runs every job, so each job claims its own rows
(FOR UPDATE SKIP LOCKED) or records its run, and running it twice changes nothing.

A job works site by site or row by row where a bad one could stop the rest: what it has to skip is logged
as an error naming the site and shown by /ready (backend/services/job_health.py), and the others go on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.db.queries import idempotency, partitions
from backend.db.queries import stream as stream_queries
from backend.domain.clock import Clock
from backend.services import (
    alarm_response,
    campaigns,
    digest,
    emergency,
    hazards,
    job_notices,
    promises,
    reports,
    rounds,
    safety_checks,
    sessions,
    work_order_actions,
)
from backend.services.alarms import watch_device_heartbeats
from backend.services.escalation import escalate_due_clocks
from backend.services.job_health import JobHealth, failure, report_fault
from backend.services.maintenance import generate_planned_maintenance


@dataclass(frozen=True)
class JobContext:
    """What a job needs: the pool, the clock (the tests' ManualClock included) and where faults are kept."""

    pool: asyncpg.Pool
    clock: Clock
    health: JobHealth = field(default_factory=JobHealth)


Job = Callable[[JobContext], Awaitable[Any]]

# An offline phone replays within days; a week of keys is ample.
IDEMPOTENCY_RETENTION_DAYS = 7


async def forget_old_idempotency_keys(ctx: JobContext) -> int:
    """Drop idempotency keys past their retention."""
    async with ctx.pool.acquire() as conn:
        return await idempotency.forget_older_than(conn, IDEMPOTENCY_RETENTION_DAYS)


async def keep_telemetry_partitions(ctx: JobContext) -> None:
    """Make this month's and next month's telemetry partitions (a no-op when they exist)."""
    async with ctx.pool.acquire() as conn:
        await partitions.ensure_telemetry_partitions(conn, ctx.clock.now())


async def send_daily_digests(ctx: JobContext) -> int:
    """Send each site's daily digest once it is past 08:00 there (claimed per site and day: exactly once)."""
    return len(await digest.send_daily_digests(ctx.pool, ctx.clock.now()))


# A screen that reconnects replays the stream from its last event id; a day covers a night offline.
STREAM_RETENTION = timedelta(days=1)


async def escalate_unacknowledged_alarms(ctx: JobContext) -> int:
    """Escalate alarms no guard acknowledged in time: the supervisor, then the manager."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return len(await alarm_response.escalate_unacknowledged_alarms(conn, ctx.clock.now()))


async def fill_yesterdays_rollups(ctx: JobContext) -> int:
    """Store each site's KPI rollups of yesterday soon after its midnight (idempotent: any process may)."""
    return await reports.fill_yesterdays_rollups(ctx.pool, ctx.clock.now())


async def forget_old_stream_events(ctx: JobContext) -> int:
    """Drop live-stream events past the replay window."""
    async with ctx.pool.acquire() as conn:
        return await stream_queries.forget_events_before(conn, ctx.clock.now() - STREAM_RETENTION)


# An ended or expired session is kept a while for whoever looks into an incident ("who was signed in?").
SESSION_RETENTION = timedelta(days=30)


async def forget_old_sessions(ctx: JobContext) -> int:
    """Drop sessions expired longer than the retention, and expired stream tickets."""
    async with ctx.pool.acquire() as conn:
        return await sessions.forget_old_sessions(conn, SESSION_RETENTION)


async def generate_rounds(ctx: JobContext) -> int:
    """Make the rounds of schedule slots about to start (one per slot: claimed, and unique per slot)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await rounds.generate_rounds(conn, ctx.clock.now())


async def judge_ended_rounds(ctx: JobContext) -> int:
    """Tell the supervisor of points not scanned by their round's slot end (once per round)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await rounds.judge_ended_rounds(conn, ctx.clock.now())


async def generate_safety_checks(ctx: JobContext) -> int:
    """Make each site's quarterly safety check when its quarter begins (one per site and quarter)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await safety_checks.generate_checks(conn, ctx.clock.now())


async def escalate_overdue_hazards(ctx: JobContext) -> int:
    """Tell the supervisors and managers of hazards open past their deadline (once per hazard)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await hazards.escalate_overdue_hazards(conn, ctx.clock.now())


async def remind_promises(ctx: JobContext) -> int:
    """Remind makers of promises due within 15 min (once per promise)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await promises.remind_promises(conn, ctx.clock.now())


async def report_broken_promises(ctx: JobContext) -> int:
    """Tell makers and supervisors of promises past due and not kept (once per promise)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await promises.report_broken_promises(conn, ctx.clock.now())


async def report_missed_appointments(ctx: JobContext) -> int:
    """Tell the supervisor of appointments passed with nobody on site (once per job)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await work_order_actions.report_missed_appointments(conn, ctx.clock.now())


async def draw_routine_samples(ctx: JobContext) -> int:
    """Draw each site's routine callback sample of the month (once per site and month)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await campaigns.draw_routine_samples(conn, ctx.clock.now())


async def add_move_in_calls(ctx: JobContext) -> int:
    """A move-in call for each resident registered a week ago (once per resident)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await campaigns.add_move_in_calls(conn, ctx.clock.now())


# (job, seconds between runs). Kept here so one place says what runs how often.
JOBS: list[tuple[Job, float]] = [
    (watch_device_heartbeats, 15.0),
    (forget_old_idempotency_keys, 3600.0),
    (keep_telemetry_partitions, 6 * 3600.0),
    (send_daily_digests, 3600.0),
    (escalate_unacknowledged_alarms, 5.0),
    (forget_old_stream_events, 3600.0),
    (forget_old_sessions, 3600.0),
    (escalate_due_clocks, 5.0),
    (generate_planned_maintenance, 600.0),
    (generate_rounds, 60.0),
    # every 20 s: a missed point reaches the supervisor within a minute of its slot's end
    (judge_ended_rounds, 20.0),
    (escalate_overdue_hazards, 60.0),
    # every 30 s: a reminder reaches its maker within half a minute of 15 min before the due time
    (remind_promises, 30.0),
    # every 60 s: a no-show is told within a minute of its appointment's grace
    (report_missed_appointments, 60.0),
    (report_broken_promises, 30.0),
    (draw_routine_samples, 3600.0),
    (add_move_in_calls, 3600.0),
    # hourly: a site without a drill of a scenario within a year tells its managers once
    (emergency.remind_missing_drills_job, 3600.0),
    (generate_safety_checks, 600.0),
    # every 5 min: a job of a plan whose work stops a building's service tells its residents ahead, once
    (job_notices.announce_planned_work_job, 300.0),
    # every 5 min: yesterday's rollups are stored within 10 min of a site's midnight (5 min to settle)
    (fill_yesterdays_rollups, 300.0),
]


async def run_job(job: Job, ctx: JobContext) -> Any:
    """Run one job, reporting instead of raising: a failing job must not stop the scheduler."""
    with ctx.health.run(job.__name__, ctx.clock.now()):
        try:
            return await job(ctx)
        except Exception as exc:
            report_fault(site=None, subject="the whole run", error=failure(exc), exc=exc)
            return None


# A job's first run comes no later than this after start: a process just started (or restarted after a
# night) must not wait an hour for the month's callback sample or ten minutes for the quarter's check.
FIRST_RUN_WITHIN = timedelta(seconds=20)


def start_scheduler(ctx: JobContext, jobs: list[tuple[Job, float]] | None = None) -> AsyncIOScheduler:
    """Start APScheduler on the running loop with every job at its interval."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    started = datetime.now(UTC)
    for job, seconds in jobs if jobs is not None else JOBS:
        scheduler.add_job(
            run_job,
            "interval",
            seconds=seconds,
            next_run_time=started + min(timedelta(seconds=seconds), FIRST_RUN_WITHIN),
            args=[job, ctx],
            id=job.__name__,
            # a slow run must not pile up copies of itself
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return scheduler
