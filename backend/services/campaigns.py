"""Callback campaigns beyond single jobs: the scheduler draws each site's monthly routine sample (once per
site and month) and the move-in calls (once per resident); agents work the worklist to an outcome, a
problem heard becoming a follow-up job."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import campaigns as q
from backend.domain import campaigns as rules
from backend.domain.campaigns import CampaignCall, CampaignCallPage, CampaignOutcomeRequest
from backend.domain.kpis import CampaignKpi
from backend.domain.models import CurrentUser
from backend.domain.roles import DESK_ROLES
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services import personal_data
from backend.services.intake import create_work_order
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.sites import every_site, site_ids_for


async def draw_routine_samples(conn: asyncpg.Connection, now: datetime) -> int:
    """Each site's routine sample of its current month, drawn once (claimed per site and month); returns
    how many calls were added."""
    added = 0
    for site, zone in await every_site(conn):
        async with savepoint_skipped_on_failure(conn, site=site.code, subject="routine sample"):
            period = rules.month_of(now, zone)
            if not await q.claim_routine_run(conn, site.id, period, now):
                continue
            units = await q.units_with_last_sample(conn, site.id)
            picked = rules.pick_sample(units, site_id=site.id, period=period)
            added += await q.add_routine_calls(
                conn, site.id, period, picked, due_at=rules.month_end(period, zone), now=now
            )
    return added


async def add_move_in_calls(conn: asyncpg.Connection, now: datetime) -> int:
    """A call to each owner or tenant registered a week ago (once per resident)."""
    return await q.add_move_in_calls(
        conn, now, delay=rules.MOVE_IN_DELAY, window=rules.MOVE_IN_WINDOW, relations=rules.MOVE_IN_RELATIONS
    )


def _desk(viewer: CurrentUser) -> None:
    if viewer.role not in DESK_ROLES:
        raise Forbidden(f"the {viewer.role} role does not work campaign calls", code="role_forbidden")


async def _with_owners(
    conn: asyncpg.Connection, viewer: CurrentUser, calls: list[CampaignCall], *, endpoint: str, now: datetime
) -> list[CampaignCall]:
    owners = await personal_data.owners(conn, viewer, [c.unit_id for c in calls], endpoint=endpoint, now=now)
    return [
        msgspec.structs.replace(c, owner_name=owner.name, owner_phone=owner.phone)
        if (owner := owners.get(c.unit_id))
        else c
        for c in calls
    ]


async def worklist(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None,
    campaign: str | None,
    done: bool,
    limit: int,
    offset: int,
    endpoint: str,
    now: datetime,
) -> CampaignCallPage:
    """Calls owed in the viewer's sites (earliest due first), or those worked (latest first), with the
    home's owner on file to call."""
    _desk(viewer)
    if campaign is not None and campaign not in rules.CAMPAIGNS:
        raise ValidationFailed(f"campaign must be one of {', '.join(rules.CAMPAIGNS)}", field="campaign")
    items, total = await q.worklist(
        conn, await site_ids_for(conn, viewer, site), campaign, open_only=not done, limit=limit, offset=offset
    )
    shown = await _with_owners(conn, viewer, items, endpoint=endpoint, now=now)
    return CampaignCallPage(items=shown, total=total, limit=limit, offset=offset)


async def record_outcome(
    conn: asyncpg.Connection,
    *,
    call_id: UUID,
    actor: CurrentUser,
    data: CampaignOutcomeRequest,
    now: datetime,
) -> CampaignCall:
    """Record a call's outcome (once); a problem the resident raised becomes a job for the unit."""
    _desk(actor)
    refusal = rules.outcome_refusal(data)
    if refusal is not None:
        raise ValidationFailed(refusal[1], field=refusal[0], code="campaign_outcome_refused")
    async with conn.transaction():
        row = await q.lock_call(conn, call_id)
        if row is None or not actor.may_see_site(row["site_id"]):
            raise NotFound("no such campaign call", code="campaign_call_not_found")
        if row["outcome"] is not None:
            raise Conflict("this call's outcome is already recorded", code="campaign_call_done")
        follow_up_id = None
        if data.follow_up is not None:
            job = await create_work_order(
                conn,
                actor=actor,
                site_id=row["site_id"],
                kind=data.follow_up.kind,
                category=data.follow_up.category,
                priority=None,
                title=data.follow_up.title,
                description=data.notes,
                channel="phone",
                now=now,
                unit_id=row["unit_id"],
                in_home=data.follow_up.kind == "repair",
                reporter_name=row["resident_name"],
            )
            follow_up_id = job.id
        await q.record_outcome(
            conn,
            call_id,
            outcome=data.outcome,
            satisfaction=data.satisfaction,
            notes=data.notes,
            follow_up_work_order_id=follow_up_id,
            called_by=actor.id,
            called_at=now,
        )
    call = await q.get_call(conn, call_id)
    assert call is not None
    return call


async def campaign_kpi(
    conn: asyncpg.Connection, site_id: UUID, start: datetime, end: datetime, now: datetime
) -> CampaignKpi:
    found = await q.campaign_outcomes(conn, site_id, start, end, now)
    return CampaignKpi(routine_sample=found["routine_sample"], move_in=found["move_in"])
