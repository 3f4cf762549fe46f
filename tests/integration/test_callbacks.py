"""Follow-up calls (回访): the queue, a complaint through its callback, unreachable owners, and a reopen."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.integration.work_order_evidence import act, add_photo, completion, create, user_id


async def test_a_complaint_through_its_callback(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    wo = await create(
        client,
        agent,
        kind="complaint",
        category="attitude",
        title="维修师傅态度差",
        building="B",
        unitNumber="302",
    )
    assert wo["inHome"] is False
    assert {c["clock"] for c in wo["clocks"]} == {"respond", "resolve"}
    sup_id = await user_id(db, "supervisor")
    assert (await act(client, agent, wo["id"], "assign", {"assigneeId": sup_id})).status_code == 200
    assert (await act(client, supervisor, wo["id"], "accept")).status_code == 200
    # complaints are not visited: no departing or arriving
    assert (await act(client, supervisor, wo["id"], "arrive")).status_code == 409
    done = await act(client, supervisor, wo["id"], "complete", {"workDone": "已约谈师傅并向业主致歉"})
    assert done.status_code == 200, done.text
    completed_at = datetime.fromisoformat(done.json()["completedAt"])
    callback_clock = next(c for c in done.json()["clocks"] if c["clock"] == "callback")
    assert datetime.fromisoformat(callback_clock["dueAt"]) == completed_at + timedelta(days=3)

    queue = (await client.get("/api/v1/callbacks", params={"site": "demo"}, headers=agent)).json()
    assert [q["workOrderId"] for q in queue] == [wo["id"]] and queue[0]["attempts"] == 0
    r = await act(client, agent, wo["id"], "callback", {"reached": False, "comment": "无人接听"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    queue = (await client.get("/api/v1/callbacks", headers=agent)).json()
    assert queue[0]["attempts"] == 1
    due_soon = await client.get(
        "/api/v1/callbacks", params={"due_before": completed_at.isoformat()}, headers=agent
    )
    assert due_soon.json() == []

    clock.advance(timedelta(days=1))
    r = await act(
        client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 4, "comment": "满意"}
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed"
    assert [(c["attempt"], c["reached"]) for c in closed["callbacks"]] == [(1, False), (2, True)]
    assert next(c for c in closed["clocks"] if c["clock"] == "callback")["state"] == "met"
    assert (await client.get("/api/v1/callbacks", headers=agent)).json() == []
    # no second callback once one reached the owner
    assert (
        await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    ).status_code == 409
    # technicians and guards do not make callbacks
    assert (await client.get("/api/v1/callbacks", headers=await login_as("tech1"))).status_code == 403


async def test_an_unsatisfied_callback_reopens_to_the_last_assignee(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(
        client,
        agent,
        title="楼道灯不亮",
        category="electrical",
        building=None,
        unitNumber=None,
        site="demo",
        location="1栋3楼楼道",
    )
    assert wo["inHome"] is False
    tech1_id = await user_id(db, "tech1")
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    await add_photo(db, wo["id"])
    assert (await act(client, tech1, wo["id"], "complete", completion())).status_code == 200
    r = await act(
        client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 1, "comment": "还是不亮"}
    )
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert reopened["status"] == "assigned" and reopened["assigneeId"] == tech1_id
    assert reopened["reopenCount"] == 1 and reopened["completedAt"] is None
    assert [e["action"] for e in reopened["events"]][-2:] == ["callback", "reopen"]
    assert reopened["events"][-1]["payload"]["byCallback"] is True
    resolve = next(c for c in reopened["clocks"] if c["clock"] == "resolve")
    assert resolve["state"] == "running" and resolve["metAt"] is None
    told = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE recipient_id = $1 AND kind = 'assignment'",
        uuid.UUID(tech1_id),
    )
    assert told == 1  # accepted from the pool (no notice), then told of the reopen
    # the technician picks it up again, and a second completion restarts the callback
    assert (await act(client, tech1, wo["id"], "accept")).status_code == 200
    assert (await act(client, tech1, wo["id"], "arrive")).status_code == 200
    r = await act(client, tech1, wo["id"], "complete", completion())
    assert r.status_code == 200
    assert next(c for c in r.json()["clocks"] if c["clock"] == "callback")["state"] == "running"
    r = await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert r.json()["status"] == "closed"


async def test_a_supervisor_reopens_a_closed_job(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, tech1, supervisor = await login_as("agent"), await login_as("tech1"), await login_as("supervisor")
    wo = await create(client, agent, building=None, unitNumber=None, site="demo", location="泵房1")
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    await add_photo(db, wo["id"])
    assert (await act(client, tech1, wo["id"], "complete", completion())).status_code == 200
    assert (await act(client, agent, wo["id"], "close")).status_code == 403
    assert (await act(client, supervisor, wo["id"], "close")).json()["status"] == "closed"
    assert (await act(client, agent, wo["id"], "reopen", {"reason": "复查不合格"})).status_code == 403
    r = await act(client, supervisor, wo["id"], "reopen", {"reason": "复查不合格"})
    assert r.status_code == 200 and r.json()["status"] == "assigned" and r.json()["closedAt"] is None
