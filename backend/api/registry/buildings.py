"""Building endpoints: read and list by everyone on the site; admins create, change and delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from backend.api.deps import idempotent
from backend.api.paging import Limit, Offset, Page
from backend.api.registry.common import (
    ADMIN_ONLY,
    UNSET,
    Code,
    Floors,
    Name,
    Removed,
    Search,
    SiteRef,
    Unset,
    patch_fields,
    removal,
)
from backend.domain.models import CurrentUser, Model
from backend.domain.registry import (
    Building,
)
from backend.services import registry as svc


class BuildingCreate(Model):
    """A new building."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    floors: Floors = 1


class BuildingUpdate(Model):
    """Changes to a building."""

    code: Code | Unset = UNSET
    name: Name | Unset = UNSET
    floors: Floors | Unset = UNSET


class BuildingController(Controller):
    """Buildings of the caller's sites."""

    path = "/api/v1/buildings"
    tags = ("registry",)

    @get("/", summary="Buildings")
    async def list_buildings(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Building]:
        """Buildings of the caller's sites, filtered by site."""
        items, total = await svc.list_buildings(conn, user, site=site, q_text=q, limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{building_id:uuid}", summary="One building")
    async def get_building(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
    ) -> Building:
        """A building of the caller's sites."""
        return await svc.get_building(conn, user, building_id)

    @post("/", guards=ADMIN_ONLY, summary="Create a building")
    async def create_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[BuildingCreate, Body()],
    ) -> Response[Building]:
        """A new building (admins); `siteId` takes the site's id or code."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_building(
                conn, user, site=data.site_id, code=data.code, name=data.name, floors=data.floors
            ),
            status=201,
        )

    @patch("/{building_id:uuid}", guards=ADMIN_ONLY, summary="Change a building")
    async def update_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
        data: Annotated[BuildingUpdate, Body()],
    ) -> Response[Building]:
        """Change a building's code, name or floors (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_building(conn, user, building_id, patch_fields(data))
        )

    @delete("/{building_id:uuid}", guards=ADMIN_ONLY, status_code=200, summary="Delete an empty building")
    async def delete_building(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        building_id: FromPath[UUID],
    ) -> Response[Removed]:
        """Delete a building with no units or assets (409 otherwise)."""
        return await removal(request, conn, lambda: svc.delete_building(conn, user, building_id), building_id)
