"""The demo estate 示范花园: one site, three buildings, 120 homes with owners, staff, facilities and devices.

Running seed_demo() again changes nothing: every insert skips rows that already exist. The estate:
- site `demo` (Asia/Shanghai), buildings A/B/C (1栋/2栋/3栋), units "101".."1004" (floors 1–10 × 4 per floor);
- one owner per unit; owner phones are "1390000" + a 4-digit ordinal counted A101=0001 … C1004=0120;
- users admin, manager, supervisor, agent, tech1–3, guard1–2, all with the demo password;
- six elevators, two pump rooms, two power rooms and a generator, each with the devices that watch them.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from backend.db.queries.registry import seeding as q
from backend.services.passwords import DEMO_PASSWORD, check_new_password, hash_password
from backend.services.rounds import seed_demo_rounds

SITE_CODE = "demo"
SITE_NAME = "示范花园"
SITE_TIMEZONE = "Asia/Shanghai"
FLOORS = 10
UNITS_PER_FLOOR = 4
BUILDINGS = (("A", "1栋"), ("B", "2栋"), ("C", "3栋"))
OWNER_PHONE_PREFIX = "1390000"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN_NAMES = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
)
# Every 17th owner is flagged vulnerable (elderly living alone and the like): checked on first in an outage.
_VULNERABLE_EVERY = 17


@dataclass(frozen=True)
class DemoUser:
    """A demo staff account."""

    username: str
    display_name: str
    role: str
    skills: tuple[str, ...] = ()
    on_duty: bool = False
    phone: str | None = None


DEMO_USERS = (
    DemoUser("admin", "系统管理员", "admin"),
    DemoUser("manager", "王经理", "manager", phone="13800000001"),
    DemoUser("supervisor", "李主管", "supervisor", phone="13800000002"),
    DemoUser("agent", "张客服", "agent", phone="13800000003"),
    # a second agent: a complaint's follow-up call is made by someone other than its handler
    DemoUser("agent2", "林客服", "agent", phone="13800000004"),
    DemoUser("tech1", "刘师傅", "technician", ("water", "electrical"), True, "13800000011"),
    DemoUser("tech2", "陈师傅", "technician", ("elevator", "doors_windows"), True, "13800000012"),
    DemoUser("tech3", "赵师傅", "technician", ("electrical", "structure", "gas"), True, "13800000013"),
    DemoUser("guard1", "孙保安", "guard", on_duty=True, phone="13800000021"),
    DemoUser("guard2", "周保安", "guard", on_duty=True, phone="13800000022"),
)

_ELEVATOR_BRANDS = ("通力", "奥的斯", "三菱", "日立", "迅达", "蒂森克虏伯")


@dataclass(frozen=True)
class DemoAsset:
    """A facility of the demo estate and the devices that watch it."""

    code: str
    name: str
    kind: str
    building: str | None
    location: str
    parameters: dict
    maintenance_days: int | None
    devices: tuple[tuple[str, str, str], ...]  # (device id, device kind, device name)


def _demo_assets() -> tuple[DemoAsset, ...]:
    elevators = tuple(
        DemoAsset(
            code=f"ELEV-{b}{n}",
            name=f"{label}{n}号电梯",
            kind="elevator",
            building=b,
            location=f"{label}{n}号梯井",
            parameters={"brand": _ELEVATOR_BRANDS[i * 2 + n - 1], "loadKg": 1000, "floors": FLOORS},
            maintenance_days=15,
            devices=((f"elev-{b.lower()}{n}", "elevator", f"{label}{n}号电梯监测"),),
        )
        for i, (b, label) in enumerate(BUILDINGS)
        for n in (1, 2)
    )
    water = tuple(
        asset
        for n in (1, 2)
        for asset in (
            DemoAsset(
                code=f"PUMP-{n}",
                name=f"{n}号生活水泵",
                kind="pump",
                building=None,
                location=f"{n}号泵房",
                parameters={"powerKw": 15, "ratedPressureKpa": 450},
                maintenance_days=30,
                devices=(
                    (f"pump-{n}", "pump", f"{n}号泵房水泵"),
                    (f"pres-{n}", "pressure", f"{n}号泵房出水压力"),
                    (f"leak-{n}", "leak", f"{n}号泵房漏水探测"),
                ),
            ),
            DemoAsset(
                code=f"TANK-{n}",
                name=f"{n}号生活水箱",
                kind="water_tank",
                building=None,
                location=f"{n}号泵房",
                parameters={"capacityM3": 60},
                maintenance_days=180,
                devices=((f"tank-{n}", "tank", f"{n}号水箱液位"),),
            ),
        )
    )
    power = tuple(
        DemoAsset(
            code=f"SWG-{n}",
            name=f"{n}号低压配电柜",
            kind="switchgear",
            building=None,
            location=f"{n}号配电房",
            parameters={"voltageV": 400},
            maintenance_days=90,
            devices=((f"mains-{n}", "power", f"{n}号配电房市电监测"),),
        )
        for n in (1, 2)
    )
    generator = DemoAsset(
        code="GEN-1",
        name="备用柴油发电机",
        kind="generator",
        building=None,
        location="1号配电房",
        parameters={"powerKw": 300},
        maintenance_days=30,
        devices=(("gen-1", "generator", "发电机监测"),),
    )
    return (*elevators, *water, *power, generator)


DEMO_ASSETS = _demo_assets()


def owner_phone(ordinal: int) -> str:
    """The demo owner's phone for the unit counted `ordinal` (1-based, A101 first, C1004 last)."""
    return f"{OWNER_PHONE_PREFIX}{ordinal:04d}"


