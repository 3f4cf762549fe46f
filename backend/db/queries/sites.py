"""Sites as other records name them: by id or by code."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.domain.models import SiteRef

_SITE = "SELECT id, code, name, timezone FROM sites"


async def find_site(conn: asyncpg.Connection, ref: str) -> SiteRef | None:
    """The site named by its code or its id."""
    row = await conn.fetchrow(_SITE + " WHERE code = $1 OR id::text = lower($1)", ref)
    return SiteRef(**dict(row)) if row else None


async def get_site(conn: asyncpg.Connection, site_id: UUID) -> SiteRef | None:
    """The site with this id."""
    row = await conn.fetchrow(_SITE + " WHERE id = $1", site_id)
    return SiteRef(**dict(row)) if row else None


async def all_sites(conn: asyncpg.Connection) -> list[SiteRef]:
    """Every site, by code."""
    rows = await conn.fetch(_SITE + " ORDER BY code")
    return [SiteRef(**dict(r)) for r in rows]


async def site_zones(conn: asyncpg.Connection, site_ids: list[UUID]) -> dict[UUID, str]:
    """Each site's time zone."""
    rows = await conn.fetch("SELECT id, timezone FROM sites WHERE id = ANY($1::uuid[])", site_ids)
    return {r["id"]: r["timezone"] for r in rows}
