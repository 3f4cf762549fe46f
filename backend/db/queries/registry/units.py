"""Units and their residents: the list with its search, finding units by address or phone, residents."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from backend.db.queries.registry.common import _Filter, list_rows
from backend.db.queries.registry.tables import RESIDENTS, UNITS
from backend.domain.registry import Resident, Unit

# Residents whose phone, digits only, ends with the digits given: +86, spaces and dashes in either the stored
# or the typed number do not matter. `{}` is the parameter holding the digits (checked long enough upstream).
_BY_PHONE_TAIL = "SELECT unit_id FROM residents WHERE regexp_replace(phone, '\\D', '', 'g') LIKE '%' || {}"


def _building_is(f: _Filter, building: str, *, by_name: bool) -> None:
    try:
        f.add("u.building_id = {}", UUID(building))
    except ValueError:
        f.add("(b.code = {0} OR b.name = {0})" if by_name else "b.code = {}", building)


async def list_units(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    building: str | None,
    floor: int | None,
    q: str | None,
    search_residents: bool = False,
    phone_tail: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Unit], int]:
    """Units of the caller's sites; `building` is an id or a code. `q` matches numbers, and with
    `search_residents` residents' names; `phone_tail` (digits) matches the end of residents' phones."""
    f = _Filter()
    if building:
        _building_is(f, building, by_name=False)
    if q:
        columns = ["u.number", "b.code || '-' || u.number", "b.name || u.number"]
        if search_residents:
            # the desk also finds a home by its residents' names
            columns.append("(SELECT string_agg(r.name, ' ') FROM residents r WHERE r.unit_id = u.id)")
        # ... and by the end of a resident's phone number
        f.search(columns, q, alternative=(f"u.id IN ({_BY_PHONE_TAIL})", phone_tail) if phone_tail else None)
    return await list_rows(
        conn,
        UNITS,
        site_ids=site_ids,
        equal={"u.site_id": site_id, "u.floor": floor},
        q=None,
        limit=limit,
        offset=offset,
        f=f,
    )


async def find_units(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID],
    building: str | None,
    number: str | None,
    phone_tail: str | None,
) -> list[Unit]:
    """Units of these sites by building (id, code or name) and number, or by the end of a resident's phone."""
    f = _Filter()
    f.add("u.site_id = ANY({}::uuid[])", list(site_ids))
    if building is not None:
        _building_is(f, building, by_name=True)
    if number is not None:
        f.add("u.number = {}", number)
    if phone_tail:
        f.add(f"u.id IN ({_BY_PHONE_TAIL} AND site_id = ANY({{}}::uuid[]))", phone_tail, list(site_ids))
    rows = await conn.fetch(f"{UNITS.select}{f.where} ORDER BY {UNITS.order} LIMIT 50", *f.args)
    return [UNITS.read(r) for r in rows]


async def residents_of(conn: asyncpg.Connection, unit_ids: Sequence[UUID]) -> dict[UUID, list[Resident]]:
    """The residents of these units, owners first."""
    rows = await conn.fetch(
        f"{RESIDENTS.select} WHERE unit_id = ANY($1::uuid[]) ORDER BY {RESIDENTS.order}", list(unit_ids)
    )
    found: dict[UUID, list[Resident]] = {uid: [] for uid in unit_ids}
    for row in rows:
        found[row["unit_id"]].append(RESIDENTS.read(row))
    return found
