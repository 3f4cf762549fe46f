"""The demo estate: what it holds, that seeding twice changes nothing, and that every demo user can log in."""

from __future__ import annotations

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from backend.db.pool import connect
from backend.services.seed import DEMO_USERS, seed_demo

COUNTS_SQL = {
    "sites": "SELECT count(*) FROM sites",
    "buildings": "SELECT count(*) FROM buildings",
    "units": "SELECT count(*) FROM units",
    "owners": "SELECT count(*) FROM residents WHERE relation = 'owner'",
    "residents": "SELECT count(*) FROM residents",
    "users": "SELECT count(*) FROM users",
    "memberships": "SELECT count(*) FROM user_sites",
    "assets": "SELECT count(*) FROM assets",
    "elevators": "SELECT count(*) FROM assets WHERE kind = 'elevator'",
    "devices": "SELECT count(*) FROM devices",
}

EXPECTED = {
    "sites": 1,
    "buildings": 3,
    "units": 120,
    "owners": 120,
    "residents": 120,
    "users": 10,
    "memberships": 10,
    "assets": 13,
    "elevators": 6,
    "devices": 17,
}


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the registry tables."""
    return {name: await conn.fetchval(sql) for name, sql in COUNTS_SQL.items()}


async def test_demo_estate_has_the_documented_shape(db: asyncpg.Connection) -> None:
    assert await counts(db) == EXPECTED
    site = await db.fetchrow("SELECT code, name, timezone FROM sites")
    assert tuple(site) == ("demo", "示范花园", "Asia/Shanghai")
    buildings = await db.fetch("SELECT code, name, floors FROM buildings ORDER BY code")
    assert [tuple(b) for b in buildings] == [("A", "1栋", 10), ("B", "2栋", 10), ("C", "3栋", 10)]
    numbers = await db.fetch(
        "SELECT u.number FROM units u JOIN buildings b ON b.id = u.building_id"
        " WHERE b.code = 'A' ORDER BY u.floor, u.number"
    )
    assert [r["number"] for r in numbers][:5] == ["101", "102", "103", "104", "201"]
    assert numbers[-1]["number"] == "1004"
    assert await db.fetchval("SELECT count(*) FROM residents WHERE vulnerable") > 0
    assert await db.fetchval("SELECT count(*) FROM residents WHERE phone !~ '^1390000[0-9]{4}$'") == 0
    assert await db.fetchval("SELECT count(DISTINCT phone) FROM residents") == 120


async def test_demo_devices_are_linked_to_their_assets(db: asyncpg.Connection) -> None:
    rows = await db.fetch(
        "SELECT d.id, d.kind, a.kind AS asset_kind FROM devices d JOIN assets a ON a.id = d.asset_id"
    )
    by_id = {r["id"]: (r["kind"], r["asset_kind"]) for r in rows}
    assert set(by_id) == {
        "elev-a1", "elev-a2", "elev-b1", "elev-b2", "elev-c1", "elev-c2",
        "pump-1", "pres-1", "tank-1", "leak-1", "pump-2", "pres-2", "tank-2", "leak-2",
        "mains-1", "mains-2", "gen-1",
    }  # fmt: skip
    assert by_id["elev-b2"] == ("elevator", "elevator")
    assert by_id["pres-1"] == ("pressure", "pump")
    assert by_id["tank-2"] == ("tank", "water_tank")
    assert by_id["mains-1"] == ("power", "switchgear")
    assert by_id["gen-1"] == ("generator", "generator")
    elevator = await db.fetchrow("SELECT parameters, maintenance_days FROM assets WHERE code = 'ELEV-A1'")
    assert elevator["maintenance_days"] == 15
    assert elevator["parameters"]["loadKg"] == 1000
    assert elevator["parameters"]["floors"] == 10


async def test_demo_technicians_have_their_skills_and_are_on_duty(db: asyncpg.Connection) -> None:
    rows = await db.fetch("SELECT username, role, skills, on_duty FROM users ORDER BY username")
    users = {r["username"]: r for r in rows}
    assert set(users) == {u.username for u in DEMO_USERS}
    assert users["tech1"]["skills"] == ["water", "electrical"]
    assert users["tech2"]["skills"] == ["elevator", "doors_windows"]
    assert users["tech3"]["skills"] == ["electrical", "structure", "gas"]
    assert all(users[t]["on_duty"] for t in ("tech1", "tech2", "tech3", "guard1", "guard2"))
    assert users["guard1"]["role"] == "guard"


async def test_seeding_twice_changes_nothing(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        before = await counts(conn)
        hashes = await conn.fetch("SELECT username, password_hash FROM users ORDER BY username")
        async with conn.transaction():
            await seed_demo(conn)
        assert await counts(conn) == before
        # every row already exists, so no password is hashed again
        assert await conn.fetch("SELECT username, password_hash FROM users ORDER BY username") == hashes
    finally:
        await conn.close()


async def test_seeding_an_empty_database_creates_the_whole_estate(empty_db_url: str) -> None:
    conn = await connect(empty_db_url)
    try:
        async with conn.transaction():
            await seed_demo(conn)
        assert await counts(conn) == EXPECTED
        # one argon2 hash serves every demo login
        assert await conn.fetchval("SELECT count(DISTINCT password_hash) FROM users") == 1
    finally:
        await conn.close()


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
async def test_every_demo_user_can_log_in(client: AsyncTestClient, username: str) -> None:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == username
    assert len(me.json()["siteIds"]) == 1
