"""Work orders as the caller sees them: with what the caller may do now (`allowedActions`) and what
finishing the job needs (`requirements`), both decided by the domain.

Intake lives in services/intake.py, actions in services/work_order_actions.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import evidence as evidence_q
from backend.db.queries import promises as promise_q
from backend.db.queries import work_orders as q
from backend.db.queries.rows import struct_of
from backend.db.queries.work_orders import StoredWorkOrder
from backend.domain.completion import (
    EVIDENCE_KINDS,
    ChecklistItem,
    applicable_checklist,
    job_checklist,
    requirements,
)
from backend.domain.models import CurrentUser
from backend.domain.promises import may_promise
from backend.domain.work_orders import (
    JobListClock,
    JobListItem,
    JobListPage,
    Photo,
    Reopened,
    Signature,
    TechnicianSuggestion,
    WorkOrder,
    WorkOrderDetail,
    WorkOrderPage,
)
from backend.domain.workflow import (
    OPEN_STATUSES,
    Action,
    Kind,
    Status,
    WorkOrderState,
    allowed_actions,
    apology_due,
    reachable_transitions,
)
from backend.errors import NotFound, ValidationFailed
from backend.services import dispatch
from backend.services.sites import site_ids_for


def state_of(facts: Any, *, callback_due: bool) -> WorkOrderState:
    """The facts the state machine decides on, from a row or a stored work order's fields."""
    return struct_of(
        WorkOrderState,
        facts,
        callback_due=callback_due,
        major=bool(facts["major"]),
        apology_due=apology_due(facts["resolution"]),
    )


