"""Assets (equipment) of a site: read, list, create, change, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.registry.common import (
    _Filter,
    _page,
    _raise_for,
    _set_clause,
    delete_row,
)
from backend.domain.registry import Asset

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
    return await delete_row(conn, "assets", asset_id, "asset")
