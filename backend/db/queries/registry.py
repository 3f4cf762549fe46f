"""Registry SQL: sites, buildings, units, residents, assets, devices; bulk ensure-inserts for seeding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.domain.registry import Asset, Building, Device, Resident, Site, Unit
from backend.errors import Conflict, ValidationFailed

_encode_json = msgspec.json.Encoder().encode


def _json_texts(values: Sequence[Any]) -> list[str]:
    # passed as text[] and cast in SQL, so the bulk insert does not depend on a jsonb[] codec
    return [_encode_json(v).decode() for v in values]


# ----------------------------------------------------------------------------------------------------
# Bulk ensure-inserts: insert what is missing, leave existing rows alone, return ids by natural key.
# ----------------------------------------------------------------------------------------------------


async def ensure_site(conn: asyncpg.Connection, *, code: str, name: str, timezone: str) -> UUID:
    """The id of the site with this code, creating it when missing."""
    await conn.execute(
        "INSERT INTO sites (code, name, timezone) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING",
        code,
        name,
        timezone,
    )
    return await conn.fetchval("SELECT id FROM sites WHERE code = $1", code)


async def ensure_buildings(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[str, str, int]]
) -> dict[str, UUID]:
    """Buildings (code, name, floors) of the site; returns {code: id} for all of them."""
    codes = [r[0] for r in rows]
    await conn.execute(
        """INSERT INTO buildings (site_id, code, name, floors)
           SELECT $1, c, n, f FROM UNNEST($2::text[], $3::text[], $4::int[]) AS t(c, n, f)
           ON CONFLICT (site_id, code) DO NOTHING""",
        site_id,
        codes,
        [r[1] for r in rows],
        [r[2] for r in rows],
    )
    found = await conn.fetch(
        "SELECT code, id FROM buildings WHERE site_id = $1 AND code = ANY($2::text[])", site_id, codes
    )
    return {r["code"]: r["id"] for r in found}


async def ensure_units(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[UUID, str, int, float]]
) -> None:
    """Units (building id, number, floor, area m²) of the site."""
    await conn.execute(
        """INSERT INTO units (site_id, building_id, number, floor, area_m2)
           SELECT $1, b, n, f, a
           FROM UNNEST($2::uuid[], $3::text[], $4::int[], $5::numeric[]) AS t(b, n, f, a)
           ON CONFLICT (building_id, number) DO NOTHING""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


