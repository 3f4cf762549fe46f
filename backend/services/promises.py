"""Promises made to owners on cases: record, keep, list; the scheduler's reminders and broken-promise
notices (each once per promise: the row is claimed and stamped in the same transaction)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.db.queries import promises as q
from backend.domain.models import CurrentUser
from backend.domain.promises import (
    PROMISE_ROLES,
    REMINDER_LEAD,
    Promise,
    PromiseCreate,
    PromiseKeep,
    may_promise,
    promise_refusal,
)
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify, notify_roles


async def _case_site(conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser) -> UUID:
    site_id = await q.case_site(conn, work_order_id)
    if site_id is None or not viewer.may_see_site(site_id):
        raise NotFound("no such work order", code="work_order_not_found")
    return site_id


def _may_promise(viewer: CurrentUser) -> None:
    if viewer.role not in PROMISE_ROLES:
        raise Forbidden(f"the {viewer.role} role does not make promises to owners", code="role_forbidden")


async def make_promise(
    conn: asyncpg.Connection, *, work_order_id: UUID, actor: CurrentUser, data: PromiseCreate, now: datetime
) -> Promise:
    """Record a promise made to the owner on this case, by the caller."""
    _may_promise(actor)
    site_id = await _case_site(conn, work_order_id, actor)
    reporter = await q.case_reporter(conn, work_order_id)
    assert reporter is not None  # the case was just found
    if not may_promise(actor.role, **dict(reporter)):
        raise Conflict("nobody reported this case: there is no one to promise to", code="no_one_to_promise")
    refusal = promise_refusal(data.due_at, now)
    if refusal is not None:
        raise ValidationFailed(refusal, field="dueAt", code="promise_refused")
    promise_id = await q.add_promise(
        conn, work_order_id=work_order_id, site_id=site_id, text=data.text, due_at=data.due_at,
        made_by=actor.id, now=now,
    )  # fmt: skip
    promise = await q.get_promise(conn, promise_id, now)
    assert promise is not None
    return promise


async def keep_promise(
    conn: asyncpg.Connection, *, promise_id: UUID, actor: CurrentUser, data: PromiseKeep, now: datetime
) -> Promise:
    """Mark a promise kept (once: a second time is a conflict)."""
    _may_promise(actor)
    async with conn.transaction():
        row = await q.promise_site(conn, promise_id, lock=True)
        if row is None or not actor.may_see_site(row["site_id"]):
            raise NotFound("no such promise", code="promise_not_found")
        if row["kept_at"] is not None:
            raise Conflict("the promise is already kept", code="promise_already_kept")
        await q.keep_promise(conn, promise_id, by=actor.id, note=data.note, now=now)
    promise = await q.get_promise(conn, promise_id, now)
    assert promise is not None
    return promise


async def case_promises(
    conn: asyncpg.Connection, *, work_order_id: UUID, viewer: CurrentUser, now: datetime
) -> list[Promise]:
    """The promises made on a case, oldest first."""
    await _case_site(conn, work_order_id, viewer)
    return await q.list_promises(conn, work_order_id, now)


async def remind_promises(conn: asyncpg.Connection, now: datetime) -> int:
    """Remind each maker REMINDER_LEAD before their open promise is due (once per promise)."""
    told = 0
    for row in await q.claim_reminders(conn, now, REMINDER_LEAD):
        async with savepoint_skipped_on_failure(conn, site=row["site_code"], subject=f"promise {row['id']}"):
            await notify(
                conn,
                site_id=row["site_id"],
                recipient_ids=[row["made_by"]],
                kind="promise_due",
                title=f"承诺即将到期 {row['number']}: {row['text']}",
                body=f"{row['title']} · 到期 {row['due_at'].isoformat()}",
                data={"workOrderId": str(row["work_order_id"]), "promiseId": str(row["id"])},
                urgency="high",
                dedupe_key=f"promise_due:{row['id']}",
            )
            await q.mark(conn, row["id"], "reminded_at", now)
            told += 1
    return told


async def report_broken_promises(conn: asyncpg.Connection, now: datetime) -> int:
    """Tell the maker and the site's supervisors of each promise past due and not kept (once per promise)."""
    told = 0
    for row in await q.claim_broken(conn, now):
        async with savepoint_skipped_on_failure(conn, site=row["site_code"], subject=f"promise {row['id']}"):
            message = {
                "kind": "promise_broken",
                "title": f"承诺未兑现 {row['number']}: {row['text']}",
                "body": f"{row['title']} · 已过期 {row['due_at'].isoformat()}",
                "data": {"workOrderId": str(row["work_order_id"]), "promiseId": str(row["id"])},
                "urgency": "high",
                "dedupe_key": f"promise_broken:{row['id']}",
            }
            await notify(conn, site_id=row["site_id"], recipient_ids=[row["made_by"]], **message)
            await notify_roles(conn, site_id=row["site_id"], roles=("supervisor",), **message)
            await q.mark(conn, row["id"], "broken_at", now)
            told += 1
    return told
