"""Site endpoints: everyone reads their own sites; admins create them and change their settings."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from backend.api.deps import idempotent
from backend.api.paging import Limit, Offset, Page
from backend.api.registry.common import (
    ADMIN_ONLY,
    UNSET,
    Name,
    Search,
    Unset,
    patch_fields,
)
from backend.domain.models import CurrentUser, Model
from backend.domain.registry import (
    Site,
)
from backend.domain.site_settings import SiteSettings
from backend.services import registry as svc


class SiteCreate(Model):
    """A new estate."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    name: Name
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


class SiteUpdate(Model):
    """Changes to an estate."""

    name: Name | Unset = UNSET
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | Unset = UNSET
    # replaces the stored settings; a key left out takes the company default
    settings: SiteSettings | Unset = UNSET


class SiteController(Controller):
    """Estates."""

    path = "/api/v1/sites"
    tags = ("registry",)

    @get("/", summary="The caller's sites")
    async def list_sites(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Site]:
        """Sites the caller belongs to (admins: all)."""
        items, total = await svc.list_sites(conn, user, q_text=q, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{site_id:uuid}", summary="One site")
    async def get_site(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site_id: FromPath[UUID],
    ) -> Site:
        """A site of the caller's."""
        return await svc.resolve_site(conn, user, str(site_id))

    @post("/", guards=ADMIN_ONLY, summary="Create a site")
    async def create_site(
        self, request: Request, conn: NamedDependency[asyncpg.Connection], data: Annotated[SiteCreate, Body()]
    ) -> Response[Site]:
        """A new estate (admins)."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_site(conn, code=data.code, name=data.name, timezone=data.timezone),
            status=201,
        )

    @patch("/{site_id:uuid}", guards=ADMIN_ONLY, summary="Change a site")
    async def update_site(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site_id: FromPath[UUID],
        data: Annotated[SiteUpdate, Body()],
    ) -> Response[Site]:
        """Rename a site, change its time zone or settings (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_site(conn, user, site_id, patch_fields(data))
        )
