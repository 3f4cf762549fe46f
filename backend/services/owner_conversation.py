"""The conversation on a case between its owners and the office (docs/OWNERS.md "Writing to staff").

An owner writes from the owner's page; the message is kept on the case (`owner_case_notes`, kind
`message`), once per request key, and the case's handler is told — or the site's agents when nobody holds
the case (unassigned, finished or cancelled: a message on a closed case still reaches the desk). Staff
read it in the case's history (unread until a desk user opens the case) and answer with the existing reply
(`staff_reply`, SMS and email through the outbox); the owner's thread shows both, oldest first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.db.queries import owners as q
from backend.domain.owner_messages import OWNER_NOTE_MAX, OWNER_NOTES_PER_HOUR, owner_note_goes_to_handler
from backend.errors import NotFound, TooManyRequests, ValidationFailed
from backend.services.notifications import notify, notify_roles
from backend.services.owner_portal import check_request_key

RATE_WINDOW = timedelta(hours=1)


async def _own_case(conn: asyncpg.Connection, owner: asyncpg.Record, work_order_id: UUID) -> asyncpg.Record:
    case = await q.unit_case(conn, owner["unit_id"], work_order_id)
    if case is None:
        raise NotFound("no such case", code="owner_case_not_found")
    return case


def _thread_item(row: asyncpg.Record, zone: ZoneInfo) -> dict[str, Any]:
    staff = None
    if row["author"] == "staff":
        staff = {"role": row["role"], "name": row["name"]}
    return {
        "id": row["id"],
        "from": row["author"],
        "text": row["text"],
        "at": row["at"].astimezone(zone).isoformat(),
        "staff": staff,
    }


async def thread(conn: asyncpg.Connection, owner: asyncpg.Record, work_order_id: UUID) -> dict[str, Any]:
    """One owner's conversation on one of the unit's cases, oldest first, times in the site's zone."""
    case = await _own_case(conn, owner, work_order_id)
    zone = ZoneInfo(case["timezone"])
    rows = await q.owner_thread(conn, work_order_id, owner["resident_id"])
    return {
        "caseId": str(case["id"]),
        "number": case["number"],
        "status": case["status"],
        "timeZone": case["timezone"],
        "maxLength": OWNER_NOTE_MAX,
        "items": [_thread_item(r, zone) for r in rows],
    }


async def _tell_staff(conn: asyncpg.Connection, work_order_id: UUID, note_id: int, text: str) -> None:
    """The handler (or the site's agents) told once per message, whatever is retried."""
    case = await q.case_handler(conn, work_order_id)
    screen = "complaint" if case["kind"] == "complaint" else "job"
    message = {
        "kind": "owner_message",
        "title": f"业主留言 {case['number']}: {text[:40]}",
        "data": {
            "workOrderId": str(work_order_id),
            "number": case["number"],
            "url": f"/#/{screen}/{work_order_id}",
        },
        "dedupe_key": f"owner-note:{note_id}",
    }
    if owner_note_goes_to_handler(status=case["status"], has_handler=case["assignee_id"] is not None):
        await notify(conn, site_id=case["site_id"], recipient_ids=[case["assignee_id"]], **message)
    else:
        await notify_roles(conn, site_id=case["site_id"], roles=("agent",), **message)


async def write(
    conn: asyncpg.Connection,
    owner: asyncpg.Record,
    work_order_id: UUID,
    *,
    text: str,
    request_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An owner's message on one of the unit's cases; the same request key keeps it once. Answers the
    thread."""
    await _own_case(conn, owner, work_order_id)
    check_request_key(request_key)
    text = text.strip()
    if not text:
        raise ValidationFailed("write the message", field="text")
    if len(text) > OWNER_NOTE_MAX:
        raise ValidationFailed(f"at most {OWNER_NOTE_MAX} characters", field="text")
    note_id = await q.add_owner_message(conn, work_order_id, owner["resident_id"], text, request_key, now)
    if note_id is not None:
        # counted with this one; the request's transaction drops it again when over the limit
        if await q.owner_messages_since(conn, owner["resident_id"], now - RATE_WINDOW) > OWNER_NOTES_PER_HOUR:
            wait = int(RATE_WINDOW.total_seconds())
            error = TooManyRequests(f"at most {OWNER_NOTES_PER_HOUR} messages an hour", retry_after=wait)
            error.code = "owner_too_many_messages"
            raise error
        await _tell_staff(conn, work_order_id, note_id, text)
    return await thread(conn, owner, work_order_id)
