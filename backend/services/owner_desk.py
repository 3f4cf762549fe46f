"""The staff side of owners' messages: a case's messages (to and from its owners) in its history, a reply
to the owners through the same outbox, and the failed messages of a site with a retry by hand."""

from __future__ import annotations

import base64
import hashlib
import html
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import segno

from backend.db.queries import owners as q
from backend.domain.models import CurrentUser
from backend.domain.owner_messages import STAFF_REPLY_MAX, mask_recipient
from backend.domain.roles import DESK_ROLES, Role
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services.messages import notify_unit
from backend.services.sites import site_ids_for


def _must_be_desk(viewer: CurrentUser) -> None:
    if viewer.role not in DESK_ROLES:
        raise Forbidden(f"the {viewer.role} role may not handle owners' messages", code="role_forbidden")


async def _case(conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID) -> asyncpg.Record:
    case = await q.case_site(conn, work_order_id)
    if case is None or not viewer.may_see_site(case["site_id"]):
        raise NotFound("no such work order", code="work_order_not_found")
    return case


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _history_item(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "direction": row["direction"],
        "kind": row["kind"],
        "channel": row["channel"],
        "to": mask_recipient(row["channel"], row["recipient"]) if row["recipient"] else None,
        "resident": row["resident"],
        "status": row["status"],
        "attempts": row["attempts"],
        "text": row["body"],
        "error": row["last_error"],
        "at": row["created_at"].isoformat(),
        "sentAt": _iso(row["sent_at"]),
        "failedAt": _iso(row["failed_at"]),
    }