def _owner_name(ordinal: int) -> str:
    surname = _SURNAMES[ordinal % len(_SURNAMES)]
    given = _GIVEN_NAMES[(ordinal * 7) % len(_GIVEN_NAMES)]
    return surname + given


def _unit_numbers() -> list[tuple[str, int]]:
    return [
        (f"{floor}{position:02d}", floor)
        for floor in range(1, FLOORS + 1)
        for position in range(1, UNITS_PER_FLOOR + 1)
    ]


async def seed_demo(conn: asyncpg.Connection) -> None:
    """Create the demo estate; rows that already exist are left as they are."""
    site_id = await q.ensure_site(conn, code=SITE_CODE, name=SITE_NAME, timezone=SITE_TIMEZONE)
    building_ids = await q.ensure_buildings(conn, site_id, [(code, name, FLOORS) for code, name in BUILDINGS])

    unit_rows: list[tuple] = []
    owner_rows: list[tuple] = []
    ordinal = 0
    for code, _name in BUILDINGS:
        for number, floor in _unit_numbers():
            ordinal += 1
            unit_rows.append((building_ids[code], number, floor, 80 + (ordinal % 5) * 10))
            owner_rows.append(
                (
                    building_ids[code],
                    number,
                    _owner_name(ordinal),
                    owner_phone(ordinal),
                    ordinal % _VULNERABLE_EVERY == 0,
                )
            )
    await q.ensure_units(conn, site_id, unit_rows)
    await q.ensure_owners(conn, site_id, owner_rows)

    missing = await q.missing_usernames(conn, [u.username for u in DEMO_USERS])
    if missing:
        check_new_password(DEMO_PASSWORD, demo=True)
        # argon2 is deliberately slow: hash once and share it between the demo accounts.
        password_hash = hash_password(DEMO_PASSWORD)
        await q.ensure_users(
            conn,
            [
                (u.username, u.display_name, password_hash, u.role, u.phone, list(u.skills), u.on_duty)
                for u in DEMO_USERS
                if u.username in missing
            ],
        )
    await q.ensure_memberships(conn, site_id, [u.username for u in DEMO_USERS])

    asset_ids = await q.ensure_assets(
        conn,
        site_id,
        [
            (
                a.code,
                a.name,
                a.kind,
                building_ids[a.building] if a.building else None,
                a.location,
                a.parameters,
                a.maintenance_days,
            )
            for a in DEMO_ASSETS
        ],
    )
    await q.ensure_devices(
        conn,
        site_id,
        [
            (device_id, asset_ids[a.code], kind, name)
            for a in DEMO_ASSETS
            for device_id, kind, name in a.devices
        ],
    )
    await seed_demo_rounds(conn, site_id, SITE_TIMEZONE, asset_ids)
