"""Residents' personal data over HTTP on the demo estate: what each role sees of a home, when an emergency
opens it to the guards, what a phone search needs, and the log of who was shown what (docs/PRIVACY.md).

Expected values come from the database rows and the rules as the docs state them, never from the code.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.conftest import LoginAs
from tests.integration.alarm_fixtures import clear_device_alarm, raise_device_alarm

OVERSIGHT = ("admin", "manager", "supervisor")


async def _home(db: asyncpg.Connection, building: str, *, vulnerable: bool | None = None) -> asyncpg.Record:
    """The first unit of a building (optionally one whose owner is flagged vulnerable), with its owner."""
    return await db.fetchrow(
        """SELECT u.id AS unit_id, r.id AS resident_id, r.name, r.phone, r.vulnerable
           FROM units u JOIN buildings b ON b.id = u.building_id JOIN residents r ON r.unit_id = u.id
           WHERE b.code = $1 AND ($2::boolean IS NULL OR r.vulnerable = $2)
           ORDER BY u.floor, u.number LIMIT 1""",
        building,
        vulnerable,
    )


async def _owner_as_seen_by(
    client: AsyncTestClient, headers: dict[str, str], unit_id: UUID
) -> dict[str, Any]:
    r = await client.get(f"/api/v1/units/{unit_id}", headers=headers)
    assert r.status_code == 200, r.text
    (owner,) = r.json()["residents"]
    return owner


def _masked_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"  # 138****5678, as the issue and docs/PRIVACY.md spell it


def assert_full(owner: dict[str, Any], row: asyncpg.Record, *, vulnerable_shown: bool) -> None:
    assert (owner["name"], owner["phone"], owner["masked"]) == (row["name"], row["phone"], False)
    assert owner["phoneMasked"] == _masked_phone(row["phone"])
    assert owner["vulnerable"] == (row["vulnerable"] if vulnerable_shown else None)


def assert_masked(owner: dict[str, Any], row: asyncpg.Record) -> None:
    assert owner["phone"] is None and owner["vulnerable"] is None and owner["masked"] is True
    assert owner["phoneMasked"] == _masked_phone(row["phone"])
    assert owner["name"] == row["name"][0] + "*" * (len(row["name"]) - 1)
    assert row["phone"] not in str(owner) and row["name"] not in str(owner)


async def _job(
    db: asyncpg.Connection, unit_id: UUID, *, kind: str = "repair", assignee: str | None = None
) -> UUID:
    site_id = await db.fetchval("SELECT site_id FROM units WHERE id = $1", unit_id)
    assignee_id = (
        await db.fetchval("SELECT id FROM users WHERE username = $1", assignee) if assignee else None
    )
    return await db.fetchval(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                    unit_id, assignee_id, in_home)
           VALUES ($1, 'PD-' || gen_random_uuid(), $2, $3, 1, 'water', 'phone', 'Burst pipe', $4, $5, true)
           RETURNING id""",
        site_id,
        kind,
        "assigned" if assignee else "new",
        unit_id,
        assignee_id,
    )


