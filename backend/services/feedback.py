"""Suggestions and praise (建议/表扬): filed at the desk or from an owner's page, routed, answered, counted.

`file_feedback` is the one way in — the desk's intake (`record_feedback`) and the owner's page both call it.
A suggestion or praise goes to the site's supervisor (the one on duty, else the first by name, as an
escalated complaint does; a site without one: its manager); praise is also put on the praised person's
record and they are told. An answer to the owner (how, and what was said) closes it, once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.db.queries import dispatch as dispatch_q
from backend.db.queries import feedback as q
from backend.db.queries import work_orders as work_order_q
from backend.domain import feedback as rules
from backend.domain.feedback import Feedback, FeedbackAnswer, FeedbackCreate
from backend.domain.models import CurrentUser
from backend.domain.workflow import Candidate, escalation_handler
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.services.notifications import notify
from backend.services.sites import site_for, site_ids_for

_KIND_WORDS = {"suggestion": "建议", "praise": "表扬"}


def _feedback(row: asyncpg.Record) -> Feedback:
    return Feedback(**dict(row))


async def file_feedback(
    conn: asyncpg.Connection,
    site_id: UUID,
    unit_id: UUID | None,
    kind: str,
    text: str,
    channel: str,
    *,
    now: datetime,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    praised_user_id: UUID | None = None,
    received_by: UUID | None = None,
) -> Feedback:
    """Record a suggestion or praise at `site_id` (and `unit_id`, if known), route it and tell who it goes to.

    kind: 'suggestion' | 'praise'; channel: 'phone' | 'counter' | 'app' (an owner's page files with 'app');
    praised_user_id: for praise, the member of staff of the site praised; received_by: the desk user who
    took it (None when the owner filed it). Raises ValidationFailed naming the field.
    """
    if kind not in rules.FEEDBACK_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.FEEDBACK_KINDS)}", field="kind")
    if channel not in rules.FEEDBACK_CHANNELS:
        raise ValidationFailed(
            f"channel must be one of {', '.join(rules.FEEDBACK_CHANNELS)}", field="channel"
        )
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("say what the owner suggested or praised", field="text", code="field_required")
    rules.check_praised(kind, praised_user_id)
    if unit_id is not None:
        unit = await work_order_q.get_unit(conn, unit_id)
        if unit is None or unit["site_id"] != site_id:
            raise ValidationFailed("no such unit", field="unitId")
    if (
        praised_user_id is not None
        and await dispatch_q.assignable_user(conn, praised_user_id, site_id) is None
    ):
        raise ValidationFailed(
            "the person praised must be staff of this site", field="praisedUserId", code="praised_not_staff"
        )
    people = [
        Candidate(id=p["id"], role=p["role"], name=p["display_name"], on_duty=p["on_duty"])
        for p in await dispatch_q.escalation_candidates(conn, site_id)
    ]
    routed = escalation_handler(rules.ROUTED_TO_LEVEL, people)
    feedback_id = await q.insert(
        conn,
        {
            "site_id": site_id,
            "unit_id": unit_id,
            "kind": kind,
            "text": text,
            "channel": channel,
            "reporter_name": reporter_name,
            "reporter_phone": reporter_phone,
            "praised_user_id": praised_user_id,
            "routed_to": routed.id if routed else None,
            "received_by": received_by,
            "created_at": now,
        },
    )
    title = f"业主{_KIND_WORDS[kind]}: {text[:40]}"
    data = {"feedbackId": str(feedback_id), "kind": kind}
    if routed is not None:
        await notify(
            conn, site_id=site_id, recipient_ids=[routed.id], kind="feedback", title=title, data=data
        )
    if praised_user_id is not None and (routed is None or praised_user_id != routed.id):
        await notify(
            conn, site_id=site_id, recipient_ids=[praised_user_id], kind="praise", title=title, data=data
        )
    row = await q.get(conn, feedback_id)
    assert row is not None
    return _feedback(row)


async def record_feedback(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: FeedbackCreate, now: datetime
) -> Feedback:
    """A suggestion or praise taken at the desk: the home by id or building + number, else the site."""
    if data.unit_id is not None:
        unit = await work_order_q.get_unit(conn, data.unit_id)
        if unit is None or not actor.may_see_site(unit["site_id"]):
            raise ValidationFailed("no such unit", field="unitId")
        site_id, unit_id = unit["site_id"], unit["id"]
    elif data.building or data.unit_number:
        if not data.building or not data.unit_number:
            raise ValidationFailed("give both building and unitNumber", field="unitNumber")
        site_id = (await site_for(conn, actor, data.site)).id
        unit = await work_order_q.find_unit(conn, site_id, data.building, data.unit_number)
        if unit is None:
            raise ValidationFailed(f"no unit {data.building} {data.unit_number}", field="unitNumber")
        unit_id = unit["id"]
    else:
        site_id, unit_id = (await site_for(conn, actor, data.site)).id, None
    return await file_feedback(
        conn,
        site_id,
        unit_id,
        data.kind,
        data.text,
        data.channel,
        now=now,
        reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone,
        praised_user_id=data.praised_user_id,
        received_by=actor.id,
    )


async def answer_feedback(
    conn: asyncpg.Connection, *, actor: CurrentUser, feedback_id: UUID, data: FeedbackAnswer, now: datetime
) -> Feedback:
    """Record the answer given to the owner, which closes the feedback; a second answer is a 409."""
    row = await q.lock(conn, feedback_id)
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such feedback", code="feedback_not_found")
    if row["answered_at"] is not None:
        raise Conflict("this feedback has already been answered", code="feedback_answered")
    await q.answer(conn, feedback_id, by=actor.id, at=now, via=data.via, text=data.summary)
    answered = await q.get(conn, feedback_id)
    assert answered is not None
    return _feedback(answered)


async def list_feedback(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    kind: str | None,
    open_only: bool | None,
    praised_user_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[Feedback], int]:
    """The feedback of the viewer's sites (or one), open first then newest; and the total."""
    if kind is not None and kind not in rules.FEEDBACK_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(rules.FEEDBACK_KINDS)}", field="kind")
    site_ids = await site_ids_for(conn, viewer, site)
    rows, total = await q.page(
        conn,
        site_ids,
        kind=kind,
        open_only=open_only,
        praised_user_id=praised_user_id,
        limit=limit,
        offset=offset,
    )
    return [_feedback(r) for r in rows], total
