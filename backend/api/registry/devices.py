"""Device (sensor) bodies, and deactivating one: read and list by everyone on the site; admins register and
change them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, delete
from litestar.params import FromPath

from backend.api.deps import Call
from backend.api.registry.common import ADMIN_ONLY, UNSET, Name, Unset
from backend.domain.models import Model
from backend.domain.registry import Device, DeviceKind
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


@delete(
    "/api/v1/devices/{device_id:str}",
    guards=ADMIN_ONLY,
    status_code=200,
    summary="Deactivate a device",
    tags=["registry"],
)
async def deactivate_device(
    call: Call,
    device_id: FromPath[str],
) -> Response[Device]:
    """Devices are never deleted (their history stays); this switches one off and the gateway ignores it."""
    return await call.once(
        lambda: svc.update(call.conn, call.user, svc.DEVICES, device_id, {"active": False})
    )
