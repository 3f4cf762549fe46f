"""Asset (equipment) endpoints: read and list by everyone on the site; admins create, change and delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.paging import Limit, Offset, Page
from backend.api.registry.common import (
    ADMIN_ONLY,
    UNSET,
    Code,
    Days,
    Name,
    Removed,
    Search,
    SiteRef,
    Text,
    Unset,
    patch_fields,
    removal,
)
from backend.domain.client_input import Attributes
from backend.domain.models import CurrentUser, Model
from backend.domain.registry import (
    Asset,
    AssetKind,
)
from backend.services import registry as svc


class AssetCreate(Model):
    """A new facility."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    kind: AssetKind
    building_id: UUID | None = None
    location: Text = ""
    parameters: Attributes = msgspec.field(default_factory=dict)
    maintenance_days: Days | None = None
    installed_on: dt.date | None = None


class AssetUpdate(Model):
    """Changes to a facility."""

    code: Code | Unset = UNSET
    name: Name | Unset = UNSET
    kind: AssetKind | Unset = UNSET
    building_id: UUID | Unset | None = UNSET
    location: Text | Unset = UNSET
    parameters: Attributes | Unset = UNSET
    maintenance_days: Days | Unset | None = UNSET
    installed_on: dt.date | Unset | None = UNSET


class AssetController(Controller):
    """Facilities (设施设备) of the caller's sites."""

    path = "/api/v1/assets"
    tags = ("registry",)

    @get("/", summary="Assets")
    async def list_assets(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        building: Annotated[UUID | None, Parameter(description="building id")] = None,
        kind: AssetKind | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Asset]:
        """Assets, filtered by site, building and kind."""
        items, total = await svc.list_assets(
            conn, user, site=site, building_id=building, kind=kind, q_text=q, limit=limit, offset=offset
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{asset_id:uuid}", summary="One asset")
    async def get_asset(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
    ) -> Asset:
        """An asset of the caller's sites."""
        return await svc.get_asset(conn, user, asset_id)

    @post("/", guards=ADMIN_ONLY, summary="Create an asset")
    async def create_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[AssetCreate, Body()],
    ) -> Response[Asset]:
        """A new asset (admins); `siteId` takes the site's id or code."""
        fields = {k: v for k, v in msgspec.structs.asdict(data).items() if k != "site_id"}
        return await idempotent(
            request, conn, lambda: svc.create_asset(conn, user, site=data.site_id, fields=fields), status=201
        )

    @patch("/{asset_id:uuid}", guards=ADMIN_ONLY, summary="Change an asset")
    async def update_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
        data: Annotated[AssetUpdate, Body()],
    ) -> Response[Asset]:
        """Change an asset (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_asset(conn, user, asset_id, patch_fields(data))
        )

    @delete("/{asset_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an unused asset")
    async def delete_asset(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        asset_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete an asset no device, work order or plan refers to (409 otherwise)."""
        return await removal(request, conn, lambda: svc.delete_asset(conn, user, asset_id), asset_id)
