"""Dispatch, concurrency, idempotency, visibility, lists and the OpenAPI description of work orders."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.domain.workflow import Action
from backend.services.intake import create_work_order
from tests.integration.work_order_evidence import API, act, create, user_id


async def test_two_technicians_accepting_one_pool_job_exactly_one_wins(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, tech1, tech2 = await login_as("agent"), await login_as("tech1"), await login_as("tech2")
    wo = await create(client, agent)
    first, second = await asyncio.gather(
        act(client, tech1, wo["id"], "accept"), act(client, tech2, wo["id"], "accept")
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = second if second.status_code == 409 else first
    winner = first if loser is second else second
    assert loser.json()["current"]["status"] == "accepted"
    assert loser.json()["current"]["assigneeId"] == winner.json()["assigneeId"]
    accepts = await db.fetchval(
        "SELECT count(*) FROM work_order_events WHERE work_order_id = $1 AND action = 'accept'",
        uuid.UUID(wo["id"]),
    )
    assert accepts == 1


async def test_replaying_a_mutation_returns_the_first_answer_and_changes_nothing(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {
        "kind": "repair",
        "category": "electrical",
        "channel": "counter",
        "title": "插座没电",
        "ownerPhone": "13900000001",
    }
    made = await client.post(API, json=body, headers={**agent, **key})
    again = await client.post(API, json=body, headers={**agent, **key})
    assert made.status_code == again.status_code == 201
    assert again.json() == made.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM work_orders") == 1
    wo_id = made.json()["id"]
    accept_key = {"Idempotency-Key": str(uuid.uuid4())}
    r1 = await client.post(f"{API}/{wo_id}/accept", json={}, headers={**tech1, **accept_key})
    r2 = await client.post(f"{API}/{wo_id}/accept", json={}, headers={**tech1, **accept_key})
    assert r1.status_code == r2.status_code == 200
    assert r2.json() == r1.json()
    assert await db.fetchval("SELECT version FROM work_orders WHERE id = $1", uuid.UUID(wo_id)) == 2
    # the same key on another request is refused rather than replayed
    r3 = await client.post(f"{API}/{wo_id}/depart", json={}, headers={**tech1, **accept_key})
    assert r3.status_code == 409


async def test_owner_phone_finds_the_unit(client: AsyncTestClient, login_as) -> None:
    wo = await create(
        client, await login_as("agent"), building=None, unitNumber=None, ownerPhone="13900000001"
    )
    assert wo["unitLabel"] is not None and wo["reporterPhone"] == "13900000001"


async def test_intake_names_the_wrong_field(client: AsyncTestClient, login_as) -> None:
    agent = await login_as("agent")
    cases = [
        ({"category": "fee_dispute"}, "category"),
        ({"unitNumber": "9999"}, "unitNumber"),
        ({"appointmentRequested": True}, "appointmentAt"),
        ({"kind": "maintenance"}, "kind"),
    ]
    for change, field in cases:
        body = {"kind": "repair", "category": "water", "channel": "phone", "title": "x", "building": "A"}
        body |= {"unitNumber": "101"} | change
        r = await client.post(API, json=body, headers={**agent, "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
    tech = await login_as("tech1")
    body = {"kind": "repair", "category": "water", "channel": "phone", "title": "x"}
    r = await client.post(API, json=body, headers={**tech, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 403


async def test_suggestions_rank_skill_then_workload(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent = await login_as("agent")
    lift = await create(client, agent, category="elevator", title="电梯门关不上")
    r = await client.get(f"{API}/{lift['id']}/suggestions", headers=agent)
    assert r.status_code == 200
    ranking = [s["username"] for s in r.json()["items"]]
    assert ranking[0] == "tech2" and set(ranking) == {"tech1", "tech2", "tech3"} and r.json()["total"] == 3
    second_only = await client.get(f"{API}/{lift['id']}/suggestions?limit=1&offset=1", headers=agent)
    assert [s["username"] for s in second_only.json()["items"]] == ranking[1:2]
    # electrical: tech1 and tech3 are skilled; give tech1 a job and tech3 moves ahead
    tech1 = await user_id(db, "tech1")
    first = await create(client, agent, category="electrical", title="开关跳闸")
    assert (await act(client, agent, first["id"], "assign", {"assigneeId": tech1})).status_code == 200
    second = await create(client, agent, category="electrical", title="灯不亮")
    r = await client.get(f"{API}/{second['id']}/suggestions", headers=agent)
    ranked = r.json()["items"]
    assert [s["username"] for s in ranked][:2] == ["tech3", "tech1"]
    assert ranked[1]["openJobs"] == 1 and ranked[2]["skilled"] is False
    assert (
        await client.get(f"{API}/{second['id']}/suggestions", headers=await login_as("tech1"))
    ).status_code == 403


async def test_the_system_assigns_emergencies_automatically(db: asyncpg.Connection) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    async with db.transaction():
        wo = await create_work_order(
            db,
            actor=None,
            site_id=site_id,
            kind="emergency",
            category="elevator",
            priority=1,
            title="困人:1栋1号梯",
            channel="sensor",
            now=ManualClock().now(),
            in_home=False,
            auto_assign=True,
        )
    assert wo.status == "assigned" and wo.assignee_name == "陈师傅"
    note = await db.fetchrow(
        "SELECT kind, urgency FROM notifications WHERE recipient_id = $1", wo.assignee_id
    )
    assert (note["kind"], note["urgency"]) == ("assignment", "high")


async def test_guards_read_but_do_not_act_and_other_sites_are_invisible(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, guard = await login_as("agent"), await login_as("guard1")
    wo = await create(client, agent)
    assert (await client.get(f"{API}/{wo['id']}", headers=guard)).status_code == 200
    for action in ("accept", "assign", "cancel", "close"):
        assert (await act(client, guard, wo["id"], action, {"reason": "x"})).status_code == 403
    other = await db.fetchval("INSERT INTO sites (code, name) VALUES ('other', '别处') RETURNING id")
    async with db.transaction():
        theirs = await create_work_order(
            db,
            actor=None,
            site_id=other,
            kind="repair",
            category="water",
            priority=3,
            title="别处的工单",
            channel="phone",
            now=ManualClock().now(),
        )
    assert (await client.get(f"{API}/{theirs.id}", headers=agent)).status_code == 404
    assert (await act(client, agent, str(theirs.id), "assign", {"assigneeId": None})).status_code == 404
    listed = (await client.get(API, headers=agent)).json()
    assert [w["id"] for w in listed["items"]] == [wo["id"]]


async def test_list_filters_and_urgency_order(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    slow = await create(client, agent, category="structure", title="墙面裂缝")
    fast = await create(client, agent, category="water", title="楼上漏水")
    mid = await create(client, agent, category="water", title="水压小")
    assert (slow["priority"], fast["priority"], mid["priority"]) == ("P3", "P1", "P2")
    page = (await client.get(API, headers=agent)).json()
    assert [w["id"] for w in page["items"]] == [fast["id"], mid["id"], slow["id"]] and page["total"] == 3
    assert (await act(client, tech1, mid["id"], "accept")).status_code == 200
    mine = (await client.get(API, params={"assignee": "me"}, headers=tech1)).json()
    assert [w["id"] for w in mine["items"]] == [mid["id"]]
    pool = (
        await client.get(API, params={"assignee": "none", "status": "new,assigned"}, headers=agent)
    ).json()
    assert {w["id"] for w in pool["items"]} == {fast["id"], slow["id"]}
    assert (await client.get(API, params={"overdue": "true"}, headers=agent)).json()["total"] == 0
    clock.advance(timedelta(minutes=6))  # P1 respond (5 min) is now overdue
    overdue = (await client.get(API, params={"overdue": "true"}, headers=agent)).json()
    assert [w["id"] for w in overdue["items"]] == [fast["id"]]
    found = (await client.get(API, params={"q": fast["number"]}, headers=agent)).json()
    assert [w["id"] for w in found["items"]] == [fast["id"]]
    paged = (await client.get(API, params={"limit": 1, "offset": 1}, headers=agent)).json()
    assert [w["id"] for w in paged["items"]] == [mid["id"]] and paged["total"] == 3
    r = await client.get(API, params={"status": "nonsense"}, headers=agent)
    assert r.status_code == 422 and r.json()["field"] == "status"


async def test_openapi_describes_every_work_order_endpoint(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/work-orders"])
    for action in set(Action) - {Action.SIGN}:  # the signature is a multipart upload (evidence)
        op = paths[f"/api/v1/work-orders/{{work_order_id}}/{action}"]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"]
        assert "200" in op["responses"]
    assert "/api/v1/callbacks" in paths and "/api/v1/maintenance-plans" in paths
    assert "/api/v1/work-orders/{work_order_id}/suggestions" in paths
    assert {
        "WorkOrderDetail",
        "WorkOrderCreate",
        "AssignRequest",
        "CompleteRequest",
        "ContactRequest",
        "CallbackRequest",
        "Requirements",
    } <= set(schema["components"]["schemas"])


async def test_technicians_cannot_assign(client: AsyncTestClient, login_as) -> None:
    wo = await create(client, await login_as("agent"))
    r = await act(client, await login_as("tech1"), wo["id"], "assign", {"assigneeId": None})
    assert r.status_code == 403
