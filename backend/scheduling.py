"""APScheduler jobs. Every API process runs every job, so each job claims its own rows
(FOR UPDATE SKIP LOCKED) or records its run, and running it twice changes nothing.

A job works site by site or row by row where a bad one could stop the rest: what it has to skip is logged
as an error naming the site and shown by /ready (backend/services/job_health.py), and the others go on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from backend.db.queries import idempotency, partitions
from backend.db.queries import stream as stream_queries
from backend.domain.clock import Clock
from backend.services import alarm_response, digest, hazards, rounds, sessions
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


async def escalate_overdue_hazards(ctx: JobContext) -> int:
    """Tell the supervisors and managers of hazards open past their deadline (once per hazard)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await hazards.escalate_overdue_hazards(conn, ctx.clock.now())


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
]


async def run_job(job: Job, ctx: JobContext) -> Any:
    """Run one job, reporting instead of raising: a failing job must not stop the scheduler."""
    with ctx.health.run(job.__name__, ctx.clock.now()):
        try:
            return await job(ctx)
        except Exception as exc:
            report_fault(site=None, subject="the whole run", error=failure(exc), exc=exc)
            return None


def start_scheduler(ctx: JobContext, jobs: list[tuple[Job, float]] | None = None) -> AsyncIOScheduler:
    """Start APScheduler on the running loop with every job at its interval."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job, seconds in jobs if jobs is not None else JOBS:
        scheduler.add_job(
            run_job,
            "interval",
            seconds=seconds,
            args=[job, ctx],
            id=job.__name__,
            # a slow run must not pile up copies of itself
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    return scheduler
