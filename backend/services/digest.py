"""The daily digest: once a day per site, after 08:00 site time, supervisors and managers get yesterday's
complaints and breaches, the work that is overdue now and the follow-up calls due today.

Every API process runs the scheduler, so each site's digest is claimed in job_runs (INSERT … ON CONFLICT DO
NOTHING) in the same transaction that queues the notifications: exactly one process sends it, and a failure
rolls back the claim so the next hourly run tries again.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from backend.db.queries import reports as q
from backend.domain.kpis import DigestFacts, digest_text, local_today, period_between
from backend.domain.models import SiteRef
from backend.domain.roles import Role
from backend.services.job_health import failure, report_fault
from backend.services.notifications import notify_roles

JOB_NAME = "daily_digest"
# Sent once the working day has started at the site, so it is read at the morning meeting, not at midnight.
SEND_FROM = time(8, 0)
RECIPIENT_ROLES = (Role.SUPERVISOR, Role.MANAGER)


def due_day(now: datetime, timezone: str) -> str | None:
    """The day (ISO) whose digest is due at `now` at a site: yesterday once past 08:00 there, else None."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.time() < SEND_FROM:
        return None
    return (local.date() - timedelta(days=1)).isoformat()


async def send_site_digest(conn: asyncpg.Connection, site: SiteRef, now: datetime) -> DigestFacts | None:
    """Claim and queue one site's digest for the day due; None when it is not due yet or was already sent.

    `conn` must be in a transaction: the claim and the notifications commit together.
    """
    day_iso = due_day(now, site.timezone)
    if day_iso is None or not await q.claim_job_run(conn, JOB_NAME, str(site.id), day_iso):
        return None
    yesterday = datetime.fromisoformat(day_iso).date()
    day = period_between(yesterday, yesterday, site.timezone)
    today = local_today(now, site.timezone)
    today_end = period_between(today, today, site.timezone).end
    facts = await q.digest_facts(conn, site.id, day, now, today_end)
    title, body = digest_text(facts, site.name)
    await notify_roles(
        conn,
        site_id=site.id,
        roles=RECIPIENT_ROLES,
        kind="digest",
        title=title,
        body=body,
        data={"type": "digest", "siteCode": site.code, "day": day_iso, "facts": msgspec.to_builtins(facts)},
        urgency="low",
        dedupe_key=f"digest:{site.id}:{day_iso}",
    )
    return facts


async def send_daily_digests(pool: asyncpg.Pool, now: datetime) -> list[DigestFacts]:
    """Send every site's digest that is due and not yet sent; returns what this process sent."""
    async with pool.acquire() as conn:
        sites = await q.all_sites(conn)
    sent: list[DigestFacts] = []
    for site in sites:
        # one transaction per site: a failing site (a bad time zone, a bad row) does not hold back the others
        try:
            async with pool.acquire() as conn, conn.transaction():
                facts = await send_site_digest(conn, site, now)
        except Exception as exc:
            report_fault(
                site=site.code, subject="daily digest (the next run retries)", error=failure(exc), exc=exc
            )
            continue
        if facts is not None:
            sent.append(facts)
    return sent
