"""Work orders over HTTP on the real database: a repair from intake to closed, a cancel, the 409s and 403s."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.integration.work_order_evidence import API, act, add_photo, completion, create, user_id


async def test_repair_walks_from_intake_to_closed(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, description="厨房水龙头一直滴水", appointmentAt=None)
    assert re.fullmatch(r"WO-\d{8}-\d{4}", wo["number"])
    assert wo["status"] == "new" and wo["inHome"] is True and wo["unitLabel"] == "1栋 101"
    assert {c["clock"]: c["state"] for c in wo["clocks"]} == {
        "respond": "running",
        "arrive": "running",
        "resolve": "running",
    }
    tech1_id = await user_id(db, "tech1")

    r = await act(client, agent, wo["id"], "assign", {"assigneeId": tech1_id})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned" and r.json()["assigneeId"] == tech1_id
    told = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE recipient_id = $1 AND kind = 'assignment'",
        await db.fetchval("SELECT id FROM users WHERE username = 'tech1'"),
    )
    assert told == 1

    clock.advance(timedelta(minutes=10))
    for action, status in (("accept", "accepted"), ("depart", "en_route"), ("arrive", "on_site")):
        r = await act(client, tech1, wo["id"], action, {"geo": {"lat": 31.2, "lng": 121.5}})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    await add_photo(db, wo["id"], "before")
    r = await act(client, tech1, wo["id"], "complete", completion())
    assert r.status_code == 422 and r.json()["field"] == "photos"
    await add_photo(db, wo["id"], "after")
    r = await act(client, tech1, wo["id"], "complete", completion())
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "completed"
    assert done["resolution"]["workDone"] == "更换角阀阀芯并试水"
    assert {c["clock"]: c["state"] for c in done["clocks"]} == {
        "respond": "met",
        "arrive": "met",
        "resolve": "met",
        "callback": "running",
    }
    # a home visit is not called back before it is signed
    r = await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert r.status_code == 409
    r = await client.post(
        f"{API}/{wo['id']}/sign",
        json={"noSignReason": "owner_absent"},
        headers={**tech1, "Idempotency-Key": "s1"},
    )
    assert r.status_code == 200, r.text
    answer = {"reached": True, "satisfaction": 5, "comment": "很满意"}
    r = await act(client, agent, wo["id"], "callback", answer)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["closedAt"] is not None
    assert [e["action"] for e in closed["events"]] == [
        "created",
        "assign",
        "accept",
        "depart",
        "arrive",
        "complete",
        "sign",
        "callback",
    ]
    assert closed["version"] == closed["events"][-1]["seq"] == 8
    assert closed["callbacks"][0]["satisfaction"] == 5
    assert len(closed["photos"]) == 2 and closed["photos"][0]["url"].startswith("/api/v1/photos/")
    assert closed["signature"]["noSignReason"] == "owner_absent"


async def test_completion_needs_every_required_checklist_item(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent)
    assert (await act(client, tech1, wo["id"], "accept")).status_code == 200
    assert (await act(client, tech1, wo["id"], "arrive")).status_code == 200
    await add_photo(db, wo["id"])
    partial = completion({"introduce": True, "consent": True})
    r = await act(client, tech1, wo["id"], "complete", partial)
    assert r.status_code == 422 and r.json()["field"] == "checklist"
    assert "covers" in r.json()["detail"]
    r = await act(client, tech1, wo["id"], "complete", {**completion(), "workDone": ""})
    assert r.status_code == 422 and r.json()["field"] == "workDone"


async def test_cancel_needs_a_reason_and_a_supervisor(client: AsyncTestClient, login_as) -> None:
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    wo = await create(client, agent)
    assert (await act(client, agent, wo["id"], "cancel", {"reason": "业主撤回"})).status_code == 403
    r = await act(client, supervisor, wo["id"], "cancel")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await act(client, supervisor, wo["id"], "cancel", {"reason": "业主撤回"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["events"][-1]["payload"]["reason"] == "业主撤回"
    r = await act(client, supervisor, wo["id"], "cancel", {"reason": "again"})
    assert r.status_code == 409
    assert r.json()["current"] == {"status": "cancelled", "assigneeId": None, "version": 2}


async def test_open_list_leaves_out_closed_and_cancelled_work(client: AsyncTestClient, login_as) -> None:
    """The technician's list asks `open=true`: work already finished is never read for it."""
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    kept = await create(client, agent)
    gone = await create(client, agent)
    assert (await act(client, supervisor, gone["id"], "cancel", {"reason": "业主撤回"})).status_code == 200
    everything = await client.get(API, headers=agent, params={"limit": 200})
    assert gone["id"] in {w["id"] for w in everything.json()["items"]}
    r = await client.get(API, headers=agent, params={"open": "true", "limit": 200})
    assert r.status_code == 200
    listed = {w["id"]: w["status"] for w in r.json()["items"]}
    assert kept["id"] in listed and gone["id"] not in listed
    assert not {"closed", "cancelled"} & set(listed.values())


