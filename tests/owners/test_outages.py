"""Planned water and power cuts: each resident of the building told once, and once more when restored; the
guard's list of vulnerable residents to visit during a water alarm or a planned cut, markable visited once,
with no phone numbers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.owners.conftest import TEMPLATES, Owners
from tests.owners.test_owner_updates import _event


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _building_phones(db: asyncpg.Connection, building_id) -> list[str]:
    rows = await db.fetch(
        """SELECT r.phone FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 AND r.phone IS NOT NULL""",
        building_id,
    )
    return sorted(r["phone"] for r in rows)


async def test_a_planned_cut_tells_each_resident_once_and_its_end_once(owners: Owners, login_as) -> None:
    client, db, day_clock, fake_sms = owners.client, owners.db, owners.clock, owners.sms
    building = await db.fetchrow("SELECT id, name FROM buildings ORDER BY code LIMIT 1")
    phones = await _building_phones(db, building["id"])
    assert len(phones) > 10
    manager = await login_as("manager")
    starts = day_clock.now() + timedelta(days=1)
    body = {
        "buildingId": str(building["id"]),
        "kind": "water",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=4)).isoformat(),
        "note": "二次供水水箱清洗",
    }
    headers = {**manager, **_key()}
    for _ in range(2):  # a retried request announces it once
        r = await client.post("/api/v1/planned-outages", json=body, headers=headers)
        assert r.status_code == 201, r.text
    outage = r.json()
    listed = (await client.get("/api/v1/planned-outages", headers=manager)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == outage["id"]

    outbox = owners.outbox(batch_size=500)
    await outbox.run_once(db)
    notices = [s for s in fake_sms.accepted if s.template == TEMPLATES["planned_outage"]]
    assert sorted(s.phone.removeprefix("+86") for s in notices) == phones
    assert notices[0].params[1] == building["name"] and notices[0].params[2] == "停水"
    assert "至" in notices[0].params[3]
    logged = await db.fetchval(
        "SELECT count(*) FROM owner_messages WHERE planned_outage_id = $1::uuid", outage["id"]
    )
    assert logged == len(phones)

    for attempt in range(2):
        r = await client.post(
            f"/api/v1/planned-outages/{outage['id']}/restore", headers={**manager, **_key()}
        )
        assert r.status_code == (200 if attempt == 0 else 409), r.text
    assert r.json()["code"] == "planned_outage_restored"
    await outbox.run_once(db)
    restored = [s for s in fake_sms.accepted if s.template == TEMPLATES["building_restored"]]
    assert sorted(s.phone.removeprefix("+86") for s in restored) == phones

    # a guard does not announce cuts; a cut that ends before it starts is refused naming the field
    guard = await login_as("guard1")
    assert (
        await client.post("/api/v1/planned-outages", json=body, headers={**guard, **_key()})
    ).status_code == 403
    wrong = {**body, "endsAt": (starts - timedelta(hours=1)).isoformat()}
    r = await client.post("/api/v1/planned-outages", json=wrong, headers={**manager, **_key()})
    assert r.status_code == 422 and r.json()["field"] == "endsAt"


async def test_the_guard_visits_the_vulnerable_of_a_building_without_water(
    client: AsyncTestClient, db: asyncpg.Connection, day_clock: ManualClock, login_as
) -> None:
    building = await db.fetchrow("SELECT id, name FROM buildings ORDER BY code LIMIT 1")
    other = await db.fetchrow("SELECT id FROM buildings ORDER BY code OFFSET 1 LIMIT 1")
    await db.execute(
        "UPDATE assets SET building_id = $1 WHERE id = (SELECT asset_id FROM devices WHERE id = 'pump-1')",
        building["id"],
    )
    needing = await db.fetch(
        """SELECT r.id FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 ORDER BY u.number LIMIT 2""",
        building["id"],
    )
    admin = await login_as("admin")
    for n in needing:  # the registry records who is vulnerable and what they need in a cut
        r = await client.patch(
            f"/api/v1/residents/{n['id']}",
            json={"vulnerable": True, "vulnerableNeed": "独居老人，行动不便"},
            headers={**admin, **_key()},
        )
        assert r.status_code == 200, r.text
    vulnerable = await db.fetch(
        """SELECT r.id, r.name, r.phone FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 AND r.vulnerable""",
        building["id"],
    )
    elsewhere = await db.fetchval(
        """UPDATE residents SET vulnerable = true WHERE id = (SELECT r.id FROM residents r
               JOIN units u ON u.id = r.unit_id WHERE u.building_id = $1 LIMIT 1) RETURNING id""",
        other["id"],
    )
    guard = await login_as("guard1")
    assert (await client.get("/api/v1/outage-visits", headers=guard)).json()["items"] == []

    await _event(db, "pump-1", "PUMP_FAILURE", "raised", day_clock)
    page = (await client.get("/api/v1/outage-visits", headers=guard)).json()
    [outage] = page["items"]
    assert (outage["source"], outage["what"], outage["building"]) == (
        "alarm",
        "PUMP_FAILURE",
        building["name"],
    )
    listed = {r["residentId"]: r for r in outage["residents"]}
    assert set(listed) == {str(v["id"]) for v in vulnerable}
    for v in vulnerable:
        shown = listed[str(v["id"])]
        assert shown["name"] == v["name"][0] + "*" * max(len(v["name"]) - 1, 1)
        assert shown["visitedAt"] is None and shown["unit"]
    assert {listed[str(n["id"])]["need"] for n in needing} == {"独居老人，行动不便"}
    text = str(page)
    assert all(v["phone"] not in text for v in vulnerable if v["phone"])

    mark = {"source": "alarm", "outageId": outage["id"], "residentId": str(vulnerable[0]["id"])}
    for _ in range(2):  # marked twice: one visit, the first time kept
        r = await client.post("/api/v1/outage-visits", json=mark, headers={**guard, **_key()})
        assert r.status_code == 200, r.text
    [after] = r.json()["items"]
    visited = {x["residentId"]: x for x in after["residents"]}[str(vulnerable[0]["id"])]
    assert visited["visitedAt"] and visited["visitedBy"] == "孙保安"
    assert await db.fetchval("SELECT count(*) FROM outage_visits") == 1
    # a resident of another building is not this outage's to visit; a technician keeps no such list
    r = await client.post(
        "/api/v1/outage-visits", json={**mark, "residentId": str(elsewhere)}, headers={**guard, **_key()}
    )
    assert r.status_code == 422 and r.json()["field"] == "residentId"
    tech = await login_as("tech1")
    assert (await client.get("/api/v1/outage-visits", headers=tech)).status_code == 403

    # the water is back: the list empties
    await _event(db, "pump-1", "PUMP_FAILURE", "cleared", day_clock)
    assert (await client.get("/api/v1/outage-visits", headers=guard)).json()["items"] == []

    # a planned power cut appears an hour before it starts, not earlier
    manager = await login_as("manager")
    starts = day_clock.now() + timedelta(hours=3)
    r = await client.post(
        "/api/v1/planned-outages",
        json={
            "buildingId": str(building["id"]),
            "kind": "power",
            "startsAt": starts.isoformat(),
            "endsAt": (starts + timedelta(hours=2)).isoformat(),
        },
        headers={**manager, **_key()},
    )
    assert r.status_code == 201, r.text
    assert (await client.get("/api/v1/outage-visits", headers=guard)).json()["items"] == []
    day_clock.advance(timedelta(hours=2, minutes=30))
    [planned] = (await client.get("/api/v1/outage-visits", headers=guard)).json()["items"]
    assert (planned["source"], planned["what"]) == ("planned", "power")
    assert {r["residentId"] for r in planned["residents"]} == {str(v["id"]) for v in vulnerable}
