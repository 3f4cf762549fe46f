"""The registry as the rest of the system sees it: sites, buildings, units, residents, assets, devices."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args
from uuid import UUID

from backend.domain.models import Model

AssetKind = Literal[
    "elevator", "pump", "water_tank", "pipework", "switchgear", "generator", "fire_system", "access_control",
    "lighting", "other",
]  # fmt: skip
ASSET_KINDS = frozenset(get_args(AssetKind))
DeviceKind = Literal["elevator", "pump", "pressure", "tank", "leak", "power", "generator"]
DEVICE_KINDS = frozenset(get_args(DeviceKind))
ResidentRelation = Literal["owner", "tenant", "family"]
RESIDENT_RELATIONS = frozenset(get_args(ResidentRelation))
# A technician's skills are the repair categories dispatch matches them against.
SKILLS = frozenset(
    {"water", "electrical", "elevator", "doors_windows", "structure", "gas", "fire_safety", "other"}
)


class Site(Model, frozen=True):
    """An estate (小区) with its own staff, clocks and settings."""

    id: UUID
    code: str
    name: str
    timezone: str
    settings: dict[str, Any]


class Building(Model, frozen=True):
    """A building (楼栋) of a site."""

    id: UUID
    site_id: UUID
    code: str
    name: str
    floors: int


class Resident(Model, frozen=True):
    """Someone who lives in a unit: the owner, a tenant or family."""

    id: UUID
    site_id: UUID
    unit_id: UUID
    name: str
    phone: str | None
    relation: str
    vulnerable: bool


class Unit(Model, frozen=True):
    """A home (户), named by its building and number."""

    id: UUID
    site_id: UUID
    building_id: UUID
    building_code: str
    building_name: str
    number: str
    floor: int | None
    area_m2: float | None


class UnitWithResidents(Unit, frozen=True):
    """A unit and the people living there (owners first)."""

    residents: list[Resident]


class Asset(Model, frozen=True):
    """A facility (设施设备): an elevator, a pump, switchgear ..."""

    id: UUID
    site_id: UUID
    building_id: UUID | None
    code: str
    name: str
    kind: str
    location: str
    parameters: dict[str, Any]
    maintenance_days: int | None
    installed_on: dt.date | None


class Device(Model, frozen=True):
    """A sensor publishing over MQTT; its id is its MQTT identity."""

    id: str
    site_id: UUID
    asset_id: UUID | None
    kind: str
    name: str
    active: bool


class StaffMember(Model, frozen=True):
    """A user as colleagues and dispatch see them (never with a password hash)."""

    id: UUID
    username: str
    display_name: str
    role: str
    phone: str | None
    skills: list[str]
    on_duty: bool
    active: bool
    locale: str
    site_ids: list[UUID]
