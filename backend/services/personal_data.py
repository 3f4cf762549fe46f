"""Residents' personal data as each caller may see it, and the log of who was shown what in full.

Every read of residents by staff goes through here: the rules (backend/domain/personal_data.py) decide per
unit what the caller sees, this module finds the facts they need — is the building in an emergency now, does
this technician hold a job in this home — and writes one row to the read log per resident shown in full, in
the request's transaction, so a read that is answered is a read that is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import personal_data as q
from backend.db.queries import unit_lookup as lookup_q
from backend.db.queries.registry import units as units_q
from backend.db.queries.registry.common import get_row
from backend.db.queries.registry.tables import UNITS
from backend.domain import personal_data as rules
from backend.domain.models import CurrentUser
from backend.domain.personal_data import (
    NearUnit,
    PersonalDataRead,
    ResidentView,
    UnderstoodAddress,
    UnitLookupView,
    UnitView,
    VulnerableResident,
)
from backend.domain.registry import Resident, Unit, UnitWithResidents
from backend.domain.roles import OVERSIGHT_ROLES, Role
from backend.errors import Forbidden, NotFound
from backend.services import registry


async def _accesses(
    conn: asyncpg.Connection, viewer: CurrentUser, units: Sequence[Unit]
) -> dict[UUID, rules.Access]:
    if viewer.role in OVERSIGHT_ROLES:  # they see everything: no need to look for emergencies
        full = rules.access_for(viewer.role, in_emergency=False, assigned_here=False)
        return {u.id: full for u in units}
    scope = await q.emergency_scope(conn, list({u.site_id for u in units}))
    assigned = (
        await q.units_with_open_jobs_of(conn, viewer.id, [u.id for u in units])
        if viewer.role == Role.TECHNICIAN
        else set()
    )
    return {
        u.id: rules.access_for(viewer.role, in_emergency=scope.covers(u), assigned_here=u.id in assigned)
        for u in units
    }


def _unit_fields(unit: Unit) -> dict[str, Any]:
    return {f: getattr(unit, f) for f in Unit.__struct_fields__}


async def _show(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    units: Sequence[UnitWithResidents],
    *,
    endpoint: str,
    now: datetime,
) -> list[UnitView]:
    """The units as the viewer may see them; every resident shown in full is logged."""
    accesses = await _accesses(conn, viewer, units)
    views, reads = [], []
    for unit in units:
        access = accesses[unit.id]
        views.append(
            UnitView(**_unit_fields(unit), residents=[rules.view_resident(r, access) for r in unit.residents])
        )
        reads.extend(_reads(unit.residents, access))
    await q.log_reads(conn, reader_id=viewer.id, role=viewer.role, endpoint=endpoint, at=now, reads=reads)
    return views


def _reads(residents: Sequence[Resident], access: rules.Access) -> list[q.ReadToLog]:
    return [
        q.ReadToLog(
            site_id=r.site_id,
            unit_id=r.unit_id,
            resident_id=r.id,
            fields=fields,
            reason=str(access.reason),
        )
        for r in residents
        if (fields := rules.disclosed_fields(r, access))
    ]


async def unit(
    conn: asyncpg.Connection, viewer: CurrentUser, unit_id: UUID, *, endpoint: str, now: datetime
) -> UnitView:
    """One unit of the viewer's sites with its residents as the viewer may see them."""
    found = await registry.get_unit(conn, viewer, unit_id)
    return (await _show(conn, viewer, [found], endpoint=endpoint, now=now))[0]


async def lookup(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    building: str | None,
    number: str | None,
    phone: str | None,
    address: str | None = None,
    endpoint: str,
    now: datetime,
) -> UnitLookupView:
    """Intake lookup by an address as said, by building and number (anyone) or by phone (the desk: it tells
    whose number it is). Near misses come as units alone: nobody's name is shown for a home not asked for."""
    if phone is not None and not rules.may_search_residents(viewer.role):
        raise Forbidden("finding a home by a phone number is for the call centre", code="role_forbidden")
    result = await registry.lookup_units(
        conn, viewer, site=site, building=building, number=number, phone=phone, address=address
    )
    understood = result.understood
    return UnitLookupView(
        items=await _show(conn, viewer, result.found, endpoint=endpoint, now=now),
        near=[NearUnit(**_unit_fields(unit), reason=str(reason)) for unit, reason in result.near],
        understood=(
            UnderstoodAddress(
                building=understood.building, stairwell=understood.stairwell, room=understood.room
            )
            if understood
            else None
        ),
    )


