"""Registry endpoints: sites, buildings, units and residents, assets, devices, staff.

Every member of staff reads the registry of their own sites; only admins change it (users list: the desk).
Lists answer {items, total, limit, offset}. The endpoints that are the same for every resource are made
(crud.py) from the descriptions below; each resource's module has its bodies and what it does differently.
"""

from typing import Annotated
from uuid import UUID

from litestar.params import Parameter

from backend.api.registry.assets import AssetCreate, AssetUpdate
from backend.api.registry.buildings import BuildingCreate, BuildingUpdate
from backend.api.registry.crud import Resource, handlers
from backend.api.registry.devices import DeviceCreate, DeviceUpdate, deactivate_device
from backend.api.registry.sites import SiteUpdate, create_site
from backend.api.registry.units import ResidentController, ResidentUpdate, UnitController
from backend.api.registry.users import UserController
from backend.domain.registry import AssetKind, DeviceKind, UnitWithResidents
from backend.services import registry as svc

SITES = Resource(
    svc.SITES,
    update=SiteUpdate,
    by_site=False,
    ops=("get", "update"),
    summaries={"list": "The caller's sites"},
)
BUILDINGS = Resource(
    svc.BUILDINGS,
    create=BuildingCreate,
    update=BuildingUpdate,
    summaries={"delete": "Delete an empty building"},  # one with units or assets: 409
)
# a unit is read with its residents, masked (personal_data.py); it is created in its building
UNITS = Resource(svc.UNITS, answer=UnitWithResidents, ops=(), summaries={"delete": "Delete an unused unit"})
RESIDENTS = Resource(
    svc.RESIDENTS,
    update=ResidentUpdate,
    ops=("update",),
    summaries={"delete": "Remove a resident who moved out"},
    delete_name="remove",
)
# facilities (设施设备)
ASSETS = Resource(
    svc.ASSETS,
    create=AssetCreate,
    update=AssetUpdate,
    filters={
        "building": (Annotated[UUID | None, Parameter(description="building id")], "building_id"),
        "kind": (AssetKind | None, "kind"),
    },
    summaries={"delete": "Delete an unused asset"},  # one a device, work order or plan refers to: 409
)
# sensors, under their MQTT identity; deactivated, never deleted
DEVICES = Resource(
    svc.DEVICES,
    id_type=str,
    create=DeviceCreate,
    update=DeviceUpdate,
    filters={
        "asset": (Annotated[UUID | None, Parameter(description="asset id")], "asset_id"),
        "kind": (DeviceKind | None, "kind"),
        "active": (bool | None, "active"),
    },
    summaries={"create": "Register a device"},
)

REGISTRY_HANDLERS = [
    *handlers(SITES),
    create_site,
    *handlers(BUILDINGS),
    UnitController,
    *handlers(UNITS),
    ResidentController,
    *handlers(RESIDENTS),
    *handlers(ASSETS),
    *handlers(DEVICES),
    deactivate_device,
    UserController,
]
