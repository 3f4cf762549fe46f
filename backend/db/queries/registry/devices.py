"""Devices (sensors) of a site, tied to an asset: read, list, register, change."""

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
)
from backend.domain.registry import Device

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
