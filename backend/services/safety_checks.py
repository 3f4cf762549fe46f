"""The quarterly safety check: one per site per quarter made by the scheduler, answered point by point on the
phone; a finding goes straight into the hazard ledger (source `quarterly_check`), linked both ways.

`generate_safety_checks` runs in every scheduler process: the unique (site, quarter) key makes a second
process's insert a no-op, so each site gets exactly one check a quarter and its supervisors are told once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.db.queries import safety_checks as q
from backend.db.queries.rows import struct_of
from backend.domain import safety_checks as rules
from backend.domain.models import CurrentUser
from backend.domain.safety_checks import AnswerForm, CheckPointAnswer, SafetyCheck, SafetyCheckPage
from backend.domain.sla import credited_time
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services import hazards
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify_roles, publish
from backend.services.rounds import keep_photo
from backend.services.sites import every_site, site_ids_for
from backend.storage import Storage

STATUSES = ("open", "done")
_POINTS = {p.code: p for p in rules.FOCUS_POINTS}


def _must_check(user: CurrentUser) -> None:
    if user.role not in rules.CHECK_ROLES:
        raise Forbidden("supervisors and managers carry out the quarterly check", code="role_forbidden")


def _check_view(row: asyncpg.Record, points: list[asyncpg.Record] | None = None) -> SafetyCheck:
    return struct_of(
        SafetyCheck,
        row,
        points=[_point_view(p) for p in points or []],
    )


def _point_view(row: asyncpg.Record) -> CheckPointAnswer:
    template = _POINTS.get(row["code"])
    return struct_of(
        CheckPointAnswer,
        row,
        label_zh=template.label_zh if template else row["code"],
        label_en=template.label_en if template else row["code"],
        hint_zh=template.hint_zh if template else "",
        hint_en=template.hint_en if template else "",
        has_photo=row["photo_sha256"] is not None,
    )


# ---- the scheduler's job ----


async def generate_checks(conn: asyncpg.Connection, now: datetime) -> int:
    """Make each site's check of its current quarter unless it exists; returns how many were made."""
    made = 0
    for site, zone in await every_site(conn):
        today = now.astimezone(zone).date()
        async with savepoint_skipped_on_failure(conn, site=site.code, subject="quarterly safety check"):
            start, end = rules.quarter_bounds(today)
            quarter = rules.quarter_of(today)
            check_id = await q.insert_check(
                conn, site_id=site.id, quarter=quarter, period_start=start, due_on=end, now=now
            )
            if check_id is None:
                continue
            made += 1
            await notify_roles(
                conn,
                site_id=site.id,
                roles=("supervisor", "manager"),
                kind="safety_check_due",
                title=f"{quarter} 季度安全检查：{site.name}",
                body=f"请于 {end.isoformat()} 前完成 {len(rules.FOCUS_POINTS)} 项重点检查",
                data={"url": f"/#/safetyCheck/{check_id}"},
                dedupe_key=f"safety_check_due:{check_id}",
            )
    return made


# ---- reading ----


async def list_checks(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> SafetyCheckPage:
    """The checks of the viewer's sites, newest quarter first."""
    _must_check(viewer)
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}", field="status")
    rows, total = await q.list_checks(
        conn, await site_ids_for(conn, viewer, site), status=status, limit=limit, offset=offset
    )
    return SafetyCheckPage(items=[_check_view(r) for r in rows], total=total, limit=limit, offset=offset)


async def _visible(
    conn: asyncpg.Connection, viewer: CurrentUser, check_id: UUID, *, lock: bool
) -> asyncpg.Record:
    row = await q.get_check(conn, check_id, lock=lock)
    # another site's check answers like a missing one
    if row is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such safety check", code="safety_check_not_found")
    return row


async def get_check(conn: asyncpg.Connection, *, viewer: CurrentUser, check_id: UUID) -> SafetyCheck:
    """One check with its points and answers."""
    _must_check(viewer)
    row = await _visible(conn, viewer, check_id, lock=False)
    return _check_view(row, await q.points(conn, check_id))


# ---- answering ----


async def answer_point(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    actor: CurrentUser,
    check_id: UUID,
    code: str,
    form: AnswerForm,
    photo: tuple[bytes, str | None, str | None] | None,
    now: datetime,
) -> SafetyCheck:
    """Record one point's answer at the phone's time; a finding registers a hazard (登记) with its note,
    photo and risk level, linked to the check. A point is answered once (409 after that)."""
    _must_check(actor)
    row = await _visible(conn, actor, check_id, lock=True)
    template = _POINTS.get(code)
    if template is None:
        raise NotFound("no such point on this check", code="safety_check_point_not_found")
    problem = rules.answer_problem(form.outcome, form.note, photo is not None, form.risk_level)
    if problem == "note":
        raise ValidationFailed("say what is wrong or add a photo", field="note", code="finding_needs_note")
    if problem == "riskLevel":
        raise ValidationFailed("a finding needs its risk level", field="riskLevel", code="finding_needs_risk")
    answered_at = credited_time(form.client_at, row["created_at"], now)
    site_zone = await conn.fetchval("SELECT timezone FROM sites WHERE id = $1", row["site_id"])
    hashes = await keep_photo(conn, storage, photo, site_zone) if photo is not None else (None, None)
    finding = form.outcome == "finding"
    if not await q.answer_point(
        conn,
        check_id,
        code,
        outcome=form.outcome,
        note=form.note,
        risk_level=form.risk_level if finding else None,
        photo_sha256=hashes[0],
        thumb_sha256=hashes[1],
        answered_by=actor.id,
        answered_at=answered_at,
        client_at=form.client_at,
    ):
        raise Conflict("this point of the check is answered already", code="safety_check_point_answered")
    if finding:
        assert form.risk_level is not None  # answer_problem demanded it
        hazard_id = await hazards.register_hazard(
            conn,
            site_id=row["site_id"],
            source="quarterly_check",
            place=f"{row['quarter']} 季度安全检查 · {template.label_zh}",
            description=form.note or f"{template.label_zh}：检查发现问题（见照片）",
            risk_level=form.risk_level,
            reported_by=actor.id,
            at=answered_at,
            now=now,
            photo=hashes,
        )
        assert hazard_id is not None  # only a round finding can be registered twice
        await q.link_hazard(conn, check_id, code, hazard_id)
    if await q.complete_if_answered(conn, check_id, now):
        await publish(
            conn,
            site_id=row["site_id"],
            type="safety_check.done",
            data={"id": str(check_id)},
            roles=("supervisor", "manager", "admin"),
        )
    return await get_check(conn, viewer=actor, check_id=check_id)


async def point_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    viewer: CurrentUser,
    check_id: UUID,
    code: str,
    thumbnail: bool,
) -> tuple[bytes, str, str]:
    """A point's photo (bytes, media type, sha256), for those who carry out checks at its site."""
    _must_check(viewer)
    row = await q.point_photo(conn, check_id, code)
    if row is None or row["photo_sha256"] is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such photo", code="photo_not_found")
    if thumbnail:
        return await storage.get(row["thumb_sha256"]), "image/webp", row["thumb_sha256"]
    return await storage.get(row["photo_sha256"]), row["media_type"], row["photo_sha256"]
