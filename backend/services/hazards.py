"""The hazard ledger: registering hazards (by hand, from a job, from an abnormal round finding), the moves of
the closed loop as backend/domain/hazards.py allows them, overdue escalation, the CSV and the counts.

`escalate_overdue_hazards` runs in every scheduler process: it claims overdue hazards with SKIP LOCKED and
marks them told (escalated_at), so each is escalated once.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import hazards as q
from backend.db.queries.rows import struct_of
from backend.domain import hazards as rules
from backend.domain.hazards import Hazard, HazardCounts, HazardCreate, HazardEvent, HazardMove, HazardPage
from backend.domain.models import CurrentUser
from backend.domain.sla import credited_time
from backend.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from backend.services.intake import create_work_order
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify, notify_roles, publish
from backend.services.sites import site_for, site_ids_for
from backend.services.work_order_actions import perform_action

# The ledger's CSV columns, in the order printed (Chinese headings: it is read and filed on site).
CSV_COLUMNS = (
    ("number", "编号"),
    ("status", "状态"),
    ("riskLevel", "风险等级"),
    ("source", "来源"),
    ("place", "部位"),
    ("description", "隐患描述"),
    ("reportedByName", "登记人"),
    ("reportedAt", "登记时间"),
    ("cause", "原因分析"),
    ("responsibleName", "整改责任人"),
    ("deadline", "整改期限"),
    ("standard", "整改标准"),
    ("controlMeasure", "临时管控措施"),
    ("rectificationNumber", "整改工单"),
    ("rectifiedByName", "整改人"),
    ("recheckedByName", "复查人"),
    ("recheckNote", "复查结果"),
    ("closedByName", "销号人"),
    ("closedAt", "销号时间"),
    ("closingEvidence", "销号依据"),
    ("overdue", "是否逾期"),
)
STATUS_LABELS = {
    "registered": "登记",
    "analysed": "分析",
    "controlled": "临时管控",
    "rectifying": "整改",
    "rechecked": "复查",
    "closed": "销号",
}
RISK_LABELS = {"major": "重大", "high": "较大", "medium": "一般", "low": "低"}
SOURCE_LABELS = {"round": "巡逻", "job": "维修发现", "quarterly_check": "季度检查", "manual": "手工登记"}


def _view(
    row: asyncpg.Record, viewer: CurrentUser, now: datetime, events: list[asyncpg.Record] | None = None
) -> Hazard:
    return Hazard(
        id=row["id"],
        number=row["number"],
        site_id=row["site_id"],
        source=row["source"],
        place=row["place"],
        description=row["description"],
        risk_level=row["risk_level"],
        status=row["status"],
        reported_by_name=row["reported_by_name"],
        reported_at=row["reported_at"],
        cause=row["cause"],
        responsible_id=row["responsible_id"],
        responsible_name=row["responsible_name"],
        deadline=row["deadline"],
        due_at=row["due_at"],
        standard=row["standard"],
        control_measure=row["control_measure"],
        rectification_work_order_id=row["rectification_work_order_id"],
        rectification_number=row["rectification_number"],
        rectified_by_name=row["rectified_by_name"],
        recheck_note=row["recheck_note"],
        rechecked_by_name=row["rechecked_by_name"],
        closing_evidence=row["closing_evidence"],
        closed_by_name=row["closed_by_name"],
        closed_at=row["closed_at"],
        round_scan_id=row["round_scan_id"],
        has_photo=row["photo_sha256"] is not None,
        overdue=rules.is_overdue(row["status"], row["due_at"], now),
        allowed_actions=rules.allowed_actions(row["status"], viewer.role),
        found_on_work_order_id=row["found_on_work_order_id"],
        events=[struct_of(HazardEvent, e, payload=dict(e["payload"] or {})) for e in events or []],
    )


async def register_hazard(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    source: str,
    place: str,
    description: str,
    risk_level: str,
    reported_by: UUID | None,
    at: datetime,
    now: datetime,
    round_scan_id: UUID | None = None,
    found_on_work_order_id: UUID | None = None,
    photo: tuple[str | None, str | None] = (None, None),
) -> UUID | None:
    """Register a hazard (登记) and tell the site's supervisors; None if the finding is in already."""
    hazard_id = await q.insert_hazard(
        conn,
        site_id=site_id,
        source=source,
        place=place,
        description=description,
        risk_level=risk_level,
        reported_by=reported_by,
        reported_at=at,
        round_scan_id=round_scan_id,
        found_on_work_order_id=found_on_work_order_id,
        photo_sha256=photo[0],
        thumb_sha256=photo[1],
    )
    if hazard_id is None:
        return None
    await q.add_event(
        conn,
        hazard_id,
        action="register",
        from_status=None,
        to_status="registered",
        actor_id=reported_by,
        at=now,
        client_at=at,
        payload={"source": source},
    )
    await notify_roles(
        conn,
        site_id=site_id,
        roles=("supervisor",),
        kind="hazard_registered",
        title=f"新登记隐患：{place}",
        body=description[:200],
        data={"hazardId": str(hazard_id)},
        dedupe_key=f"hazard_registered:{hazard_id}",
    )
    await publish(
        conn, site_id=site_id, type="hazard.updated", data={"id": str(hazard_id), "status": "registered"}
    )
    return hazard_id