async def ensure_owners(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[UUID, str, str, str, bool]]
) -> None:
    """One owner (building id, unit number, name, phone, vulnerable) per unit that has no owner yet."""
    await conn.execute(
        """INSERT INTO residents (site_id, unit_id, name, phone, relation, vulnerable)
           SELECT $1, u.id, t.name, t.phone, 'owner', t.vulnerable
           FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[])
                AS t(building_id, number, name, phone, vulnerable)
           JOIN units u ON u.building_id = t.building_id AND u.number = t.number
           WHERE NOT EXISTS (SELECT 1 FROM residents r WHERE r.unit_id = u.id AND r.relation = 'owner')""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
    )


async def missing_usernames(conn: asyncpg.Connection, usernames: Sequence[str]) -> set[str]:
    """Which of these usernames do not exist yet."""
    rows = await conn.fetch("SELECT username FROM users WHERE username = ANY($1::text[])", list(usernames))
    return set(usernames) - {r["username"] for r in rows}


async def ensure_users(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, str, str, str, str | None, list[str], bool]]
) -> None:
    """Users (username, display name, password hash, role, phone, skills, on duty) that do not exist yet."""
    # skills is an array per user: executemany avoids a two-dimensional UNNEST
    await conn.executemany(
        """INSERT INTO users (username, display_name, password_hash, role, phone, skills, on_duty)
           VALUES ($1, $2, $3, $4, $5, $6::text[], $7)
           ON CONFLICT (username) DO NOTHING""",
        rows,
    )


async def ensure_memberships(conn: asyncpg.Connection, site_id: UUID, usernames: Sequence[str]) -> None:
    """Make these users members of the site."""
    await conn.execute(
        """INSERT INTO user_sites (user_id, site_id)
           SELECT id, $1 FROM users WHERE username = ANY($2::text[])
           ON CONFLICT DO NOTHING""",
        site_id,
        list(usernames),
    )


async def ensure_assets(
    conn: asyncpg.Connection,
    site_id: UUID,
    rows: Sequence[tuple[str, str, str, UUID | None, str, dict[str, Any], int | None]],
) -> dict[str, UUID]:
    """Assets (code, name, kind, building id, location, parameters, maintenance days); returns {code: id}."""
    codes = [r[0] for r in rows]
    await conn.execute(
        """INSERT INTO assets (site_id, code, name, kind, building_id, location, parameters, maintenance_days)
           SELECT $1, c, n, k, b, l, p::jsonb, m
           FROM UNNEST($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::int[])
                AS t(c, n, k, b, l, p, m)
           ON CONFLICT (site_id, code) DO NOTHING""",
        site_id,
        codes,
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        _json_texts([r[5] for r in rows]),
        [r[6] for r in rows],
    )
    found = await conn.fetch(
        "SELECT code, id FROM assets WHERE site_id = $1 AND code = ANY($2::text[])", site_id, codes
    )
    return {r["code"]: r["id"] for r in found}


async def ensure_devices(
    conn: asyncpg.Connection, site_id: UUID, rows: Sequence[tuple[str, UUID | None, str, str]]
) -> None:
    """Devices (id, asset id, kind, name) of the site."""
    await conn.execute(
        """INSERT INTO devices (id, site_id, asset_id, kind, name)
           SELECT i, $1, a, k, n FROM UNNEST($2::text[], $3::uuid[], $4::text[], $5::text[]) AS t(i, a, k, n)
           ON CONFLICT (id) DO NOTHING""",
        site_id,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
    )


# ----------------------------------------------------------------------------------------------------
# Reading and writing the registry. `site_ids=None` means every site (admins); otherwise only those sites.
# ----------------------------------------------------------------------------------------------------


class _Filter:
    """WHERE conditions with numbered parameters, built from optional filters."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def add(self, condition: str, *values: Any) -> None:
        """Add a condition whose `{}` placeholders take the next parameter numbers."""
        numbers = []
        for value in values:
            self.args.append(value)
            numbers.append(f"${len(self.args)}")
        self.conditions.append(condition.format(*numbers))

    def sites(self, column: str, site_ids: Sequence[UUID] | None) -> None:
        """Restrict to the caller's sites."""
        if site_ids is not None:
            self.add(f"{column} = ANY({{}}::uuid[])", list(site_ids))

    def search(
        self, columns: Sequence[str], text: str | None, *, alternative: tuple[str, Any] | None = None
    ) -> None:
        """Case-insensitive substring search over some columns, or-ed with an `alternative` condition whose
        `{}` placeholder takes its value."""
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            self.args.append(pattern)
            n = len(self.args)
            matches = [f"{c} ILIKE ${n}" for c in columns]
            if alternative is not None:
                self.args.append(alternative[1])
                matches.append(alternative[0].format(f"${len(self.args)}"))
            self.conditions.append("(" + " OR ".join(matches) + ")")

    @property
    def where(self) -> str:
        """The WHERE clause, or nothing."""
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""


async def _page(
    conn: asyncpg.Connection, select: str, count_from: str, f: _Filter, order: str, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    total = await conn.fetchval(f"SELECT count(*) {count_from}{f.where}", *f.args)
    n = len(f.args)
    rows = await conn.fetch(
        f"{select}{f.where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}", *f.args, limit, offset
    )
    return rows, total


def _set_clause(changes: dict[str, Any], columns: dict[str, str], first: int) -> tuple[str, list[Any]]:
    # column names come from the fixed `columns` table, never from the request
    parts, args = [], []
    for key, value in changes.items():
        args.append(value)
        cast = columns[key]
        parts.append(f"{key} = ${first + len(args) - 1}{cast}")
    return ", ".join(parts), args


def _raise_for(e: asyncpg.PostgresError, what: str) -> None:
    """Turn a constraint violation into the domain error a client can act on."""
    if isinstance(e, asyncpg.UniqueViolationError):
        raise Conflict(f"{what} already exists", code="duplicate") from e
    if isinstance(e, asyncpg.ForeignKeyViolationError):
        if "is still referenced" in (e.detail or ""):
            raise Conflict(f"{what} is still in use and cannot be deleted", code="in_use") from e
        raise ValidationFailed(f"{what} refers to something that does not exist", field=None) from e
    if isinstance(e, (asyncpg.CheckViolationError, asyncpg.NotNullViolationError, asyncpg.DataError)):
        raise ValidationFailed(
            f"{what} has a value out of range: {e.message}", field=getattr(e, "column_name", None)
        ) from e
    raise e


# --- sites ----------------------------------------------------------------------------------------

_SITE = "SELECT id, code, name, timezone, settings FROM sites"


def _site(row: asyncpg.Record) -> Site:
    return Site(
        id=row["id"], code=row["code"], name=row["name"], timezone=row["timezone"], settings=row["settings"]
    )


async def get_site(conn: asyncpg.Connection, site_id: UUID) -> Site | None:
    """The site with this id, settings included (db/queries/sites.py finds one by code or id)."""
    row = await conn.fetchrow(_SITE + " WHERE id = $1", site_id)
    return _site(row) if row else None


async def list_sites(
    conn: asyncpg.Connection, *, site_ids: Sequence[UUID] | None, q: str | None, limit: int, offset: int
) -> tuple[list[Site], int]:
    """Sites the caller may see."""
    f = _Filter()
    f.sites("id", site_ids)
    f.search(["code", "name"], q)
    rows, total = await _page(conn, _SITE, "FROM sites", f, "code", limit, offset)
    return [_site(r) for r in rows], total


async def site_ids_by_code(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, UUID]:
    """{code: id} of the sites among these codes that exist."""
    rows = await conn.fetch("SELECT code, id FROM sites WHERE code = ANY($1::text[])", list(codes))
    return {r["code"]: r["id"] for r in rows}


async def insert_site(conn: asyncpg.Connection, *, code: str, name: str, timezone: str) -> Site:
    """A new site."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO sites (code, name, timezone) VALUES ($1, $2, $3)"
            " RETURNING id, code, name, timezone, settings",
            code,
            name,
            timezone,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"site {code}")
    return _site(row)


_SITE_COLUMNS = {"name": "", "timezone": "", "settings": "::jsonb"}


async def update_site(conn: asyncpg.Connection, site_id: UUID, changes: dict[str, Any]) -> Site | None:
    """Change some fields of a site; None when it does not exist."""
    if not changes:
        row = await conn.fetchrow(_SITE + " WHERE id = $1", site_id)
    else:
        sets, args = _set_clause(changes, _SITE_COLUMNS, 2)
        row = await conn.fetchrow(
            f"UPDATE sites SET {sets} WHERE id = $1 RETURNING id, code, name, timezone, settings",
            site_id,
            *args,
        )
    return _site(row) if row else None


# --- buildings ------------------------------------------------------------------------------------

_BUILDING = "SELECT id, site_id, code, name, floors FROM buildings"


def _building(row: asyncpg.Record) -> Building:
    return Building(
        id=row["id"], site_id=row["site_id"], code=row["code"], name=row["name"], floors=row["floors"]
    )


async def get_building(conn: asyncpg.Connection, building_id: UUID) -> Building | None:
    """One building."""
    row = await conn.fetchrow(_BUILDING + " WHERE id = $1", building_id)
    return _building(row) if row else None


async def find_building(conn: asyncpg.Connection, site_id: UUID, ref: str) -> Building | None:
    """The building of this site with this id or code."""
    try:
        row = await conn.fetchrow(_BUILDING + " WHERE site_id = $1 AND id = $2", site_id, UUID(ref))
    except ValueError:
        row = await conn.fetchrow(_BUILDING + " WHERE site_id = $1 AND code = $2", site_id, ref)
    return _building(row) if row else None


async def list_buildings(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Building], int]:
    """Buildings of the caller's sites."""
    f = _Filter()
    f.sites("site_id", site_ids)
    if site_id:
        f.add("site_id = {}", site_id)
    f.search(["code", "name"], q)
    rows, total = await _page(conn, _BUILDING, "FROM buildings", f, "site_id, code", limit, offset)
    return [_building(r) for r in rows], total


async def insert_building(
    conn: asyncpg.Connection, *, site_id: UUID, code: str, name: str, floors: int
) -> Building:
    """A new building."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO buildings (site_id, code, name, floors) VALUES ($1, $2, $3, $4)"
            " RETURNING id, site_id, code, name, floors",
            site_id,
            code,
            name,
            floors,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"building {code}")
    return _building(row)


async def update_building(
    conn: asyncpg.Connection, building_id: UUID, changes: dict[str, Any]
) -> Building | None:
    """Change some fields of a building."""
    if not changes:
        return await get_building(conn, building_id)
    sets, args = _set_clause(changes, {"code": "", "name": "", "floors": ""}, 2)
    try:
        row = await conn.fetchrow(
            f"UPDATE buildings SET {sets} WHERE id = $1 RETURNING id, site_id, code, name, floors",
            building_id,
            *args,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, "building")
    return _building(row) if row else None


async def delete_building(conn: asyncpg.Connection, building_id: UUID) -> bool:
    """Delete a building with no units or assets; False when it does not exist."""
    try:
        return await conn.execute("DELETE FROM buildings WHERE id = $1", building_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, "building")
        raise


# --- units and residents --------------------------------------------------------------------------

_UNIT = """SELECT u.id, u.site_id, u.building_id, b.code AS building_code, b.name AS building_name,
                  u.number, u.floor, u.area_m2
           FROM units u JOIN buildings b ON b.id = u.building_id"""
_RESIDENT = "SELECT id, site_id, unit_id, name, phone, relation, vulnerable FROM residents"
# Residents whose phone, digits only, ends with the digits given: +86, spaces and dashes in either the stored
# or the typed number do not matter. `{}` is the parameter holding the digits (checked long enough upstream).
_BY_PHONE_TAIL = "SELECT unit_id FROM residents WHERE regexp_replace(phone, '\\D', '', 'g') LIKE '%' || {}"
_RESIDENT_ORDER = "CASE relation WHEN 'owner' THEN 0 WHEN 'tenant' THEN 1 ELSE 2 END, created_at, id"


def _unit(row: asyncpg.Record) -> Unit:
    area = row["area_m2"]
    return Unit(
        id=row["id"],
        site_id=row["site_id"],
        building_id=row["building_id"],
        building_code=row["building_code"],
        building_name=row["building_name"],
        number=row["number"],
        floor=row["floor"],
        area_m2=float(area) if area is not None else None,
    )


def _resident(row: asyncpg.Record) -> Resident:
    return Resident(
        id=row["id"],
        site_id=row["site_id"],
        unit_id=row["unit_id"],
        name=row["name"],
        phone=row["phone"],
        relation=row["relation"],
        vulnerable=row["vulnerable"],
    )


async def get_unit(conn: asyncpg.Connection, unit_id: UUID) -> Unit | None:
    """One unit."""
    row = await conn.fetchrow(_UNIT + " WHERE u.id = $1", unit_id)
    return _unit(row) if row else None


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
    f.sites("u.site_id", site_ids)
    if site_id:
        f.add("u.site_id = {}", site_id)
    if building:
        try:
            f.add("u.building_id = {}", UUID(building))
        except ValueError:
            f.add("b.code = {}", building)
    if floor is not None:
        f.add("u.floor = {}", floor)
    if q:
        columns = ["u.number", "b.code || '-' || u.number", "b.name || u.number"]
        if search_residents:
            # the desk also finds a home by its residents' names
            columns.append("(SELECT string_agg(r.name, ' ') FROM residents r WHERE r.unit_id = u.id)")
        # ... and by the end of a resident's phone number
        f.search(columns, q, alternative=(f"u.id IN ({_BY_PHONE_TAIL})", phone_tail) if phone_tail else None)
    count_from = "FROM units u JOIN buildings b ON b.id = u.building_id"
    rows, total = await _page(
        conn, _UNIT, count_from, f, "b.site_id, b.code, u.floor, u.number", limit, offset
    )
    return [_unit(r) for r in rows], total


async def find_units(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID],
    building: str | None,
    number: str | None,
    phone_tail: str | None,
) -> list[Unit]:
    """Units of these sites by building (id or code) and number, or by the end of a resident's phone."""
    f = _Filter()
    f.add("u.site_id = ANY({}::uuid[])", list(site_ids))
    if building is not None:
        try:
            f.add("u.building_id = {}", UUID(building))
        except ValueError:
            f.add("(b.code = {0} OR b.name = {0})", building)
    if number is not None:
        f.add("u.number = {}", number)
    if phone_tail:
        f.add(f"u.id IN ({_BY_PHONE_TAIL} AND site_id = ANY({{}}::uuid[]))", phone_tail, list(site_ids))
    rows = await conn.fetch(
        f"{_UNIT}{f.where} ORDER BY b.site_id, b.code, u.floor, u.number LIMIT 50", *f.args
    )
    return [_unit(r) for r in rows]


async def residents_of(conn: asyncpg.Connection, unit_ids: Sequence[UUID]) -> dict[UUID, list[Resident]]:
    """The residents of these units, owners first."""
    rows = await conn.fetch(
        _RESIDENT + f" WHERE unit_id = ANY($1::uuid[]) ORDER BY {_RESIDENT_ORDER}", list(unit_ids)
    )
    found: dict[UUID, list[Resident]] = {uid: [] for uid in unit_ids}
    for row in rows:
        found[row["unit_id"]].append(_resident(row))
    return found


async def insert_unit(
    conn: asyncpg.Connection, *, building: Building, number: str, floor: int | None, area_m2: float | None
) -> Unit:
    """A new unit in a building."""
    try:
        unit_id = await conn.fetchval(
            "INSERT INTO units (site_id, building_id, number, floor, area_m2) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING id",
            building.site_id,
            building.id,
            number,
            floor,
            area_m2,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"unit {building.code}-{number}")
    unit = await get_unit(conn, unit_id)
    assert unit is not None
    return unit


async def update_unit(conn: asyncpg.Connection, unit_id: UUID, changes: dict[str, Any]) -> Unit | None:
    """Change some fields of a unit."""
    if changes:
        sets, args = _set_clause(changes, {"number": "", "floor": "", "area_m2": "::numeric"}, 2)
        try:
            await conn.execute(f"UPDATE units SET {sets} WHERE id = $1", unit_id, *args)
        except asyncpg.PostgresError as e:
            _raise_for(e, "unit")
    return await get_unit(conn, unit_id)


async def delete_unit(conn: asyncpg.Connection, unit_id: UUID) -> bool:
    """Delete a unit nobody lives in and no work order names."""
    try:
        return await conn.execute("DELETE FROM units WHERE id = $1", unit_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, "unit")
        raise


async def get_resident(conn: asyncpg.Connection, resident_id: UUID) -> Resident | None:
    """One resident."""
    row = await conn.fetchrow(_RESIDENT + " WHERE id = $1", resident_id)
    return _resident(row) if row else None


async def insert_resident(
    conn: asyncpg.Connection, *, unit: Unit, name: str, phone: str | None, relation: str, vulnerable: bool
) -> Resident:
    """A new resident of a unit."""
    row = await conn.fetchrow(
        "INSERT INTO residents (site_id, unit_id, name, phone, relation, vulnerable)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " RETURNING id, site_id, unit_id, name, phone, relation, vulnerable",
        unit.site_id,
        unit.id,
        name,
        phone,
        relation,
        vulnerable,
    )
    return _resident(row)


async def update_resident(
    conn: asyncpg.Connection, resident_id: UUID, changes: dict[str, Any]
) -> Resident | None:
    """Change some fields of a resident."""
    if not changes:
        return await get_resident(conn, resident_id)
    sets, args = _set_clause(changes, {"name": "", "phone": "", "relation": "", "vulnerable": ""}, 2)
    row = await conn.fetchrow(
        f"UPDATE residents SET {sets} WHERE id = $1"
        " RETURNING id, site_id, unit_id, name, phone, relation, vulnerable",
        resident_id,
        *args,
    )
    return _resident(row) if row else None


async def delete_resident(conn: asyncpg.Connection, resident_id: UUID) -> bool:
    """Remove a resident who moved out."""
    try:
        return await conn.execute("DELETE FROM residents WHERE id = $1", resident_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, "resident")
        raise


# --- assets ---------------------------------------------------------------------------------------

_ASSET = """SELECT id, site_id, building_id, code, name, kind, location, parameters, maintenance_days,
                   installed_on
            FROM assets"""


def _asset(row: asyncpg.Record) -> Asset:
    return Asset(
        id=row["id"],
        site_id=row["site_id"],
        building_id=row["building_id"],
        code=row["code"],
        name=row["name"],
        kind=row["kind"],
        location=row["location"],
        parameters=row["parameters"],
        maintenance_days=row["maintenance_days"],
        installed_on=row["installed_on"],
    )


async def get_asset(conn: asyncpg.Connection, asset_id: UUID) -> Asset | None:
    """One asset."""
    row = await conn.fetchrow(_ASSET + " WHERE id = $1", asset_id)
    return _asset(row) if row else None


async def list_assets(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    building_id: UUID | None,
    kind: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Asset], int]:
    """Assets of the caller's sites."""
    f = _Filter()
    f.sites("site_id", site_ids)
    if site_id:
        f.add("site_id = {}", site_id)
    if building_id:
        f.add("building_id = {}", building_id)
    if kind:
        f.add("kind = {}", kind)
    f.search(["code", "name", "location"], q)
    rows, total = await _page(conn, _ASSET, "FROM assets", f, "site_id, code", limit, offset)
    return [_asset(r) for r in rows], total


_ASSET_COLUMNS = {
    "building_id": "::uuid",
    "code": "",
    "name": "",
    "kind": "",
    "location": "",
    "parameters": "::jsonb",
    "maintenance_days": "::int",
    "installed_on": "::date",
}


async def insert_asset(conn: asyncpg.Connection, *, site_id: UUID, fields: dict[str, Any]) -> Asset:
    """A new asset; `fields` uses the column names."""
    fields = {**fields, "parameters": fields.get("parameters") or {}}
    names = list(fields)
    placeholders = ", ".join(f"${i + 2}{_ASSET_COLUMNS[n]}" for i, n in enumerate(names))
    try:
        asset_id = await conn.fetchval(
            f"INSERT INTO assets (site_id, {', '.join(names)}) VALUES ($1, {placeholders}) RETURNING id",
            site_id,
            *fields.values(),
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"asset {fields.get('code')}")
    asset = await get_asset(conn, asset_id)
    assert asset is not None
    return asset


async def update_asset(conn: asyncpg.Connection, asset_id: UUID, changes: dict[str, Any]) -> Asset | None:
    """Change some fields of an asset."""
    if changes:
        sets, args = _set_clause(changes, _ASSET_COLUMNS, 2)
        try:
            await conn.execute(f"UPDATE assets SET {sets} WHERE id = $1", asset_id, *args)
        except asyncpg.PostgresError as e:
            _raise_for(e, "asset")
    return await get_asset(conn, asset_id)


async def delete_asset(conn: asyncpg.Connection, asset_id: UUID) -> bool:
    """Delete an asset no device, work order or plan refers to."""
    try:
        return await conn.execute("DELETE FROM assets WHERE id = $1", asset_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, "asset")
        raise


# --- devices --------------------------------------------------------------------------------------

_DEVICE = "SELECT id, site_id, asset_id, kind, name, active FROM devices"


def _device(row: asyncpg.Record) -> Device:
    return Device(
        id=row["id"],
        site_id=row["site_id"],
        asset_id=row["asset_id"],
        kind=row["kind"],
        name=row["name"],
        active=row["active"],
    )


async def get_device(conn: asyncpg.Connection, device_id: str) -> Device | None:
    """One device by its MQTT identity."""
    row = await conn.fetchrow(_DEVICE + " WHERE id = $1", device_id)
    return _device(row) if row else None


async def list_devices(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID] | None,
    site_id: UUID | None,
    asset_id: UUID | None,
    kind: str | None,
    active: bool | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Device], int]:
    """Devices of the caller's sites."""
    f = _Filter()
    f.sites("site_id", site_ids)
    if site_id:
        f.add("site_id = {}", site_id)
    if asset_id:
        f.add("asset_id = {}", asset_id)
    if kind:
        f.add("kind = {}", kind)
    if active is not None:
        f.add("active = {}", active)
    f.search(["id", "name"], q)
    rows, total = await _page(conn, _DEVICE, "FROM devices", f, "site_id, id", limit, offset)
    return [_device(r) for r in rows], total


async def insert_device(
    conn: asyncpg.Connection, *, device_id: str, site_id: UUID, asset_id: UUID | None, kind: str, name: str
) -> Device:
    """A new device."""
    try:
        row = await conn.fetchrow(
            "INSERT INTO devices (id, site_id, asset_id, kind, name) VALUES ($1, $2, $3, $4, $5)"
            " RETURNING id, site_id, asset_id, kind, name, active",
            device_id,
            site_id,
            asset_id,
            kind,
            name,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, f"device {device_id}")
    return _device(row)


async def update_device(conn: asyncpg.Connection, device_id: str, changes: dict[str, Any]) -> Device | None:
    """Change some fields of a device (deactivating it is `active=False`)."""
    if not changes:
        return await get_device(conn, device_id)
    sets, args = _set_clause(changes, {"asset_id": "::uuid", "kind": "", "name": "", "active": ""}, 2)
    try:
        row = await conn.fetchrow(
            f"UPDATE devices SET {sets} WHERE id = $1 RETURNING id, site_id, asset_id, kind, name, active",
            device_id,
            *args,
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, "device")
    return _device(row) if row else None