async def case_messages(
    conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID, limit: int, offset: int
) -> dict[str, Any]:
    """What the case's owners were sent (with each message's status) and what they told staff."""
    _must_be_desk(viewer)
    await _case(conn, viewer, work_order_id)
    rows, total = await q.case_history(conn, work_order_id, limit, offset)
    unread = await q.unread_note_ids(conn, work_order_id)
    items = [{**_history_item(r), "unread": r["id"] in unread} for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


async def reply(
    conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID, text: str, now: datetime
) -> dict[str, Any]:
    """A reply to the case's owners, queued in the outbox like every other message (SMS and email)."""
    _must_be_desk(viewer)
    case = await _case(conn, viewer, work_order_id)
    text = " ".join(text.split())
    if not text:
        raise ValidationFailed("write the reply", field="text")
    if len(text) > STAFF_REPLY_MAX:
        raise ValidationFailed(f"at most {STAFF_REPLY_MAX} characters", field="text")
    if case["unit_id"] is None:
        raise Conflict("this case has no home: there is nobody to reply to", code="owner_reply_no_home")
    ids = await notify_unit(
        conn,
        now=now,
        site_id=case["site_id"],
        unit_id=case["unit_id"],
        kind="staff_reply",
        event_key=f"wo:{work_order_id}:staff_reply:{uuid.uuid4()}",
        params={"number": case["number"], "reply": text},
        work_order_id=work_order_id,
    )
    if not ids:
        raise Conflict("nobody of this home has a phone or email on file", code="owner_reply_no_recipient")
    await q.stamp_reply(conn, ids, viewer.id, now)
    return {"queued": len(ids)}


async def mark_read(
    conn: asyncpg.Connection, viewer: CurrentUser, work_order_id: UUID, now: datetime
) -> dict[str, Any]:
    """A desk user opened the case: its owners' messages are read."""
    _must_be_desk(viewer)
    await _case(conn, viewer, work_order_id)
    return {"read": await q.mark_owner_messages_read(conn, work_order_id, viewer.id, now)}


async def waiting_for_answer(
    conn: asyncpg.Connection, viewer: CurrentUser, site: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """The desk's worklist: cases whose owner wrote after the last reply, the longest waiting first."""
    _must_be_desk(viewer)
    site_ids = await site_ids_for(conn, viewer, site)
    rows, total = await q.cases_waiting_for_answer(conn, site_ids, limit, offset)
    items = [
        {
            "workOrderId": str(r["work_order_id"]),
            "number": r["number"],
            "caseKind": r["kind"],
            "status": r["status"],
            "title": r["title"],
            "waiting": r["waiting"],
            "unread": r["unread"],
            "since": r["since"].isoformat(),
            "lastText": r["last_text"],
        }
        for r in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _failed_item(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "siteId": str(row["site_id"]),
        "workOrderId": str(row["work_order_id"]) if row["work_order_id"] else None,
        "number": row["number"],
        "caseKind": row["case_kind"],
        "alarmId": str(row["alarm_id"]) if row["alarm_id"] else None,
        "kind": row["kind"],
        "channel": row["channel"],
        "to": mask_recipient(row["channel"], row["recipient"]),
        "attempts": row["attempts"],
        "error": row["last_error"],
        "failedAt": _iso(row["failed_at"]),
        "text": row["body"],
    }


async def failed_messages(
    conn: asyncpg.Connection, viewer: CurrentUser, site: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """Messages that ended failed on the viewer's sites (or one site), the latest first."""
    _must_be_desk(viewer)
    site_ids = await site_ids_for(conn, viewer, site)
    rows, total = await q.failed_on_sites(conn, site_ids, limit, offset)
    return {"items": [_failed_item(r) for r in rows], "total": total, "limit": limit, "offset": offset}


def message_number(raw: str) -> int:
    """A message id from a path: a positive number, else no such message."""
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such message", code="owner_message_not_found")
    return int(raw)


async def retry(
    conn: asyncpg.Connection, viewer: CurrentUser, message_id: int, now: datetime
) -> dict[str, Any]:
    """A failed message queued again: the same row, so it still goes once."""
    _must_be_desk(viewer)
    message = await q.message_site(conn, message_id)
    if message is None or not viewer.may_see_site(message["site_id"]):
        raise NotFound("no such message", code="owner_message_not_found")
    if message["kind"] == "sign_in_code":
        raise Conflict(
            "a sign-in code is not sent again: the owner asks for a new one", code="owner_message_code"
        )
    if not await q.retry_failed(conn, message_id, viewer.id, now):
        raise Conflict("this message is not failed (already sent again?)", code="owner_message_not_failed")
    return {"id": message_id, "status": "pending"}


# ---- the printable sheet of a building's unit links (one QR code per door) ----

SHEET_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
UNIT_SHEET_STYLE = """
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 0; color: #000; }
h1 { font-size: 14pt; margin: 0 0 6mm; }
.sheet { display: grid; grid-template-columns: repeat(4, 1fr); gap: 5mm; }
.unit { margin: 0; padding: 3mm; border: 1px dashed #888; text-align: center; break-inside: avoid; }
.unit svg { width: 38mm; height: 38mm; }
figcaption { font-size: 14pt; font-weight: bold; }
.hint { font-size: 9pt; font-weight: normal; display: block; }
"""


def unit_sheet_style_source() -> str:
    """The sheet's inline style by hash (it opens from a blob: URL, under the app's policy)."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(UNIT_SHEET_STYLE.encode()).digest()).decode()}'"


UNIT_SHEET_POLICY = (
    f"default-src 'none'; style-src {unit_sheet_style_source()}; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def unit_link_url(base: str, link: str) -> str:
    return f"{base.rstrip('/')}/owner.html#u={link}"


async def unit_link_sheet(conn: asyncpg.Connection, viewer: CurrentUser, building_id: UUID, base: str) -> str:
    """A4 pages of QR codes, one per unit of the building, the unit's number under each."""
    if viewer.role not in SHEET_ROLES:
        raise Forbidden("only managers print the owners' links", code="role_forbidden")
    rows = await q.building_unit_links(conn, building_id)
    if not rows or not viewer.may_see_site(rows[0]["site_id"]):
        raise NotFound("no such building", code="building_not_found")
    cells = "\n".join(
        f'<figure class="unit" data-unit="{html.escape(r["number"])}">'
        f"{segno.make(unit_link_url(base, r['owner_link']), error='m').svg_inline(scale=4, border=2)}"
        f"<figcaption>{html.escape(r['building'])} {html.escape(r['number'])}"
        f'<span class="hint">扫码报修 · 查看进度 / Scan to report a repair</span></figcaption></figure>'
        for r in rows
        if r["number"] is not None
    )
    title = f"{html.escape(rows[0]['site'])} · {html.escape(rows[0]['building'])} · 业主服务二维码"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>{UNIT_SHEET_STYLE}</style></head>
<body><h1>{title}</h1><div class="sheet">
{cells}
</div></body></html>"""
