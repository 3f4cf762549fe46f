"""Escalation by hand moves the complaint to a person, and the manager's apology call is recorded as done
(DOMAIN.md "Complaint"; seeds-digest §2.2: 对于重大投诉,需上报管理层 … 管理層親自致電道歉)."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from tests.integration.work_order_evidence import act, create, user_id


async def complaint(client: AsyncTestClient, headers: dict[str, str], **fields) -> dict:
    return await create(
        client, headers, kind="complaint", category="attitude", title="保安态度恶劣", building="C", **fields
    )


async def add_staff(db: asyncpg.Connection, username: str, name: str, role: str, *, on_duty: bool) -> str:
    """Another member of the demo site's staff (password never used: they are only chosen, not logged in)."""
    uid = await db.fetchval(
        """INSERT INTO users (username, display_name, password_hash, role, on_duty)
           VALUES ($1, $2, 'x', $3, $4) RETURNING id""",
        username,
        name,
        role,
        on_duty,
    )
    await db.execute(
        "INSERT INTO user_sites (user_id, site_id) SELECT $1, id FROM sites WHERE code = 'demo'", uid
    )
    return str(uid)


async def test_escalation_makes_a_supervisor_of_the_site_the_handler_and_keeps_the_old_one_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Escalated to the supervisor, the complaint is the supervisor's to handle: their allowedActions carry
    the handler's steps, the agent's no longer do; the event keeps who held it before."""
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    me, boss = await user_id(db, "agent"), await user_id(db, "supervisor")
    wo = await complaint(client, agent, unitNumber="101")
    await act(client, agent, wo["id"], "assign", {"assigneeId": me})
    assert (
        "investigate"
        in (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=agent)).json()["allowedActions"]
    )
    r = await act(client, agent, wo["id"], "escalate", {"reason": "beyond_authority", "to": "supervisor"})
    assert r.status_code == 200, r.text
    assert (r.json()["assigneeId"], r.json()["status"]) == (boss, "assigned")
    assert r.json()["resolution"]["escalatedHandler"] == {"id": boss, "name": "李主管"}
    # the agent who held it may no longer act as its handler
    assert not {"investigate", "reply", "solve"} & set(r.json()["allowedActions"])
    theirs = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=supervisor)).json()
    assert {"investigate", "reply", "escalate"} <= set(theirs["allowedActions"])
    event = next(e for e in theirs["events"] if e["action"] == "escalate")
    assert event["payload"]["previousHandler"] == {"id": me, "name": "张客服"}
    assert event["payload"]["handler"] == {"id": boss, "name": "李主管"}
    refused = await act(client, agent, wo["id"], "investigate", {"findings": "x"})
    assert refused.status_code == 409 and refused.json()["code"] == "not_assignee"
    ok = await act(client, supervisor, wo["id"], "investigate", {"findings": "保安当班态度生硬，已约谈"})
    assert ok.status_code == 200, ok.text


async def test_escalation_picks_the_supervisor_on_duty_else_the_first_by_name_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Who takes it over: the site's supervisor on duty when the roster says so; nobody on duty, the first by
    name (code-point order); never the person the complaint is about."""
    agent = await login_as("agent")
    # 李主管 (the demo supervisor) sorts after 丁主管 by code point: 丁 U+4E01 < 李 U+674E
    first = await add_staff(db, "sup-ding", "丁主管", "supervisor", on_duty=False)
    wo = await complaint(client, agent, unitNumber="102")
    r = await act(client, agent, wo["id"], "escalate", {"reason": "agitated"})
    assert r.json()["assigneeId"] == first
    on_duty = await add_staff(db, "sup-zhou", "周主管", "supervisor", on_duty=True)
    wo2 = await complaint(client, agent, unitNumber="103")
    r = await act(client, agent, wo2["id"], "escalate", {"reason": "agitated"})
    assert r.json()["assigneeId"] == on_duty
    # the complaint is about the one on duty: the next in line takes it
    about = await complaint(client, agent, unitNumber="104", complainedAboutId=on_duty)
    r = await act(client, agent, about["id"], "escalate", {"reason": "agitated"})
    assert r.json()["assigneeId"] == first


async def test_a_major_complaint_escalates_to_the_manager_who_records_the_apology_call_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """A major complaint goes up to the manager, who holds it and makes the apology call; only the manager
    may mark it done (a supervisor may not on a major one); the call is a contact with the owner and, as the
    first one, meets the 24 h respond clock; the management task shows done and is owed no more."""
    agent, supervisor, manager = (
        await login_as("agent"),
        await login_as("supervisor"),
        await login_as("manager"),
    )
    boss = await user_id(db, "manager")
    wo = await complaint(client, agent, unitNumber="201", major=True)
    r = await act(client, agent, wo["id"], "escalate", {"reason": "media_or_group", "to": "supervisor"})
    body = r.json()
    assert (body["resolution"]["escalatedTo"], body["assigneeId"]) == ("manager", boss)
    assert body["resolution"]["managementTask"]["kind"] == "apology_call"
    sup_view = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=supervisor)).json()
    assert "apology_call_done" not in sup_view["allowedActions"]
    refused = await act(
        client, supervisor, wo["id"], "apology_call_done", {"via": "phone", "summary": "致歉"}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "manager_only"
    mine = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=manager)).json()
    assert "apology_call_done" in mine["allowedActions"]
    r = await act(
        client, manager, wo["id"], "apology_call_done",
        {"via": "phone", "summary": "代表公司致歉，承诺本周内答复", "calledBy": "王经理"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    done = r.json()
    task = done["resolution"]["managementTask"]
    assert (task["calledBy"], task["via"], task["summary"]) == (
        "王经理",
        "phone",
        "代表公司致歉，承诺本周内答复",
    )
    assert task["doneAt"] and "apology_call_done" not in done["allowedActions"]
    respond = next(c for c in done["clocks"] if c["clock"] == "respond")
    assert respond["state"] == "met"
    again = await act(client, manager, wo["id"], "apology_call_done", {"via": "phone", "summary": "again"})
    assert again.status_code == 409 and again.json()["code"] == "apology_not_due"
    unknown = await act(
        client, manager, wo["id"], "apology_call_done", {"via": "phone", "summary": "x", "x": 1}
    )
    assert unknown.status_code in (400, 422) and unknown.json()["field"] == "x"


async def test_a_supervisor_may_record_the_apology_call_of_a_complaint_that_is_not_major_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Escalated to the manager by hand (not major): a supervisor may record the call too, an agent never."""
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    wo = await complaint(client, agent, unitNumber="202")
    await act(client, agent, wo["id"], "escalate", {"reason": "agitated", "to": "manager"})
    no = await act(client, agent, wo["id"], "apology_call_done", {"via": "phone", "summary": "x"})
    assert no.status_code == 403
    r = await act(client, supervisor, wo["id"], "apology_call_done", {"via": "visit", "summary": "上门致歉"})
    assert r.status_code == 200, r.text
    assert r.json()["resolution"]["managementTask"]["calledBy"] == "李主管"
