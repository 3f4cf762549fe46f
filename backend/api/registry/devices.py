"""Device (sensor) endpoints: read and list by everyone on the site; admins register and change them."""

from __future__ import annotations

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
    Name,
    Search,
    SiteRef,
    Unset,
    patch_fields,
)
from backend.domain.models import CurrentUser, Model
from backend.domain.registry import (
    Device,
    DeviceKind,
)
from backend.services import registry as svc

DeviceId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DeviceCreate(Model):
    """A new device, under its MQTT identity."""

    id: DeviceId
    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    kind: DeviceKind
    name: Name
    asset_id: UUID | None = None


class DeviceUpdate(Model):
    """Changes to a device."""

    name: Name | Unset = UNSET
    kind: DeviceKind | Unset = UNSET
    asset_id: UUID | Unset | None = UNSET
    active: bool | Unset = UNSET


class DeviceController(Controller):
    """Sensors of the caller's sites."""

    path = "/api/v1/devices"
    tags = ("registry",)

    @get("/", summary="Devices")
    async def list_devices(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        site: SiteRef = None,
        asset: Annotated[UUID | None, Parameter(description="asset id")] = None,
        kind: DeviceKind | None = None,
        active: bool | None = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Device]:
        """Devices, filtered by site, asset, kind and whether active."""
        items, total = await svc.list_devices(
            conn,
            user,
            site=site,
            asset_id=asset,
            kind=kind,
            active=active,
            q_text=q,
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/{device_id:str}", summary="One device")
    async def get_device(
        self,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
    ) -> Device:
        """A device of the caller's sites."""
        return await svc.get_device(conn, user, device_id)

    @post("/", guards=ADMIN_ONLY, summary="Register a device")
    async def create_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        data: Annotated[DeviceCreate, Body()],
    ) -> Response[Device]:
        """A new device (admins); `siteId` takes the site's id or code."""
        return await idempotent(
            request,
            conn,
            lambda: svc.create_device(
                conn,
                user,
                device_id=data.id,
                site=data.site_id,
                asset_id=data.asset_id,
                kind=data.kind,
                name=data.name,
            ),
            status=201,
        )

    @patch("/{device_id:str}", guards=ADMIN_ONLY, summary="Change a device")
    async def update_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
        data: Annotated[DeviceUpdate, Body()],
    ) -> Response[Device]:
        """Rename, re-link or (de)activate a device (admins)."""
        return await idempotent(
            request, conn, lambda: svc.update_device(conn, user, device_id, patch_fields(data))
        )

    @delete("/{device_id:str}", guards=ADMIN_ONLY, status_code=200, summary="Deactivate a device")
    async def deactivate_device(
        self,
        request: Request,
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        device_id: FromPath[str],
    ) -> Response[Device]:
        """Devices are never deleted (their history stays); this switches one off."""
        return await idempotent(request, conn, lambda: svc.deactivate_device(conn, user, device_id))
