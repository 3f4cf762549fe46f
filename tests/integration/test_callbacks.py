"""Follow-up calls (回访): the queue, a complaint through its callback, unreachable owners, and a reopen."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.integration.work_order_evidence import (
    COMMON_CHECKLIST,
    act,
    complete_repair,
    completion,
    create,
    user_id,
)


async def test_a_complaint_through_its_callback(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """DOMAIN.md "Complaint": handler named, investigated, replied to, solved, result told, called back by
    someone other than the handler, closed — and never departed for or arrived at."""
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
    assert {c["clock"] for c in wo["clocks"]} == {"respond", "investigate", "resolve"}
    assert wo["requirements"]["action"] == "inform" and wo["requirements"]["signature"] is False
    sup_id = await user_id(db, "supervisor")
    assert (await act(client, agent, wo["id"], "assign", {"assigneeId": sup_id})).status_code == 200
    # complaints are not visited: no accepting, departing or arriving
    for field_step in ("accept", "depart", "arrive", "complete"):
        r = await act(client, supervisor, wo["id"], field_step)
        assert r.status_code in (403, 409), (field_step, r.text)
    r = await act(client, supervisor, wo["id"], "investigate", {"findings": "师傅承认语气生硬"})
    assert r.status_code == 200 and r.json()["status"] == "investigating"
    r = await act(
        client, supervisor, wo["id"], "reply", {"via": "phone", "summary": "已致电业主致歉并说明调查"}
    )
    respond = next(c for c in r.json()["clocks"] if c["clock"] == "respond")
    assert respond["state"] == "met"
    r = await act(client, supervisor, wo["id"], "solve", {"solution": "师傅书面检讨，下次上门换人"})
    assert r.json()["status"] == "solved"
    done = await act(client, supervisor, wo["id"], "inform", {"via": "phone", "summary": "已告知处理结果"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["resolution"]["solution"] == "师傅书面检讨，下次上门换人"
    completed_at = datetime.fromisoformat(done.json()["completedAt"])
    callback_clock = next(c for c in done.json()["clocks"] if c["clock"] == "callback")
    assert datetime.fromisoformat(callback_clock["dueAt"]) == completed_at + timedelta(days=3)
    # the handler does not judge their own work
    own = await act(client, supervisor, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert own.status_code == 403 and own.json()["code"] == "own_work"

    page = (await client.get("/api/v1/callbacks", params={"site": "demo"}, headers=agent)).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    queue = page["items"]
    assert [q["workOrderId"] for q in queue] == [wo["id"]] and queue[0]["attempts"] == 0
    # what was done and by whom, for the call
    assert queue[0]["resolution"]["solution"] == "师傅书面检讨，下次上门换人"
    assert queue[0]["assigneeName"] == "李主管"
    # no number left with the complaint: the owner's on file is there for the call (B-302 is the 50th home)
    assert (queue[0]["reporterPhone"], queue[0]["ownerPhone"]) == (None, "13900000050")
    r = await act(client, agent, wo["id"], "callback", {"reached": False, "comment": "无人接听"})
    assert r.status_code == 200 and r.json()["status"] == "completed"
    queue = (await client.get("/api/v1/callbacks", headers=agent)).json()["items"]
    assert queue[0]["attempts"] == 1
    due_soon = await client.get(
        "/api/v1/callbacks", params={"due_before": completed_at.isoformat()}, headers=agent
    )
    assert due_soon.json()["items"] == []

    clock.advance(timedelta(days=1))
    r = await act(
        client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 4, "comment": "满意"}
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed"
    assert [(c["attempt"], c["reached"]) for c in closed["callbacks"]] == [(1, False), (2, True)]
    assert next(c for c in closed["clocks"] if c["clock"] == "callback")["state"] == "met"
    assert (await client.get("/api/v1/callbacks", headers=agent)).json()["items"] == []
    # no second callback once one reached the owner
    again = await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert again.status_code == 409
    # technicians and guards do not make callbacks
    assert (await client.get("/api/v1/callbacks", headers=await login_as("tech1"))).status_code == 403


async def test_a_neutral_callback_leaves_the_decision_to_the_supervisor(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """DOMAIN.md "Callbacks": only a clearly satisfied owner (4-5) closes the job; a 3 goes to the
    supervisor, who closes it with a reason or follows up."""
    agent, tech1, supervisor = await login_as("agent"), await login_as("tech1"), await login_as("supervisor")
    wo = await create(client, agent, building=None, unitNumber=None, site="demo", location="2栋大堂")
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    assert (await complete_repair(client, db, tech1, wo["id"])).status_code == 200
    r = await act(
        client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 3, "comment": "一般"}
    )
    assert r.status_code == 200 and r.json()["status"] == "completed"
    assert r.json()["events"][-1]["payload"]["outcome"] == "neutral"
    told = await db.fetchval(
        "SELECT count(*) FROM notifications WHERE kind = 'callback_neutral' AND data->>'workOrderId' = $1",
        wo["id"],
    )
    assert told >= 1
    seen = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=supervisor)).json()
    assert {"close", "reopen"} <= set(seen["allowedActions"])
    assert "callback" not in seen["allowedActions"]
    r = await act(client, supervisor, wo["id"], "close", {"reason": "业主认可，已说明无法更好"})
    assert r.json()["status"] == "closed"


async def test_a_sensor_job_with_nobody_behind_it_gets_no_callback(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """DOMAIN.md "Callbacks": a callback is a call to a person."""
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(
        client, agent, channel="sensor", building=None, unitNumber=None, site="demo", location="泵房"
    )
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    r = await complete_repair(client, db, tech1, wo["id"])
    assert r.status_code == 200
    assert "callback" not in {c["clock"] for c in r.json()["clocks"]}
    assert (await client.get("/api/v1/callbacks", headers=agent)).json()["items"] == []


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
    assert (await complete_repair(client, db, tech1, wo["id"])).status_code == 200
    r = await act(
        client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 1, "comment": "还是不亮"}
    )
    assert r.status_code == 200, r.text
    reopened = r.json()
    assert reopened["status"] == "assigned" and reopened["assigneeId"] == tech1_id
    assert reopened["reopenCount"] == 1 and reopened["completedAt"] is None
    assert [e["action"] for e in reopened["events"]][-2:] == ["callback", "reopen"]
    assert reopened["events"][-1]["payload"]["byCallback"] is True
    # the technician sees the owner's score and words that sent the job back, and a new visit begins
    assert reopened["reopened"]["satisfaction"] == 1 and reopened["reopened"]["comment"] == "还是不亮"
    assert reopened["visit"] == 2
    assert reopened["requirements"]["afterPhotosTaken"] == 0
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
    # the first visit's photo does not count for the second
    r = await act(client, tech1, wo["id"], "complete", completion(COMMON_CHECKLIST))
    assert r.status_code == 422 and r.json()["code"] == "after_photo_required"
    r = await complete_repair(client, db, tech1, wo["id"], visit=2)
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
    assert (await complete_repair(client, db, tech1, wo["id"])).status_code == 200
    assert (await act(client, agent, wo["id"], "close")).status_code == 403
    assert (await act(client, supervisor, wo["id"], "close")).json()["status"] == "closed"
    assert (await act(client, agent, wo["id"], "reopen", {"reason": "复查不合格"})).status_code == 403
    r = await act(client, supervisor, wo["id"], "reopen", {"reason": "复查不合格"})
    assert r.status_code == 200 and r.json()["status"] == "assigned" and r.json()["closedAt"] is None
