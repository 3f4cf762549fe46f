"""Finding the caller's home as they say it — "3栋1单元1004", 三栋一零零四, 3-1-1004 — with near misses
offered instead of nothing, and an in-home repair refused until its home is named."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import LoginAs

Idem = Callable[[], dict[str, str]]
# Demo owner phones count units from A101 = 0001: C-1004 is the last of 120.
C1004_OWNER_PHONE = "13900000120"


async def _lookup(client: AsyncTestClient, headers: dict[str, str], address: str) -> dict:
    r = await client.get("/api/v1/units/lookup", params={"site": "demo", "address": address}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    "address",
    ["3栋1单元1004", "3号楼1单元1004室", "三栋一单元一零零四", "3-1-1004", "3栋1004", "C座1004", "c-1004",
     "3 1004"],
)  # fmt: skip
async def test_the_home_as_people_say_it(client: AsyncTestClient, login_as: LoginAs, address: str) -> None:
    body = await _lookup(client, await login_as("agent"), address)
    assert [(u["buildingCode"], u["number"]) for u in body["items"]] == [("C", "1004")], address
    assert body["items"][0]["residents"][0]["phone"] == C1004_OWNER_PHONE
    assert body["near"] == []
    assert body["understood"]["room"] == "1004"


async def test_a_near_miss_offers_the_homes_it_could_be(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("agent")
    # building 3 has ten floors: 1204 is a slip for 1004 (one digit wrong), 104 or 204 (one too many)
    body = await _lookup(client, headers, "3栋1单元1204")
    assert body["items"] == []
    assert [(u["buildingCode"], u["number"], u["reason"]) for u in body["near"]] == [
        ("C", "1004", "typo"),
        ("C", "104", "typo"),
        ("C", "204", "typo"),
    ]
    # nobody's name comes with a home that was not asked for
    assert all("residents" not in u for u in body["near"])

    # no building 5: the same room in the buildings there are
    body = await _lookup(client, headers, "5栋1004")
    assert [(u["buildingCode"], u["reason"]) for u in body["near"]] == [
        ("A", "other_building"),
        ("B", "other_building"),
        ("C", "other_building"),
    ]


async def test_a_stairwell_numbered_home_is_found_by_its_stairwell(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    admin = {**await login_as("admin"), **idem()}
    building = next(
        b
        for b in (await client.get("/api/v1/buildings", params={"site": "demo"}, headers=admin)).json()[
            "items"
        ]
        if b["code"] == "C"
    )
    r = await client.post(
        "/api/v1/units", json={"buildingId": building["id"], "number": "2-1001", "floor": 10}, headers=admin
    )
    assert r.status_code == 201, r.text
    headers = await login_as("agent")
    body = await _lookup(client, headers, "3栋2单元1001")
    assert [u["number"] for u in body["items"]] == ["2-1001"]
    body = await _lookup(client, headers, "3栋1单元1001")
    assert [u["number"] for u in body["items"]] == ["1001"]


async def test_an_address_nobody_can_read_says_so(client: AsyncTestClient, login_as: LoginAs) -> None:
    r = await client.get(
        "/api/v1/units/lookup",
        params={"site": "demo", "address": "楼下那家"},
        headers=await login_as("agent"),
    )
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("address_unreadable", "address")


async def test_an_in_home_repair_is_not_saved_without_its_home(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    headers = {**await login_as("agent"), **idem()}
    job = {"site": "demo", "kind": "repair", "category": "water", "channel": "phone", "title": "厨房漏水"}
    r = await client.post("/api/v1/work-orders", json={**job, "inHome": True}, headers=headers)
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("unit_required", "unitId")

    r = await client.post(
        "/api/v1/work-orders",
        json={**job, "inHome": True, "building": "C", "unitNumber": "1004"},
        headers={**headers, **idem()},
    )
    assert r.status_code == 201, r.text
    # a public-area job needs no home
    r = await client.post(
        "/api/v1/work-orders",
        json={**job, "inHome": False, "location": "1号泵房"},
        headers={**headers, **idem()},
    )
    assert r.status_code == 201, r.text
