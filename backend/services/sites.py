"""Which site a request is about: `site` accepts the site's code or its id everywhere."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg

from backend.db.queries import sites as q
from backend.domain.models import CurrentUser, SiteRef
from backend.errors import NotFound, ValidationFailed
from backend.services.job_health import report_fault


async def site_for(conn: asyncpg.Connection, viewer: CurrentUser, ref: str | None) -> SiteRef:
    """The site named (code or id), or the viewer's only site; another site's is not found."""
    if ref:
        found = await q.find_site(conn, ref)
        if found is None or not viewer.may_see_site(found.id):
            raise NotFound(f"no site {ref!r}", code="site_not_found")
        return found
    if len(viewer.site_ids) != 1:
        raise ValidationFailed("name the site (you belong to more than one)", field="site")
    found = await q.get_site(conn, viewer.site_ids[0])
    if found is None:
        raise NotFound("your site no longer exists", code="site_not_found")
    return found


async def site_ids_for(conn: asyncpg.Connection, viewer: CurrentUser, ref: str | None) -> list[UUID]:
    """The one site named (code or id), or every site of the viewer."""
    if ref:
        return [(await site_for(conn, viewer, ref)).id]
    return list(viewer.site_ids)


async def every_site(conn: asyncpg.Connection) -> list[tuple[SiteRef, ZoneInfo]]:
    """Every site with its time zone, for a job that walks them all: a site whose zone is unknown is
    reported as the job's fault and left out (the other sites still get their turn)."""
    found = []
    for site in await q.all_sites(conn):
        try:
            found.append((site, ZoneInfo(site.timezone)))
        except (ZoneInfoNotFoundError, ValueError):
            report_fault(
                site=site.code, subject="timezone", error=f"unknown time zone {site.timezone[:64]!r}"
            )
    return found