async def create_hazard(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: HazardCreate, now: datetime
) -> Hazard:
    """A hazard entered by hand, or found by a technician on a job (workOrderId)."""
    site = await site_for(conn, actor, data.site)
    source = "manual"
    if data.work_order_id is not None:
        found_on = await conn.fetchval("SELECT site_id FROM work_orders WHERE id = $1", data.work_order_id)
        if found_on != site.id:
            raise ValidationFailed("no such work order at this site", field="workOrderId")
        source = "job"
    at = credited_time(data.client_at, None, now)
    hazard_id = await register_hazard(
        conn,
        site_id=site.id,
        source=source,
        place=data.place,
        description=data.description,
        risk_level=data.risk_level,
        reported_by=actor.id,
        at=at,
        now=now,
        found_on_work_order_id=data.work_order_id,
    )
    assert hazard_id is not None
    return await get_hazard(conn, viewer=actor, hazard_id=hazard_id, now=now)


async def get_hazard(
    conn: asyncpg.Connection, *, viewer: CurrentUser, hazard_id: UUID, now: datetime
) -> Hazard:
    """One hazard with its history, for staff of its site."""
    row = await q.get_hazard(conn, hazard_id)
    if row is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such hazard", code="hazard_not_found")
    return _view(row, viewer, now, await q.events(conn, hazard_id))


async def list_hazards(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None,
    status: str | None,
    overdue: bool,
    now: datetime,
    limit: int,
    offset: int,
    work_order_id: UUID | None = None,
) -> HazardPage:
    """The ledger of the viewer's sites: open first, the most serious first."""
    statuses = [s for s in (status or "").split(",") if s]
    if any(s not in set(rules.HazardStatus) for s in statuses):
        raise ValidationFailed("unknown status", field="status")
    rows, total = await q.list_hazards(
        conn,
        await site_ids_for(conn, viewer, site),
        statuses=statuses or None,
        overdue_at=now if overdue else None,
        limit=limit,
        offset=offset,
        found_on_work_order_id=work_order_id,
    )
    return HazardPage(items=[_view(r, viewer, now) for r in rows], total=total, limit=limit, offset=offset)


# wire name -> attribute ("responsibleId" -> "responsible_id")
_ATTRIBUTES = {f.encode_name: f.name for f in msgspec.structs.fields(HazardMove)}


def _need(data: HazardMove, fields: tuple[str, ...]) -> None:
    for field in fields:
        value = getattr(data, _ATTRIBUTES[field])
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationFailed(f"{field} is required", field=field, code="field_required")


