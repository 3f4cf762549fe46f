"""The registry's tables, each described once: what a row reads into, the columns it is written with, how
a list searches and orders it. db/queries/registry/common.py reads and writes any of them by this."""

from __future__ import annotations

from backend.db.queries.registry.common import Table
from backend.domain.registry import Asset, Building, Device, Resident, Site, Unit

SITES = Table(
    name="sites",
    what="site",
    row=Site,
    fields="id, code, name, timezone, settings",
    columns={"code": "", "name": "", "timezone": "", "settings": "::jsonb"},
    search=("code", "name"),
    order="code",
    site_key="id",
)
BUILDINGS = Table(
    name="buildings",
    what="building",
    row=Building,
    fields="id, site_id, code, name, floors",
    columns={"site_id": "", "code": "", "name": "", "floors": ""},
    search=("code", "name"),
    deletable=True,
)
UNITS = Table(
    name="units",
    what="unit",
    row=Unit,
    fields="""u.id, u.site_id, u.building_id, b.code AS building_code, b.name AS building_name, u.number,
              u.floor, u.area_m2::float8 AS area_m2""",
    source="units u JOIN buildings b ON b.id = u.building_id",
    columns={"site_id": "", "building_id": "", "number": "", "floor": "", "area_m2": "::numeric"},
    order="b.site_id, b.code, u.floor, u.number",
    key="u.id",
    site_key="u.site_id",
    deletable=True,
)
RESIDENTS = Table(
    name="residents",
    what="resident",
    row=Resident,
    fields="id, site_id, unit_id, name, phone, relation, vulnerable",
    columns={
        "site_id": "",
        "unit_id": "",
        "name": "",
        "phone": "",
        "relation": "",
        "vulnerable": "",
        "vulnerable_need": "",
    },
    # owners first, then tenants, then the family
    order="CASE relation WHEN 'owner' THEN 0 WHEN 'tenant' THEN 1 ELSE 2 END, created_at, id",
    deletable=True,
)
ASSETS = Table(
    name="assets",
    what="asset",
    row=Asset,
    fields="id, site_id, building_id, code, name, kind, location, parameters, maintenance_days, installed_on",
    columns={
        "site_id": "",
        "building_id": "::uuid",
        "code": "",
        "name": "",
        "kind": "",
        "location": "",
        "parameters": "::jsonb",
        "maintenance_days": "::int",
        "installed_on": "::date",
    },
    search=("code", "name", "location"),
    deletable=True,
)
# devices are deactivated, never deleted: their history stays
DEVICES = Table(
    name="devices",
    what="device",
    row=Device,
    fields="id, site_id, asset_id, kind, name, active",
    columns={"id": "", "site_id": "", "asset_id": "::uuid", "kind": "", "name": "", "active": ""},
    search=("id", "name"),
    order="site_id, id",
)