async def owners(
    conn: asyncpg.Connection, viewer: CurrentUser, unit_ids: Sequence[UUID], *, endpoint: str, now: datetime
) -> dict[UUID, ResidentView]:
    """The first resident on file (the owner where there is one) of each unit, as the viewer may see them;
    a showing in full is logged like any other."""
    units = await lookup_q.units_by_id(conn, list(set(unit_ids)))
    residents = await units_q.residents_of(conn, [u.id for u in units])
    firsts = [
        UnitWithResidents(**_unit_fields(u), residents=residents[u.id][:1]) for u in units if residents[u.id]
    ]
    shown = await _show(conn, viewer, firsts, endpoint=endpoint, now=now)
    return {view.id: view.residents[0] for view in shown}


async def resident(
    conn: asyncpg.Connection, viewer: CurrentUser, resident_id: UUID, *, endpoint: str, now: datetime
) -> ResidentView:
    """One resident of the viewer's sites as the viewer may see them."""
    found = await registry.get(conn, viewer, registry.RESIDENTS, resident_id)
    home = await get_row(conn, UNITS, found.unit_id)
    if home is None:
        raise NotFound("no such resident", code="resident_not_found")
    shown = await _show(
        conn, viewer, [UnitWithResidents(**_unit_fields(home), residents=[found])], endpoint=endpoint, now=now
    )
    return shown[0].residents[0]


async def vulnerable_residents(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    building_id: UUID | None,
    limit: int,
    offset: int,
    endpoint: str,
    now: datetime,
) -> tuple[list[VulnerableResident], int]:
    """Who to check on first: supervisors and up always; anyone else only in buildings in an emergency now
    (outside one the list is empty, not refused, so a guard's screen can simply show it)."""
    if site:
        site_ids: list[UUID] | None = [(await registry.resolve_site(conn, viewer, site)).id]
    else:
        site_ids = None if viewer.is_admin else list(viewer.site_ids)
    within = None
    if viewer.role not in OVERSIGHT_ROLES:
        within = await q.emergency_scope(conn, site_ids or [])
    homes, total = await q.vulnerable_residents(
        conn, site_ids=site_ids, building_id=building_id, within=within, limit=limit, offset=offset
    )
    access = rules.access_for(viewer.role, in_emergency=True, assigned_here=False)
    listed = [
        VulnerableResident(
            **{f: getattr(view, f) for f in ResidentView.__struct_fields__},
            building_code=home.unit.building_code,
            number=home.unit.number,
            floor=home.unit.floor,
        )
        for home in homes
        for view in [rules.view_resident(home.resident, access)]
    ]
    reads = _reads([home.resident for home in homes], access)
    await q.log_reads(conn, reader_id=viewer.id, role=viewer.role, endpoint=endpoint, at=now, reads=reads)
    return listed, total


async def read_log(
    conn: asyncpg.Connection,
    viewer: CurrentUser,
    *,
    site: str | None,
    user_id: UUID | None,
    unit_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[PersonalDataRead], int]:
    """Who was shown residents' data in full, newest first: for supervisors and up, of their sites."""
    if viewer.role not in OVERSIGHT_ROLES:
        raise Forbidden("the read log is for supervisors and up", code="role_forbidden")
    if site:
        site_ids: list[UUID] | None = [(await registry.resolve_site(conn, viewer, site)).id]
    else:
        site_ids = None if viewer.is_admin else list(viewer.site_ids)
    return await q.list_reads(
        conn,
        site_ids=site_ids,
        user_id=user_id,
        unit_id=unit_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