async def move_hazard(
    conn: asyncpg.Connection,
    *,
    actor: CurrentUser,
    hazard_id: UUID,
    action: str,
    data: HazardMove,
    now: datetime,
) -> Hazard:
    """Make one move of the closed loop, if the domain allows it to this role from this state."""
    try:
        act = rules.HazardAction(action)
    except ValueError:
        raise NotFound(f"no action {action}") from None
    row = await q.lock_hazard(conn, hazard_id)
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such hazard", code="hazard_not_found")
    move = rules.MOVES[act]
    if actor.role not in move.roles:
        raise Forbidden(f"the {actor.role} role may not {action} a hazard", code="role_forbidden")
    if row["status"] not in move.from_states:
        raise InvalidTransition(
            f"a {row['status']} hazard cannot be {action}d",
            code="hazard_invalid_move",
            extra={"currentStatus": row["status"]},
        )
    _need(data, move.needs)
    fields: dict[str, Any] = {"status": move.to.value}
    payload: dict[str, Any] = {}
    if act is rules.HazardAction.ANALYSE:
        assert data.responsible_id is not None and data.deadline is not None
        if await q.site_user(conn, data.responsible_id, row["site_id"]) is None:
            raise ValidationFailed("the responsible person is not staff of this site", field="responsibleId")
        fields |= {
            "cause": data.cause,
            "responsible_id": data.responsible_id,
            "deadline": data.deadline,
            "due_at": await q.end_of_day(conn, row["site_id"], data.deadline),
            "standard": data.standard,
        }
        if data.risk_level is not None:
            fields["risk_level"] = data.risk_level
        payload = {"deadline": data.deadline.isoformat(), "responsibleId": str(data.responsible_id)}
    elif act is rules.HazardAction.CONTROL:
        fields["control_measure"] = data.measure
        payload = {"measure": data.measure}
    elif act is rules.HazardAction.RECTIFY:
        fields["rectification_work_order_id"] = await _open_rectification(conn, row, data, actor, now)
        payload = {"workOrderId": str(fields["rectification_work_order_id"])}
    elif act in (rules.HazardAction.RECHECK, rules.HazardAction.RECHECK_FAILED):
        if row["rectification_status"] not in rules.RECTIFIED_STATUSES:
            raise Conflict("the rectification work order is not done yet", code="rectification_not_done")
        if row["rectified_by"] == actor.id:
            raise Forbidden("the re-check is made by someone other than who fixed it", code="own_work")
        fields |= {"recheck_note": data.note, "rechecked_by": actor.id}
        payload = {"note": data.note, "passed": act is rules.HazardAction.RECHECK}
    elif act is rules.HazardAction.CLOSE:
        fields |= {"closing_evidence": data.evidence, "closed_by": actor.id, "closed_at": now}
        payload = {"evidence": data.evidence}
    await q.update_hazard(conn, hazard_id, fields)
    await q.add_event(
        conn,
        hazard_id,
        action=act.value,
        from_status=row["status"],
        to_status=move.to.value,
        actor_id=actor.id,
        at=now,
        client_at=data.client_at,
        payload=payload,
    )
    await publish(
        conn,
        site_id=row["site_id"],
        type="hazard.updated",
        data={"id": str(hazard_id), "status": move.to.value},
    )
    return await get_hazard(conn, viewer=actor, hazard_id=hazard_id, now=now)


async def _open_rectification(
    conn: asyncpg.Connection, row: asyncpg.Record, data: HazardMove, actor: CurrentUser, now: datetime
) -> UUID:
    """The work order that fixes the hazard, assigned to the technician named."""
    assert data.assignee_id is not None
    technician = await q.site_user(conn, data.assignee_id, row["site_id"])
    if technician is None or technician["role"] != "technician":
        raise ValidationFailed("choose a technician of this site", field="assigneeId")
    order = await create_work_order(
        conn,
        actor=actor,
        site_id=row["site_id"],
        kind="repair",
        category="other",
        priority=2 if row["risk_level"] in ("major", "high") else 3,
        title=f"隐患整改 {row['number']}：{row['place']}"[:200],
        description=f"{row['description']}\n整改标准：{row['standard'] or ''}"[:4000],
        channel="patrol",
        now=now,
        location=row["place"],
        resolution={"hazardId": str(row["id"])},
    )
    await perform_action(
        conn,
        work_order_id=order.id,
        action="assign",
        actor=actor,
        now=now,
        payload={"assigneeId": str(data.assignee_id)},
    )
    return order.id


