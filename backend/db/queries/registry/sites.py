"""Sites: read, list, create, change."""

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
from backend.domain.registry import Site

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
