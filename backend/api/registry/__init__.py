"""Registry endpoints, one module a resource: sites, buildings, units and residents, assets, devices, staff.

Every member of staff reads the registry of their own sites; only admins change it (users list: the desk).
Lists answer {items, total, limit, offset}.
"""

from backend.api.registry.assets import AssetController
from backend.api.registry.buildings import BuildingController
from backend.api.registry.devices import DeviceController
from backend.api.registry.sites import SiteController
from backend.api.registry.units import ResidentController, UnitController
from backend.api.registry.users import UserController

REGISTRY_CONTROLLERS = [
    SiteController,
    BuildingController,
    UnitController,
    ResidentController,
    AssetController,
    DeviceController,
    UserController,
]
