"""The dispatch suggestion explains itself (skill, where the technician is, open jobs), and a complaint never
goes to the member of staff it is about."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from tests.integration.work_order_evidence import API, act, create, user_id


async def _suggestions(client: AsyncTestClient, headers: dict[str, str], job_id: str) -> dict[str, dict]:
    r = await client.get(f"{API}/{job_id}/suggestions", headers=headers)
    assert r.status_code == 200, r.text
    return {s["username"]: s for s in r.json()["items"]}


def _reasons(suggestion: dict) -> list[dict]:
    return [{k: v for k, v in reason.items() if v is not None} for reason in suggestion["reasons"]]


async def test_each_suggestion_says_why(client: AsyncTestClient, db: asyncpg.Connection, login_as) -> None:
    agent, tech3 = await login_as("agent"), await login_as("tech3")
    # tech3 (electrical) is at work in building C; tech1 (water, electrical) has nothing open
    busy = await create(
        client, agent, category="electrical", title="楼道灯不亮", building="C", unitNumber="301"
    )
    assert (
        await act(client, agent, busy["id"], "assign", {"assigneeId": await user_id(db, "tech3")})
    ).status_code == 200
    for step in ("accept", "depart", "arrive"):
        assert (await act(client, tech3, busy["id"], step)).status_code == 200, step

    job = await create(
        client, agent, category="electrical", title="插座冒火花", building="C", unitNumber="702"
    )
    ranked = await _suggestions(client, agent, job["id"])
    assert list(ranked) == ["tech3", "tech1", "tech2"]
    assert _reasons(ranked["tech3"]) == [
        {"code": "skilled", "skill": "electrical"},
        {"code": "nearby"},
        {"code": "open_jobs", "count": 1},
    ]
    assert _reasons(ranked["tech1"]) == [
        {"code": "skilled", "skill": "electrical"},
        {"code": "open_jobs", "count": 0},
    ]
    # the lift engineer is offered last, and says why
    assert ranked["tech2"]["skilled"] is False
    assert _reasons(ranked["tech2"])[0] == {"code": "not_skilled", "skill": "electrical"}

    # elsewhere in the estate being in building C counts for nothing
    far = await create(client, agent, category="electrical", title="开关跳闸", building="A", unitNumber="101")
    ranked = await _suggestions(client, agent, far["id"])
    assert list(ranked)[:2] == ["tech1", "tech3"]
    assert {"code": "nearby"} not in _reasons(ranked["tech3"])


async def test_a_complaint_cannot_go_to_the_person_it_is_about(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    tech2 = await user_id(db, "tech2")
    complaint = await create(
        client,
        agent,
        kind="complaint",
        category="attitude",
        title="维修人员态度差",
        complainedAboutId=tech2,
    )
    assert complaint["complainedAboutId"] == tech2
    assert complaint["complainedAboutName"] == "陈师傅"

    r = await act(client, supervisor, complaint["id"], "assign", {"assigneeId": tech2})
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("assignee_complained_about", "assigneeId")
    offered = (await client.get(f"{API}/{complaint['id']}/suggestions", headers=agent)).json()["items"]
    assert offered and tech2 not in [s["userId"] for s in offered]
    # a complaint needs no trade: no technician is "not skilled" for it
    assert [r["code"] for s in offered for r in s["reasons"]] == ["open_jobs"] * len(offered)

    # anyone else may handle it
    r = await act(
        client, supervisor, complaint["id"], "assign", {"assigneeId": await user_id(db, "supervisor")}
    )
    assert r.status_code == 200, r.text


async def test_only_a_complaint_names_a_member_of_staff(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    agent = await login_as("agent")
    r = await client.post(
        API,
        json={"kind": "repair", "category": "water", "channel": "phone", "title": "x", "building": "A",
              "unitNumber": "101", "complainedAboutId": await user_id(db, "tech1")},
        headers={**agent, "Idempotency-Key": "only-complaints-name-staff"},
    )  # fmt: skip
    assert r.status_code == 422
    assert r.json()["field"] == "complainedAboutId"