class _Checklists:
    """Each (site, kind)'s checklist, read once per request however many jobs share it."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._cache: dict[tuple[UUID, str], list[ChecklistItem]] = {}

    async def of(self, site_id: UUID, kind: str) -> list[ChecklistItem]:
        if kind not in EVIDENCE_KINDS:
            return []
        key = (site_id, kind)
        if key not in self._cache:
            self._cache[key] = await evidence_q.checklist(self._conn, site_id, kind)
        return self._cache[key]


def _view(stored: StoredWorkOrder, viewer: CurrentUser | None, checklist: list[ChecklistItem]) -> WorkOrder:
    facts = stored.facts
    state = state_of(facts, callback_due=stored.callback_due)
    allowed = allowed_actions(state, role=viewer.role, actor_id=viewer.id) if viewer else []
    return WorkOrder(
        **facts,
        clocks=stored.clocks,
        allowed_actions=allowed,
        requirements=requirements(
            kind=facts["kind"],
            in_home=facts["in_home"],
            visit=facts["visit"],
            checklist=checklist,
            after_photos_taken=stored.after_photos_taken,
            asset_kind=stored.asset_kind,
        ),
    )


async def views(
    conn: asyncpg.Connection, stored: Sequence[StoredWorkOrder], viewer: CurrentUser | None
) -> list[WorkOrder]:
    """Work orders as this viewer sees them."""
    checklists = _Checklists(conn)
    return [_view(s, viewer, await checklists.of(s.facts["site_id"], s.facts["kind"])) for s in stored]


def photo_view(photo: evidence_q.Photo) -> Photo:
    """The API view of a stored photo."""
    return Photo(
        id=photo.id,
        work_order_id=photo.work_order_id,
        stage=photo.stage,
        visit=photo.visit,
        sha256=photo.sha256,
        media_type=photo.media_type,
        size=photo.size,
        width=photo.width,
        height=photo.height,
        taken_at=photo.taken_at,
        client_at=photo.client_at,
        uploaded_at=photo.uploaded_at,
        url=f"/api/v1/photos/{photo.id}",
        thumb_url=f"/api/v1/photos/{photo.id}/thumb",
    )


async def _signature(conn: asyncpg.Connection, work_order_id: UUID, visit: int) -> Signature | None:
    row = await evidence_q.get_signature(conn, work_order_id)
    if row is None or row.visit != visit:
        return None
    return Signature(
        visit=row.visit,
        record_hash=row.record_hash,
        signed_at=row.signed_at,
        sha256=row.sha256,
        signer_name=row.signer_name,
        relation=row.relation,
        no_sign_reason=row.no_sign_reason,
    )


def _reopened(detail_events: Sequence[Any]) -> Reopened | None:
    """Why the job came back, from its latest reopen event (with the owner's score when a call sent it)."""
    reopen = next((e for e in reversed(detail_events) if e.action == Action.REOPEN), None)
    if reopen is None:
        return None
    payload = reopen.payload
    return Reopened(
        at=reopen.at,
        reason=str(payload.get("reason") or ""),
        visit=int(payload.get("visit") or 2),
        by_name=reopen.actor_name,
        satisfaction=payload.get("satisfaction"),
        comment=payload.get("comment"),
    )


async def get_work_order(
    conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser, *, now: datetime
) -> WorkOrderDetail:
    """A work order with its log, clocks, calls, evidence, the checklist for its place, the history of its
    unit and asset, and what the viewer may do; NotFound outside the viewer's sites."""
    stored = await q.get_work_order(conn, work_order_id, now)
    if stored is None or not viewer.may_see_site(stored.facts["site_id"]):
        raise NotFound("no such work order", code="work_order_not_found")
    facts = stored.facts
    checklist = await _Checklists(conn).of(facts["site_id"], facts["kind"])
    view = _view(stored, viewer, checklist)
    events = await q.list_events(conn, work_order_id)
    state = state_of(facts, callback_due=stored.callback_due)
    return WorkOrderDetail(
        **{f: getattr(view, f) for f in WorkOrder.__struct_fields__},
        events=events,
        callbacks=await q.list_callbacks(conn, work_order_id),
        photos=[photo_view(p) for p in await evidence_q.list_photos(conn, work_order_id)],
        signature=await _signature(conn, work_order_id, facts["visit"]),
        checklist=applicable_checklist(
            job_checklist(facts["kind"], asset_kind=stored.asset_kind, kind_checklist=checklist),
            in_home=facts["in_home"],
        ),
        transitions=reachable_transitions(state, role=viewer.role, actor_id=viewer.id),
        reopened=_reopened(events),
        promises=await promise_q.list_promises(conn, work_order_id, now),
        may_promise=may_promise(
            viewer.role,
            channel=view.channel,
            reporter_name=view.reporter_name,
            reporter_phone=view.reporter_phone,
        ),
        unit_history=(
            await q.history(conn, column="unit_id", value=facts["unit_id"], excluding=work_order_id)
            if facts["unit_id"]
            else []
        ),
        asset_history=(
            await q.history(conn, column="asset_id", value=facts["asset_id"], excluding=work_order_id)
            if facts["asset_id"]
            else []
        ),
    )


async def list_work_orders(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    now: datetime,
    status: str | None = None,
    open_only: bool = False,
    kind: str | None = None,
    assignee: str | None = None,
    site: str | None = None,
    overdue: bool = False,
    escalated: bool = False,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> WorkOrderPage:
    """The viewer's work orders, filtered, most urgent first."""
    site_ids = await site_ids_for(conn, viewer, site)
    statuses = [s.strip() for s in status.split(",") if s.strip()] if status else None
    if open_only and not statuses:
        # A technician's list: their history (which grows without end) is never read for it.
        statuses = sorted(s.value for s in OPEN_STATUSES)
    for s in statuses or ():
        if s not in Status.__members__.values():
            raise ValidationFailed(f"unknown status {s}", field="status")
    if kind is not None and kind not in Kind.__members__.values():
        raise ValidationFailed(f"unknown kind {kind}", field="kind")
    assignee_id: UUID | None = None
    unassigned = False
    if assignee == "me":
        assignee_id = viewer.id
    elif assignee == "none":
        unassigned = True
    elif assignee:
        try:
            assignee_id = UUID(assignee)
        except ValueError:
            raise ValidationFailed("assignee must be me, none or a user id", field="assignee") from None
    stored, total = await q.list_work_orders(
        conn,
        site_ids=site_ids,
        now=now,
        statuses=statuses,
        kind=kind,
        assignee_id=assignee_id,
        unassigned=unassigned,
        overdue=overdue,
        escalated=escalated,
        text=text or None,
        limit=limit,
        offset=offset,
    )
    return WorkOrderPage(items=await views(conn, stored, viewer), total=total, limit=limit, offset=offset)


def _list_item(stored: StoredWorkOrder) -> JobListItem:
    facts = stored.facts
    return JobListItem(
        id=facts["id"],
        number=facts["number"],
        kind=facts["kind"],
        status=facts["status"],
        priority=facts["priority"],
        title=facts["title"],
        location=facts["location"],
        version=facts["version"],
        created_at=facts["created_at"],
        unit_label=facts["unit_label"],
        clocks=[
            JobListClock(clock=c.clock, due_at=c.due_at, state=c.state, met_at=c.met_at)
            for c in stored.clocks
        ],
    )


async def my_jobs(
    conn: asyncpg.Connection, *, viewer: CurrentUser, now: datetime, limit: int = 50, offset: int = 0
) -> JobListPage:
    """The caller's open jobs in the list's order, each with only what the list shows (no decision on what
    the caller may do, no checklist: the detail carries those)."""
    site_ids = await site_ids_for(conn, viewer, None)
    stored, total = await q.list_work_orders(
        conn,
        site_ids=site_ids,
        now=now,
        statuses=sorted(s.value for s in OPEN_STATUSES),
        kind=None,
        assignee_id=viewer.id,
        unassigned=False,
        overdue=False,
        escalated=False,
        text=None,
        limit=limit,
        offset=offset,
    )
    return JobListPage(items=[_list_item(s) for s in stored], total=total, limit=limit, offset=offset)


async def suggest_technicians(
    conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser, *, now: datetime
) -> list[TechnicianSuggestion]:
    """The ranking of on-duty technicians for this work order (skill, place, workload), with the reasons;
    the person a complaint is about is never among them."""
    stored = await q.get_work_order(conn, work_order_id, now)
    if stored is None or not viewer.may_see_site(stored.facts["site_id"]):
        raise NotFound("no such work order", code="work_order_not_found")
    facts = stored.facts
    return await dispatch.rank_technicians(
        conn,
        facts["site_id"],
        facts["category"],
        unit_id=facts["unit_id"],
        asset_id=facts["asset_id"],
        excluding=facts["complained_about_id"],
    )
