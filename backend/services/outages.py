"""Planned water and power cuts (a manager announces one for a building: every resident is told once, and
told again once when it is restored) and the guard's list of vulnerable residents to visit during a water or
power alarm or a planned cut, each markable visited (once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import outages as q
from backend.db.queries import owners as owner_q
from backend.domain.models import CurrentUser
from backend.domain.owner_messages import (
    OUTAGE_ALARMS,
    planned_on_visit_list,
    planned_window_text,
    planned_words,
)
from backend.domain.personal_data import mask_name
from backend.domain.roles import OVERSIGHT_ROLES, Role
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services.messages import queue_message
from backend.services.sites import site_ids_for

# Who visits the vulnerable in an outage: guards and those who send them.
VISITOR_ROLES = OVERSIGHT_ROLES | {Role.GUARD}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _outage_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "siteId": str(row["site_id"]),
        "buildingId": str(row["building_id"]),
        "building": row["building"],
        "kind": row["kind"],
        "startsAt": row["starts_at"].isoformat(),
        "endsAt": row["ends_at"].isoformat(),
        "note": row["note"],
        "restoredAt": _iso(row["restored_at"]),
    }


async def _tell_building(
    conn: asyncpg.Connection, outage: asyncpg.Record, kind: str, step: str, now: datetime, **params: str
) -> list[int]:
    """Queue one SMS about a planned cut to every resident of its building (once per cut and step); a notice
    of a job's work is logged against the job too (the case's owner-messages history)."""
    return await queue_message(
        conn,
        now=now,
        site_id=outage["site_id"],
        kind=kind,
        event_key=f"outage:{outage['id']}:{step}",
        recipients=await owner_q.residents_of_building(conn, outage["building_id"]),
        params={"building": outage["building"], "what": planned_words(outage["kind"], "zh-CN"), **params},
        channels=("sms",),
        planned_outage_id=outage["id"],
        work_order_id=outage["work_order_id"],
    )


async def announce(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    building_id: UUID,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    now: datetime,
) -> dict[str, Any]:
    """Record a planned cut and queue its notice to every resident of the building (SMS, once each)."""
    if viewer.role not in OVERSIGHT_ROLES:
        raise Forbidden("only supervisors and managers announce planned cuts", code="role_forbidden")
    building = await q.building(conn, building_id)
    if building is None or not viewer.may_see_site(building["site_id"]):
        raise ValidationFailed("no such building", field="buildingId")
    if ends_at <= starts_at:
        raise ValidationFailed("the cut must end after it starts", field="endsAt")
    if ends_at <= now:
        raise ValidationFailed("this cut is over already", field="endsAt")
    outage_id = await q.insert_outage(
        conn,
        site_id=building["site_id"],
        building_id=building_id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        created_by=viewer.id,
        created_at=now,
    )
    outage = await q.get_outage(conn, outage_id)
    await queue_notice(conn, outage, now)
    return _outage_view(outage)


async def queue_notice(conn: asyncpg.Connection, outage: asyncpg.Record, now: datetime) -> list[int]:
    """Queue the planned outage's notice to every resident of its building (SMS, once each)."""
    window = planned_window_text(outage["starts_at"], outage["ends_at"], outage["timezone"])
    return await _tell_building(conn, outage, "planned_outage", "notice", now, window=window)


async def queue_restored(conn: asyncpg.Connection, outage: asyncpg.Record, now: datetime) -> list[int]:
    """Queue "restored" to every resident of the outage's building (SMS, once each)."""
    return await _tell_building(conn, outage, "building_restored", "restored", now)


async def restore(
    conn: asyncpg.Connection, viewer: CurrentUser, outage_id: UUID, now: datetime
) -> dict[str, Any]:
    """The cut is over: every resident is told once ("restored")."""
    if viewer.role not in OVERSIGHT_ROLES:
        raise Forbidden("only supervisors and managers close planned cuts", code="role_forbidden")
    outage = await q.get_outage(conn, outage_id)
    if outage is None or not viewer.may_see_site(outage["site_id"]):
        raise NotFound("no such planned outage", code="planned_outage_not_found")
    if not await q.restore(conn, outage_id, viewer.id, now):
        raise Conflict("this outage is already restored", code="planned_outage_restored")
    await queue_restored(conn, outage, now)
    return _outage_view(await q.get_outage(conn, outage_id))


async def list_planned(
    conn: asyncpg.Connection, viewer: CurrentUser, site: str | None, limit: int, offset: int
) -> dict[str, Any]:
    if viewer.role not in OVERSIGHT_ROLES:
        raise Forbidden("only supervisors and managers plan cuts", code="role_forbidden")
    rows, total = await q.list_outages(conn, await site_ids_for(conn, viewer, site), limit, offset)
    return {"items": [_outage_view(r) for r in rows], "total": total, "limit": limit, "offset": offset}


async def visit_list(
    conn: asyncpg.Connection, viewer: CurrentUser, site: str | None, now: datetime
) -> dict[str, Any]:
    """Each water or power outage now (alarm or planned) with its building's vulnerable residents to visit:
    unit, the family name only, what they need, and whether someone has been. No phone numbers."""
    if viewer.role not in VISITOR_ROLES:
        raise Forbidden("the guards visit the vulnerable in an outage", code="role_forbidden")
    site_ids = await site_ids_for(conn, viewer, site)
    items = []
    for outage in await q.open_outages(conn, site_ids, list(OUTAGE_ALARMS)):
        if outage["source"] == "planned" and not planned_on_visit_list(outage["starts_at"], False, now):
            continue
        residents = await q.vulnerable_in_building(conn, outage["building_id"], outage["id"])
        items.append(
            {
                "source": outage["source"],
                "id": str(outage["id"]),
                "buildingId": str(outage["building_id"]),
                "building": outage["building"],
                # an alarm code (catalogue group `alarm`) or a planned cut's kind (group `outageKind`)
                "what": outage["what"],
                "since": outage["starts_at"].isoformat(),
                "until": _iso(outage["ends_at"]),
                "residents": [
                    {
                        "residentId": str(r["id"]),
                        "unit": r["number"],
                        "floor": r["floor"],
                        "name": mask_name(r["name"]),
                        "need": r["vulnerable_need"],
                        "visitedAt": _iso(r["visited_at"]),
                        "visitedBy": r["visited_by"],
                    }
                    for r in residents
                ],
            }
        )
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


async def mark_visited(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    source: str,
    outage_id: UUID,
    resident_id: UUID,
    now: datetime,
) -> dict[str, Any]:
    """A vulnerable resident of the outage's building was visited (once; a second mark changes nothing)."""
    if viewer.role not in VISITOR_ROLES:
        raise Forbidden("the guards visit the vulnerable in an outage", code="role_forbidden")
    current = {
        (o["source"], o["id"]): o
        for o in await q.open_outages(conn, await site_ids_for(conn, viewer, None), list(OUTAGE_ALARMS))
    }
    outage = current.get((source, outage_id))
    if outage is None:
        raise NotFound("no such outage now", code="outage_not_found")
    resident = await q.resident_building(conn, resident_id)
    if resident is None or not resident["vulnerable"] or resident["building_id"] != outage["building_id"]:
        raise ValidationFailed("not a vulnerable resident of this building", field="residentId")
    await q.add_visit(
        conn,
        alarm_id=outage_id if source == "alarm" else None,
        outage_id=outage_id if source == "planned" else None,
        resident_id=resident_id,
        by=viewer.id,
        now=now,
    )
    return await visit_list(conn, viewer, None, now)