async def escalate_overdue_hazards(conn: asyncpg.Connection, now: datetime) -> int:
    """Tell the supervisors, the managers and the responsible person of each hazard past its deadline,
    once; returns how many were escalated."""
    told = 0
    for row in await q.claim_overdue(conn, now):
        async with savepoint_skipped_on_failure(conn, site=row["site_code"], subject=f"hazard {row['id']}"):
            message = {
                "kind": "hazard_overdue",
                "title": f"隐患逾期未销号：{row['number']} {row['place']}",
                "body": f"整改期限已过（{STATUS_LABELS.get(row['status'], row['status'])}）",
                "data": {"hazardId": str(row["id"])},
                "urgency": "high",
                "dedupe_key": f"hazard_overdue:{row['id']}",
            }
            await notify_roles(conn, site_id=row["site_id"], roles=("supervisor", "manager"), **message)
            if row["responsible_id"] is not None:
                await notify(conn, site_id=row["site_id"], recipient_ids=[row["responsible_id"]], **message)
            await q.update_hazard(conn, row["id"], {"escalated_at": now})
            await q.add_event(
                conn,
                row["id"],
                action="escalated",
                from_status=row["status"],
                to_status=row["status"],
                actor_id=None,
                at=now,
                payload={"dueAt": row["due_at"].isoformat()},
            )
            told += 1
    return told


async def hazard_photo(
    conn: asyncpg.Connection, *, viewer: CurrentUser, hazard_id: UUID, thumbnail: bool
) -> str:
    """The sha256 of a hazard's photo (or its thumbnail), for staff of its site."""
    row = await q.get_hazard(conn, hazard_id)
    if row is None or row["photo_sha256"] is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such photo", code="photo_not_found")
    return row["thumb_sha256"] if thumbnail else row["photo_sha256"]


async def hazard_counts(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None, now: datetime
) -> HazardCounts:
    """Open, overdue and closed hazards per risk level, for the dashboard."""
    found = await site_for(conn, viewer, site)
    by_risk = {level: {"open": 0, "overdue": 0, "closed": 0} for level in rules.RISK_LEVELS}
    for r in await q.counts(conn, found.id, now):
        by_risk[r["risk_level"]] = {"open": r["open"], "overdue": r["overdue"], "closed": r["closed"]}
    totals = {k: sum(v[k] for v in by_risk.values()) for k in ("open", "overdue", "closed")}
    return HazardCounts(site=found.code, by_risk=by_risk, totals=totals)


async def ledger_csv(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None, now: datetime
) -> str:
    """The whole ledger as CSV with a BOM (so spreadsheet programs read the Chinese right)."""
    if viewer.role not in rules.OVERSIGHT:
        raise Forbidden("the ledger export is for supervisors and up", code="role_forbidden")
    rows, _ = await q.list_hazards(
        conn, await site_ids_for(conn, viewer, site), statuses=None, overdue_at=None, limit=100_000, offset=0
    )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([heading for _, heading in CSV_COLUMNS])
    for row in rows:
        item = msgspec.to_builtins(_view(row, viewer, now))
        item["status"] = STATUS_LABELS.get(item["status"], item["status"])
        item["riskLevel"] = RISK_LABELS.get(item["riskLevel"], item["riskLevel"])
        item["source"] = SOURCE_LABELS.get(item["source"], item["source"])
        item["overdue"] = "是" if item["overdue"] else "否"
        writer.writerow([_cell(item.get(key)) for key, _ in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # a cell starting with = + - @ is a formula to a spreadsheet: quote it as text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