async def test_what_each_role_sees_of_a_vulnerable_owner_outside_an_emergency(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    row = await _home(db, "A", vulnerable=True)
    assert row["vulnerable"] is True
    for role in OVERSIGHT:
        assert_full(
            await _owner_as_seen_by(client, await login_as(role), row["unit_id"]), row, vulnerable_shown=True
        )
    # the call centre takes the calls and calls back: name and number, not who lives alone
    assert_full(
        await _owner_as_seen_by(client, await login_as("agent"), row["unit_id"]), row, vulnerable_shown=False
    )
    for user in ("tech1", "guard1"):
        assert_masked(await _owner_as_seen_by(client, await login_as(user), row["unit_id"]), row)
    # the same rule for one resident and for a unit's residents
    guard = await login_as("guard1")
    assert_masked((await client.get(f"/api/v1/residents/{row['resident_id']}", headers=guard)).json(), row)
    (listed,) = (await client.get(f"/api/v1/units/{row['unit_id']}/residents", headers=guard)).json()["items"]
    assert_masked(listed, row)


async def test_a_technician_sees_the_owner_of_their_own_open_job_and_no_other(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    mine, elsewhere = await _home(db, "B"), await _home(db, "C")
    job = await _job(db, mine["unit_id"], assignee="tech1")

    assert_full(
        await _owner_as_seen_by(client, await login_as("tech1"), mine["unit_id"]),
        mine,
        vulnerable_shown=False,
    )
    assert_masked(await _owner_as_seen_by(client, await login_as("tech1"), elsewhere["unit_id"]), elsewhere)
    assert_masked(await _owner_as_seen_by(client, await login_as("tech2"), mine["unit_id"]), mine)

    await db.execute("UPDATE work_orders SET status = 'closed' WHERE id = $1", job)
    assert_masked(await _owner_as_seen_by(client, await login_as("tech1"), mine["unit_id"]), mine)


async def test_a_guard_sees_a_building_in_full_only_while_it_has_an_emergency(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as: LoginAs
) -> None:
    in_a, in_b = await _home(db, "A", vulnerable=True), await _home(db, "B", vulnerable=True)
    guard = await login_as("guard1")

    # someone is trapped in building A's lift: building A, and only building A, opens to the guards
    await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    assert_full(await _owner_as_seen_by(client, guard, in_a["unit_id"]), in_a, vulnerable_shown=True)
    assert_masked(await _owner_as_seen_by(client, guard, in_b["unit_id"]), in_b)

    # the lift reports the car freed, but the emergency job is still open: still an emergency
    await clear_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    assert_full(await _owner_as_seen_by(client, guard, in_a["unit_id"]), in_a, vulnerable_shown=True)
    # the job is completed: it ends by itself
    await db.execute("UPDATE work_orders SET status = 'completed' WHERE kind = 'emergency'")
    assert_masked(await _owner_as_seen_by(client, guard, in_a["unit_id"]), in_a)

    # an emergency call about one home (no alarm) opens its building
    await _job(db, in_b["unit_id"], kind="emergency")
    assert_full(await _owner_as_seen_by(client, guard, in_b["unit_id"]), in_b, vulnerable_shown=True)
    assert_masked(await _owner_as_seen_by(client, guard, in_a["unit_id"]), in_a)


async def test_a_mains_loss_at_the_estates_switchgear_opens_every_building(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as: LoginAs
) -> None:
    assert (
        await db.fetchval(
            "SELECT a.building_id FROM devices d JOIN assets a ON a.id = d.asset_id WHERE d.id = 'mains-1'"
        )
        is None
    )  # the switchgear belongs to no building
    await raise_device_alarm(db, device_id="mains-1", code="MAINS_LOSS", now=clock.now())
    guard = await login_as("guard2")
    for building in ("A", "B", "C"):
        row = await _home(db, building)
        assert_full(await _owner_as_seen_by(client, guard, row["unit_id"]), row, vulnerable_shown=True)


async def test_the_vulnerable_list_is_for_supervisors_and_for_an_emergency(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as: LoginAs
) -> None:
    everyone = await db.fetch(
        """SELECT r.id, r.phone, b.code FROM residents r JOIN units u ON u.id = r.unit_id
           JOIN buildings b ON b.id = u.building_id WHERE r.vulnerable"""
    )
    assert len(everyone) > 1

    supervisor = (
        await client.get("/api/v1/residents/vulnerable", headers=await login_as("supervisor"))
    ).json()
    assert supervisor["total"] == len(everyone)
    assert {i["id"] for i in supervisor["items"]} == {str(r["id"]) for r in everyone}

    guard = await login_as("guard1")
    quiet = (await client.get("/api/v1/residents/vulnerable", headers=guard)).json()
    assert (quiet["items"], quiet["total"]) == ([], 0)

    await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    during = (await client.get("/api/v1/residents/vulnerable", headers=guard)).json()
    in_a = {str(r["id"]): r["phone"] for r in everyone if r["code"] == "A"}
    assert {i["id"]: i["phone"] for i in during["items"]} == in_a
    assert all(i["vulnerable"] is True and i["buildingCode"] == "A" for i in during["items"])


@pytest.mark.parametrize("fragment", ["1", "0042", "139-00", "000004"])
async def test_a_phone_lookup_needs_the_number_or_at_least_its_last_7_digits(
    fragment: str, client: AsyncTestClient, login_as: LoginAs
) -> None:
    r = await client.get("/api/v1/units/lookup", params={"phone": fragment}, headers=await login_as("agent"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["code"], r.json()["field"]) == ("phone_too_short", "phone")


async def test_a_phone_tail_finds_one_home_and_a_fragment_finds_none(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    agent = await login_as("agent")
    b102 = await db.fetchval(
        """SELECT u.id::text FROM units u JOIN buildings b ON b.id = u.building_id
           WHERE b.code = 'B' AND u.number = '102'"""
    )
    assert await db.fetchval("SELECT count(*) FROM residents WHERE phone LIKE '%1%'") == 120
    for tail in ("0000042", "13900000042", "+86 139 0000 0042"):
        r = await client.get("/api/v1/units/lookup", params={"phone": tail}, headers=agent)
        assert [u["id"] for u in r.json()["items"]] == [b102], tail
        r = await client.get("/api/v1/units", params={"q": tail}, headers=agent)
        assert [u["id"] for u in r.json()["items"]] == [b102], tail

    # "1" is in every owner's number: as a search it matches unit numbers only, never 120 homes by phone
    by_number = await db.fetchval(
        """SELECT count(*) FROM units u JOIN buildings b ON b.id = u.building_id
           WHERE u.number LIKE '%1%' OR b.code LIKE '%1%' OR b.name LIKE '%1%'"""
    )
    r = await client.get("/api/v1/units", params={"q": "1", "limit": 200}, headers=agent)
    assert r.json()["total"] == by_number
    r = await client.get("/api/v1/units", params={"q": "0042"}, headers=agent)
    assert r.json()["items"] == []


async def test_guards_and_technicians_cannot_find_homes_by_phone(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    for user in ("guard1", "tech1"):
        headers = await login_as(user)
        r = await client.get("/api/v1/units/lookup", params={"phone": "13900000042"}, headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "role_forbidden"
        r = await client.get("/api/v1/units", params={"q": "13900000042"}, headers=headers)
        assert r.json()["items"] == []


async def test_every_full_read_is_logged_and_oversight_reads_the_log(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    row = await _home(db, "A", vulnerable=True)
    await client.get(f"/api/v1/units/{row['unit_id']}", headers=await login_as("agent"))
    await client.get(f"/api/v1/units/{row['unit_id']}", headers=await login_as("guard1"))  # masked: no row
    await client.get("/api/v1/units/lookup", params={"phone": row["phone"]}, headers=await login_as("agent"))

    logged = await db.fetch(
        """SELECT u.username, p.role, p.unit_id, p.resident_id, p.fields, p.reason, p.endpoint
           FROM personal_data_reads p JOIN users u ON u.id = p.user_id ORDER BY p.id"""
    )
    assert [dict(r) for r in logged] == [
        {
            "username": "agent",
            "role": "agent",
            "unit_id": row["unit_id"],
            "resident_id": row["resident_id"],
            "fields": ["name", "phone"],
            "reason": "desk",
            "endpoint": endpoint,
        }
        for endpoint in (f"GET /api/v1/units/{row['unit_id']}", "GET /api/v1/units/lookup")
    ]
    assert row["phone"] not in str([dict(r) for r in logged])  # the number searched is not in the log

    # the log cannot be rewritten by anyone, not even through the database
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM personal_data_reads")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("UPDATE personal_data_reads SET reason = 'oversight'")

    supervisor = await login_as("supervisor")
    agent_id = await db.fetchval("SELECT id FROM users WHERE username = 'agent'")
    r = await client.get("/api/v1/personal-data/reads", params={"reader": str(agent_id)}, headers=supervisor)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2
    newest = page["items"][0]
    assert (newest["username"], newest["reason"], newest["fields"]) == ("agent", "desk", ["name", "phone"])
    assert newest["unitLabel"].startswith("A-") and newest["unitId"] == str(row["unit_id"])
    # reading the log is itself not a read of anyone's number
    everything = (await client.get("/api/v1/personal-data/reads", headers=supervisor)).json()
    assert everything["total"] == 2

    for user in ("agent", "tech1", "guard1"):
        r = await client.get("/api/v1/personal-data/reads", headers=await login_as(user))
        assert r.status_code == 403, (user, r.text)


async def test_an_emergency_read_is_logged_with_its_reason(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as: LoginAs
) -> None:
    row = await _home(db, "A", vulnerable=True)
    await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    await client.get(f"/api/v1/units/{row['unit_id']}", headers=await login_as("guard1"))
    logged = await db.fetchrow("SELECT role, fields, reason, read_at FROM personal_data_reads")
    assert (logged["role"], logged["fields"], logged["reason"]) == (
        "guard",
        ["name", "phone", "vulnerable"],
        "emergency",
    )
    assert logged["read_at"] == clock.now()
