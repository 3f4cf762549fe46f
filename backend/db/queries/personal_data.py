"""SQL for residents' personal data: where an emergency is on now, which homes a technician works in,
the vulnerable residents of some buildings, and the append-only log of who read what."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries.rows import one_page, struct_of
from backend.domain.personal_data import EmergencyScope, PersonalDataRead
from backend.domain.registry import Resident, Unit
from backend.domain.workflow import CLOSED_STATUSES, DONE_STATUSES

# A work order in these states is still being dealt with; an emergency ends when its work is completed.
_EMERGENCY_OVER = sorted(DONE_STATUSES | CLOSED_STATUSES)


async def emergency_scope(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> EmergencyScope:
    """Buildings of these sites in an emergency now; plant of no building puts its whole site in one."""
    rows = await conn.fetch(
        """SELECT w.site_id, coalesce(u.building_id, a.building_id) AS building_id
           FROM work_orders w
           LEFT JOIN units u ON u.id = w.unit_id
           LEFT JOIN assets a ON a.id = w.asset_id
           WHERE w.site_id = ANY($1::uuid[]) AND w.kind = 'emergency'
             AND w.status <> ALL($2::text[])
           UNION
           -- a critical condition a device reports right now (cleared alarms no longer count)
           SELECT al.site_id, a.building_id
           FROM alarms al
           JOIN devices d ON d.id = al.device_id
           LEFT JOIN assets a ON a.id = d.asset_id
           WHERE al.site_id = ANY($1::uuid[]) AND al.active AND al.severity = 'critical'""",
        list(site_ids),
        _EMERGENCY_OVER,
    )
    return EmergencyScope(
        buildings=frozenset(r["building_id"] for r in rows if r["building_id"] is not None),
        whole_sites=frozenset(r["site_id"] for r in rows if r["building_id"] is None),
    )


async def units_with_open_jobs_of(
    conn: asyncpg.Connection, assignee_id: UUID, unit_ids: Sequence[UUID]
) -> set[UUID]:
    """Those of these units where the technician holds a job that is not closed or cancelled."""
    rows = await conn.fetch(
        """SELECT DISTINCT unit_id FROM work_orders
           WHERE assignee_id = $1 AND unit_id = ANY($2::uuid[]) AND status NOT IN ('closed', 'cancelled')""",
        assignee_id,
        list(unit_ids),
    )
    return {r["unit_id"] for r in rows}


class VulnerableHome(msgspec.Struct, frozen=True):
    """A vulnerable resident with their unit."""

    unit: Unit
    resident: Resident


async def vulnerable_residents(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    building_id: UUID | None,
    within: EmergencyScope | None,
    limit: int,
    offset: int,
) -> tuple[list[VulnerableHome], int]:
    """Residents flagged vulnerable, by building, floor and unit: of these sites (None: all), of one building
    if given, and of the buildings an emergency covers if `within` is given."""
    where = """r.vulnerable AND ($1::uuid[] IS NULL OR r.site_id = ANY($1))
               AND ($2::uuid IS NULL OR u.building_id = $2)
               AND (NOT $3 OR u.building_id = ANY($4::uuid[]) OR u.site_id = ANY($5::uuid[]))"""
    args = [
        list(site_ids) if site_ids is not None else None,
        building_id,
        within is not None,
        list(within.buildings) if within else [],
        list(within.whole_sites) if within else [],
    ]
    total = await conn.fetchval(
        f"SELECT count(*) FROM residents r JOIN units u ON u.id = r.unit_id WHERE {where}", *args
    )
    rows = await conn.fetch(
        f"""SELECT u.id AS unit_id, u.site_id, u.building_id, b.code AS building_code,
                   b.name AS building_name, u.number, u.floor, u.area_m2,
                   r.id, r.name, r.phone, r.relation, r.vulnerable
            FROM residents r JOIN units u ON u.id = r.unit_id JOIN buildings b ON b.id = u.building_id
            WHERE {where}
            ORDER BY b.site_id, b.code, u.floor, u.number, r.created_at, r.id
            LIMIT $6 OFFSET $7""",
        *args,
        limit,
        offset,
    )
    homes = []
    for r in rows:
        area = r["area_m2"]
        unit = struct_of(
            Unit,
            r,
            id=r["unit_id"],
            area_m2=float(area) if area is not None else None,
        )
        resident = struct_of(Resident, r)
        homes.append(VulnerableHome(unit=unit, resident=resident))
    return homes, total


class ReadToLog(msgspec.Struct, frozen=True):
    """One resident shown in full to one reader."""

    site_id: UUID
    unit_id: UUID
    resident_id: UUID
    fields: list[str]
    reason: str


async def log_reads(
    conn: asyncpg.Connection,
    *,
    reader_id: UUID,
    role: str,
    endpoint: str,
    at: datetime,
    reads: Sequence[ReadToLog],
) -> None:
    """Append one row per resident shown in full (fields are joined: a text[][] cannot UNNEST unevenly)."""
    if not reads:
        return
    await conn.execute(
        """INSERT INTO personal_data_reads (read_at, user_id, role, site_id, unit_id, resident_id, fields,
                                            reason, endpoint)
           SELECT $1, $2, $3, s, u, r, string_to_array(f, ','), why, $4
           FROM UNNEST($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[]) AS t(s, u, r, f, why)""",
        at,
        reader_id,
        role,
        endpoint,
        [r.site_id for r in reads],
        [r.unit_id for r in reads],
        [r.resident_id for r in reads],
        [",".join(r.fields) for r in reads],
        [r.reason for r in reads],
    )


async def list_reads(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    user_id: UUID | None,
    unit_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[PersonalDataRead], int]:
    """The read log, newest first, filtered; `site_ids=None` is every site."""
    where = """($1::uuid[] IS NULL OR p.site_id = ANY($1)) AND ($2::uuid IS NULL OR p.user_id = $2)
               AND ($3::uuid IS NULL OR p.unit_id = $3) AND ($4::timestamptz IS NULL OR p.read_at >= $4)
               AND ($5::timestamptz IS NULL OR p.read_at < $5)"""
    args = [list(site_ids) if site_ids is not None else None, user_id, unit_id, since, until]
    rows, total = await one_page(
        conn,
        """p.id, p.read_at, p.user_id, us.username, us.display_name, p.role, p.site_id, p.unit_id,
           -- the unit may have been removed since; the log still names its id
           b.code || '-' || un.number AS unit_label, p.resident_id, p.fields, p.reason, p.endpoint""",
        """personal_data_reads p JOIN users us ON us.id = p.user_id
           LEFT JOIN units un ON un.id = p.unit_id LEFT JOIN buildings b ON b.id = un.building_id""",
        where,
        "p.read_at DESC, p.id DESC",
        args,
        limit,
        offset,
        count_from="personal_data_reads p",
    )
    return [PersonalDataRead(**dict(r)) for r in rows], total