def _wire_time(when: datetime) -> str:
    """An instant as the API writes it: UTC, whole seconds, `Z`."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def test_decline_returns_to_the_pool_and_assign_sets_the_appointment(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    # appointments the owner asked for: tomorrow at 14:00 and the day after at 10:00, Shanghai time
    tomorrow = clock.now().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=1)
    first_visit, second_visit = _wire_time(tomorrow), _wire_time(tomorrow + timedelta(hours=20))
    agent, tech1, tech2 = await login_as("agent"), await login_as("tech1"), await login_as("tech2")
    wo = await create(client, agent, appointmentRequested=True, appointmentAt=first_visit)
    assert wo["appointmentAt"] == first_visit
    r = await act(client, agent, wo["id"], "assign", {})
    assert r.status_code == 400 and r.json()["field"] == "assigneeId"
    r = await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech2")})
    assert r.status_code == 200
    # tech1 cannot work tech2's job: stale, with the current state
    r = await act(client, tech1, wo["id"], "accept")
    assert r.status_code == 409 and r.json()["current"]["status"] == "assigned"
    r = await act(client, tech2, wo["id"], "decline")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await act(client, tech2, wo["id"], "decline", {"reason": "不会修燃气"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["assigneeId"]) == ("new", None)
    r = await act(
        client,
        agent,
        wo["id"],
        "assign",
        {"assigneeId": await user_id(db, "tech1"), "appointmentAt": second_visit},
    )
    assert r.json()["appointmentAt"] == second_visit and r.json()["status"] == "assigned"
    r = await act(client, agent, wo["id"], "assign", {"assigneeId": None})
    assert (r.json()["status"], r.json()["assigneeId"]) == ("new", None)
    r = await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "guard1")})
    assert r.status_code == 422 and r.json()["field"] == "assigneeId"


async def test_a_body_with_a_field_nobody_knows_is_refused_naming_it(
    client: AsyncTestClient, login_as
) -> None:
    """DESIGN.md "Contracts": unknown fields are refused, naming the field, on every endpoint alike."""
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent)
    for action, body in (
        ("accept", {"clientAtt": "2026-01-01T00:00:00Z"}),  # fixed-date: refused before it is read
        ("callback", {"reached": False, "mood": "calm"}),
        ("decline", {"reason": "busy", "note": "typo of reason"}),
    ):
        r = await act(client, tech1 if action != "callback" else agent, wo["id"], action, body)
        assert r.status_code == 400, (action, r.text)
        unknown = next(iter(set(body) - {"reason", "reached"}))
        assert (r.json()["code"], r.json()["field"]) == ("unknown_field", unknown)
    r = await client.post(
        "/api/v1/work-orders",
        json={"kind": "repair", "category": "water", "channel": "phone", "title": "x", "colour": "red"},
        headers={**agent, "Idempotency-Key": "k-unknown"},
    )
    assert (r.status_code, r.json()["field"]) == (400, "colour")
