"""The registry API: lists, filters and paging, admin writes, role and site boundaries, intake lookup."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
from litestar.testing import AsyncTestClient

from tests.conftest import LoginAs

Idem = Callable[[], dict[str, str]]


async def _admin(login_as: LoginAs, idem: Idem) -> dict[str, str]:
    return {**await login_as("admin"), **idem()}


async def test_units_list_filters_and_pages(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("agent")
    r = await client.get("/api/v1/units", params={"site": "demo", "limit": 200}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 120
    assert len(body["items"]) == 120
    assert (body["limit"], body["offset"]) == (200, 0)

    r = await client.get(
        "/api/v1/units", params={"building": "B", "limit": 10, "offset": 35}, headers=headers
    )
    body = r.json()
    assert body["total"] == 40
    assert [u["number"] for u in body["items"]] == ["904", "1001", "1002", "1003", "1004"]
    assert {u["buildingCode"] for u in body["items"]} == {"B"}

    r = await client.get("/api/v1/units", params={"building": "C", "floor": 3}, headers=headers)
    assert [u["number"] for u in r.json()["items"]] == ["301", "302", "303", "304"]

    r = await client.get("/api/v1/units", headers=headers)
    assert r.json()["limit"] == 50
    assert len(r.json()["items"]) == 50


async def test_unit_search_finds_a_resident_by_phone(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("agent")
    # owners are numbered A101=0001 ... so 0041 is the first home of building B
    r = await client.get("/api/v1/units", params={"q": "13900000041"}, headers=headers)
    items = r.json()["items"]
    assert [(u["buildingCode"], u["number"]) for u in items] == [("B", "101")]


async def test_assets_and_devices_filter_by_kind(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("tech2")
    r = await client.get("/api/v1/assets", params={"kind": "elevator"}, headers=headers)
    assert r.status_code == 200
    elevators = r.json()["items"]
    assert r.json()["total"] == 6
    assert all(a["maintenanceDays"] == 15 and a["parameters"]["loadKg"] == 1000 for a in elevators)

    pump = (await client.get("/api/v1/assets", params={"kind": "pump", "q": "1号"}, headers=headers)).json()[
        "items"
    ]
    assert [a["code"] for a in pump] == ["PUMP-1"]
    r = await client.get("/api/v1/devices", params={"asset": pump[0]["id"]}, headers=headers)
    assert sorted(d["id"] for d in r.json()["items"]) == ["leak-1", "pres-1", "pump-1"]

    r = await client.get("/api/v1/devices", params={"kind": "power"}, headers=headers)
    assert sorted(d["id"] for d in r.json()["items"]) == ["mains-1", "mains-2"]
    r = await client.get("/api/v1/devices/gen-1", headers=headers)
    assert r.status_code == 200
    assert r.json()["kind"] == "generator"


async def test_unit_lookup_by_building_and_number(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("agent")
    r = await client.get(
        "/api/v1/units/lookup", params={"site": "demo", "building": "A", "number": "101"}, headers=headers
    )
    assert r.status_code == 200, r.text
    (unit,) = r.json()["items"]
    assert (unit["buildingCode"], unit["number"], unit["floor"]) == ("A", "101", 1)
    (owner,) = unit["residents"]
    assert owner["relation"] == "owner"
    assert owner["phone"] == "13900000001"

    # the building's Chinese name works as well as its code
    r = await client.get(
        "/api/v1/units/lookup", params={"site": "demo", "building": "3栋", "number": "1004"}, headers=headers
    )
    assert r.json()["items"][0]["residents"][0]["phone"] == "13900000120"

    r = await client.get(
        "/api/v1/units/lookup", params={"site": "demo", "building": "A", "number": "9999"}, headers=headers
    )
    assert r.status_code == 200
    assert r.json()["items"] == []


async def test_unit_lookup_by_phone_accepts_how_callers_give_it(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    headers = await login_as("agent")
    for spelling in ("13900000042", "+86 139-0000-0042", "86 13900000042"):
        r = await client.get(
            "/api/v1/units/lookup", params={"site": "demo", "phone": spelling}, headers=headers
        )
        assert r.status_code == 200, r.text
        assert [(u["buildingCode"], u["number"]) for u in r.json()["items"]] == [("B", "102")], spelling


async def test_unit_lookup_needs_building_and_number_or_phone(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    headers = await login_as("agent")
    r = await client.get("/api/v1/units/lookup", params={"site": "demo", "building": "A"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "number"


async def test_unit_detail_and_residents(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("tech1")
    unit = (await client.get("/api/v1/units", params={"q": "A-304"}, headers=headers)).json()["items"][0]
    r = await client.get(f"/api/v1/units/{unit['id']}", headers=headers)
    assert r.status_code == 200
    assert (r.json()["buildingCode"], r.json()["number"]) == ("A", "304")
    page = (await client.get(f"/api/v1/units/{unit['id']}/residents", headers=headers)).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    residents = page["items"]
    assert len(residents) == 1
    assert residents[0]["unitId"] == unit["id"]


async def test_admin_creates_and_updates_registry_entries(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    r = await client.post(
        "/api/v1/buildings",
        json={"siteId": "demo", "code": "D", "name": "4栋", "floors": 6},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 201, r.text
    building = r.json()
    r = await client.post(
        "/api/v1/units",
        json={"buildingId": building["id"], "number": "601", "floor": 6, "areaM2": 96.5},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 201, r.text
    unit = r.json()
    assert (unit["buildingCode"], unit["areaM2"], unit["residents"]) == ("D", 96.5, [])

    r = await client.post(
        f"/api/v1/units/{unit['id']}/residents",
        json={"name": "钱奶奶", "phone": "13700001111", "relation": "owner", "vulnerable": True},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"/api/v1/units/{unit['id']}", json={"areaM2": 101.25}, headers=await _admin(login_as, idem)
    )
    assert r.status_code == 200, r.text
    assert r.json()["areaM2"] == 101.25
    assert r.json()["floor"] == 6
    assert r.json()["residents"][0]["vulnerable"] is True

    found = await client.get(
        "/api/v1/units/lookup",
        params={"site": "demo", "phone": "13700001111"},
        headers=await login_as("agent"),
    )
    assert [u["id"] for u in found.json()["items"]] == [unit["id"]]

    # a unit somebody lives in cannot be deleted; a building with units neither
    r = await client.delete(f"/api/v1/units/{unit['id']}", headers=await _admin(login_as, idem))
    assert r.status_code == 409
    r = await client.delete(f"/api/v1/buildings/{building['id']}", headers=await _admin(login_as, idem))
    assert r.status_code == 409


async def test_duplicate_codes_are_conflicts(client: AsyncTestClient, login_as: LoginAs, idem: Idem) -> None:
    r = await client.post(
        "/api/v1/buildings",
        json={"siteId": "demo", "code": "A", "name": "again"},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 409
    assert r.json()["code"] == "duplicate"
    r = await client.post(
        "/api/v1/devices",
        json={"id": "elev-a1", "siteId": "demo", "kind": "elevator", "name": "dup"},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 409


async def test_admin_asset_and_device_lifecycle(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    installed_on = "2020-05-01"  # fixed-date: stored and echoed back; no rule reads it against the clock
    r = await client.post(
        "/api/v1/assets",
        json={
            "siteId": "demo",
            "code": "FIRE-1",
            "name": "消防泵",
            "kind": "fire_system",
            "location": "1号泵房",
            "parameters": {"powerKw": 30},
            "maintenanceDays": 30,
            "installedOn": installed_on,
        },
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 201, r.text
    asset = r.json()
    assert (asset["installedOn"], asset["parameters"]) == (installed_on, {"powerKw": 30})
    r = await client.post(
        "/api/v1/devices",
        json={
            "id": "fire-1",
            "siteId": "demo",
            "kind": "pressure",
            "name": "消防管网压力",
            "assetId": asset["id"],
        },
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        f"/api/v1/assets/{asset['id']}",
        json={"parameters": {"powerKw": 37}},
        headers=await _admin(login_as, idem),
    )
    assert r.json()["parameters"] == {"powerKw": 37}
    r = await client.delete(f"/api/v1/assets/{asset['id']}", headers=await _admin(login_as, idem))
    assert r.status_code == 409  # the device still refers to it

    r = await client.delete("/api/v1/devices/fire-1", headers=await _admin(login_as, idem))
    assert r.status_code == 200
    assert r.json()["active"] is False
    r = await client.get(
        "/api/v1/devices", params={"active": "true", "q": "fire"}, headers=await login_as("tech1")
    )
    assert r.json()["items"] == []

    r = await client.post(
        "/api/v1/assets",
        json={"siteId": "demo", "code": "X-1", "name": "x", "kind": "spaceship"},
        headers=await _admin(login_as, idem),
    )
    assert r.status_code == 422
    assert r.json()["field"] == "kind"


async def test_a_repeated_idempotency_key_creates_once(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    headers = await _admin(login_as, idem)
    body = {"siteId": "demo", "code": "E", "name": "5栋"}
    first = await client.post("/api/v1/buildings", json=body, headers=headers)
    again = await client.post("/api/v1/buildings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"


async def test_non_admins_cannot_write(client: AsyncTestClient, login_as: LoginAs, idem: Idem) -> None:
    for username in ("manager", "supervisor", "agent", "tech1", "guard1"):
        headers = {**await login_as(username), **idem()}
        r = await client.post(
            "/api/v1/buildings", json={"siteId": "demo", "code": "Z", "name": "z"}, headers=headers
        )
        assert r.status_code == 403, username
        assert r.json()["code"] == "role_forbidden"
        r = await client.patch("/api/v1/devices/pump-1", json={"name": "renamed"}, headers=headers)
        assert r.status_code == 403, username
        r = await client.post(
            "/api/v1/users",
            json={
                "username": "x1",
                "displayName": "x",
                "password": "long-enough-pw",
                "role": "agent",
                "sites": ["demo"],
            },
            headers=headers,
        )
        assert r.status_code == 403, username


async def test_users_list_for_dispatch_never_shows_password_hashes(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    headers = await login_as("supervisor")
    r = await client.get(
        "/api/v1/users",
        params={"role": "technician", "onDuty": "true", "skill": "electrical"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert sorted(u["username"] for u in r.json()["items"]) == ["tech1", "tech3"]
    assert all(u["onDuty"] and "electrical" in u["skills"] for u in r.json()["items"])
    everyone = (await client.get("/api/v1/users", params={"limit": 200}, headers=headers)).text
    assert "passwordHash" not in everyone and "argon2" not in everyone
    assert (await client.get("/api/v1/users", headers=await login_as("tech1"))).status_code == 403


async def test_duty_is_set_by_oneself_or_a_supervisor(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    me = (await client.get("/api/v1/me", headers=await login_as("tech2"))).json()
    r = await client.post(
        f"/api/v1/users/{me['id']}/duty",
        json={"onDuty": False},
        headers={**await login_as("tech2"), **idem()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["onDuty"] is False
    tech3 = (
        await client.get("/api/v1/users", params={"q": "tech3"}, headers=await login_as("supervisor"))
    ).json()
    tech3_id = tech3["items"][0]["id"]
    r = await client.post(
        f"/api/v1/users/{tech3_id}/duty",
        json={"onDuty": False},
        headers={**await login_as("tech2"), **idem()},
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/users/{tech3_id}/duty",
        json={"onDuty": False},
        headers={**await login_as("supervisor"), **idem()},
    )
    assert r.status_code == 200
    on_duty = await client.get(
        "/api/v1/users", params={"role": "technician", "onDuty": "true"}, headers=await login_as("supervisor")
    )
    assert [u["username"] for u in on_duty.json()["items"]] == ["tech1"]


async def test_staff_of_one_site_see_nothing_of_another(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem, db: asyncpg.Connection
) -> None:
    admin = await login_as("admin")
    site = (
        await client.post(
            "/api/v1/sites",
            json={"code": "north", "name": "北苑", "timezone": "Asia/Shanghai"},
            headers={**admin, **idem()},
        )
    ).json()
    building = (
        await client.post(
            "/api/v1/buildings",
            json={"siteId": "north", "code": "N1", "name": "北1栋"},
            headers={**admin, **idem()},
        )
    ).json()
    unit = (
        await client.post(
            "/api/v1/units", json={"buildingId": building["id"], "number": "101"}, headers={**admin, **idem()}
        )
    ).json()
    resident = (
        await client.post(
            f"/api/v1/units/{unit['id']}/residents",
            json={"name": "北苑业主", "phone": "13600000001"},
            headers={**admin, **idem()},
        )
    ).json()
    asset = (
        await client.post(
            "/api/v1/assets",
            json={"siteId": site["id"], "code": "N-ELEV", "name": "北梯", "kind": "elevator"},
            headers={**admin, **idem()},
        )
    ).json()
    await client.post(
        "/api/v1/devices",
        json={
            "id": "north-elev",
            "siteId": "north",
            "kind": "elevator",
            "name": "北梯",
            "assetId": asset["id"],
        },
        headers={**admin, **idem()},
    )
    north_user = (
        await client.post(
            "/api/v1/users",
            json={"username": "northtech", "displayName": "北师傅", "password": "north-pass-123",
                  "role": "technician", "sites": ["north"], "skills": ["elevator"], "onDuty": True},
            headers={**admin, **idem()},
        )
    ).json()  # fmt: skip
    assert await db.fetchval("SELECT count(*) FROM units WHERE site_id = $1", site["id"]) == 1

    for username in ("manager", "supervisor", "agent", "tech1", "guard1"):
        headers = await login_as(username)
        for path in ("sites", "buildings", "units", "assets", "devices"):
            listed = (await client.get(f"/api/v1/{path}", params={"limit": 200}, headers=headers)).json()[
                "items"
            ]
            assert all(item.get("siteId", item["id"]) != site["id"] for item in listed), (username, path)
            assert site["id"] not in str(listed)
        for path in (
            f"sites/{site['id']}",
            f"buildings/{building['id']}",
            f"units/{unit['id']}",
            f"units/{unit['id']}/residents",
            f"residents/{resident['id']}",
            f"assets/{asset['id']}",
            "devices/north-elev",
        ):
            r = await client.get(f"/api/v1/{path}", headers=headers)
            assert r.status_code == 404, (username, path, r.text)
        # filtering by the other site is the same as naming a site that does not exist
        r = await client.get("/api/v1/units", params={"site": "north"}, headers=headers)
        assert r.status_code == 404
        r = await client.get("/api/v1/units/lookup", params={"phone": "13600000001"}, headers=headers)
        if username in ("tech1", "guard1"):  # finding a home by phone is for the desk (docs/PRIVACY.md)
            assert r.status_code == 403, r.text
        else:
            assert r.json()["items"] == []

    desk = await login_as("supervisor")
    assert (await client.get(f"/api/v1/users/{north_user['id']}", headers=desk)).status_code == 404
    listed = (await client.get("/api/v1/users", params={"limit": 200}, headers=desk)).json()["items"]
    assert "northtech" not in {u["username"] for u in listed}

    # and the other way round: the north technician sees only north
    north = await login_as("northtech", "north-pass-123")
    sites = (await client.get("/api/v1/sites", headers=north)).json()["items"]
    assert [s["code"] for s in sites] == ["north"]
    assert (await client.get("/api/v1/units", headers=north)).json()["total"] == 1
    assert (await client.get("/api/v1/devices/elev-a1", headers=north)).status_code == 404
