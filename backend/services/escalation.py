"""SLA escalation: a breach tells the assignee and the site's supervisors; still unmet after a further half
of the clock's length, the managers. Every step is also an event in the work order's log.

Each clock's steps are a savepoint of their own: one that fails is skipped (reported with its site, see
backend/services/job_health.py), stays unmarked and is tried again next run, and the others go on.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from backend.db.queries import clocks as clock_q
from backend.db.queries import work_orders as q
from backend.services.job_context import JobContext
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify, notify_roles, publish

# Rows per claim: small enough to keep the transaction short, the job runs every few seconds.
CLAIM_BATCH = 100
CLOCK_LABELS = {"respond": "响应", "arrive": "到场", "resolve": "完成", "callback": "回访"}


async def _record(conn: asyncpg.Connection, claim: asyncpg.Record, *, step: str, now: datetime) -> None:
    wo = await q.work_order_brief(conn, claim["work_order_id"])
    bumped = await q.bump_version(conn, wo["id"], now)
    action = "sla_breached" if step == "breach" else "sla_escalated"
    clock = claim["clock"]
    await q.append_event(
        conn,
        work_order_id=wo["id"],
        seq=bumped["version"],
        action=action,
        from_status=bumped["status"],
        to_status=bumped["status"],
        actor_id=None,
        at=now,
        payload={"clock": clock, "dueAt": claim["due_at"].isoformat()},
    )
    label = CLOCK_LABELS.get(clock, clock)
    message = {
        "kind": "sla_breach" if step == "breach" else "sla_escalation",
        "title": f"{wo['number']} {label}超时: {wo['title']}",
        "body": wo["location"] or "",
        "data": {"workOrderId": str(wo["id"]), "clock": clock, "step": step},
        "urgency": "high",
        "dedupe_key": f"{action}:{wo['id']}:{clock}:{claim['due_at'].isoformat()}",
    }
    if step == "breach":
        assignee = wo["assignee_id"] or (wo["last_assignee_id"] if clock == "callback" else None)
        if assignee is not None:
            await notify(conn, site_id=wo["site_id"], recipient_ids=[assignee], **message)
        told = await notify_roles(conn, site_id=wo["site_id"], roles=("supervisor",), **message)
    else:
        told = await notify_roles(conn, site_id=wo["site_id"], roles=("manager",), **message)
    await publish(
        conn,
        site_id=wo["site_id"],
        type="escalation",
        data={
            "workOrderId": str(wo["id"]),
            "number": wo["number"],
            "clock": clock,
            "step": step,
            "version": bumped["version"],
            "told": [str(u) for u in told],
        },
    )
    await publish(
        conn,
        site_id=wo["site_id"],
        type="work_order.updated",
        data={
            "id": str(wo["id"]),
            "number": wo["number"],
            "status": bumped["status"],
            "version": bumped["version"],
            "action": action,
        },
    )


async def escalate_due(conn: asyncpg.Connection, now: datetime, limit: int = CLAIM_BATCH) -> int:
    """Claim and escalate due clocks in the caller's transaction; returns how many steps were taken."""
    steps = 0
    for claim in await clock_q.claim_due_clocks(conn, now, limit):
        subject = f"{claim['clock']} clock of work order {claim['work_order_id']}"
        async with savepoint_skipped_on_failure(conn, site=claim["site_code"], subject=subject):
            steps += await _escalate_clock(conn, claim, now)
    return steps


async def _escalate_clock(conn: asyncpg.Connection, claim: asyncpg.Record, now: datetime) -> int:
    steps = 0
    if claim["breach"]:
        await _record(conn, claim, step="breach", now=now)
        steps += 1
    if claim["escalate"]:
        await _record(conn, claim, step="escalate", now=now)
        steps += 1
    await clock_q.mark_clock_step(
        conn, claim["work_order_id"], claim["clock"], now=now, escalate=claim["escalate"]
    )
    return steps


async def escalate_due_clocks(ctx: JobContext) -> int:
    """Scheduler job (every 5 s): escalate what is due now; safe to run in every API process at once."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await escalate_due(conn, ctx.clock.now())
