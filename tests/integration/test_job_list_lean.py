"""GET /work-orders/mine: a technician's open jobs in the full list's order, only what the list shows."""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from tests.integration.work_order_evidence import API, act, create

LEAN_FIELDS = {
    "id",
    "number",
    "kind",
    "status",
    "priority",
    "title",
    "location",
    "version",
    "createdAt",
    "unitLabel",
    "clocks",
}


async def test_my_jobs_are_the_open_ones_of_the_full_list_in_its_order_with_the_lean_fields(
    client: AsyncTestClient, login_as
) -> None:
    agent, supervisor, tech1 = await login_as("agent"), await login_as("supervisor"), await login_as("tech1")
    slow = await create(client, agent, category="structure", title="墙面裂缝")
    fast = await create(client, agent, category="water", title="楼上漏水")
    mid = await create(client, agent, category="water", title="水压小")
    other = await create(client, agent, category="water", title="别人的活")
    tech1_id = (await client.get("/api/v1/me", headers=tech1)).json()["id"]
    tech2_id = (await client.get("/api/v1/me", headers=await login_as("tech2"))).json()["id"]
    for job, who in ((slow, tech1_id), (fast, tech1_id), (mid, tech1_id), (other, tech2_id)):
        r = await act(client, supervisor, job["id"], "assign", {"assigneeId": who})
        assert r.status_code == 200, r.text
    assert (await act(client, tech1, mid["id"], "accept")).status_code == 200
    # a cancelled job of tech1 leaves the list
    assert (await act(client, supervisor, slow["id"], "cancel", {"reason": "重复报修"})).status_code == 200

    full = (await client.get(API, params={"assignee": "me", "open": "true"}, headers=tech1)).json()
    r = await client.get(f"{API}/mine", headers=tech1)
    assert r.status_code == 200, r.text
    lean = r.json()
    assert [j["id"] for j in lean["items"]] == [j["id"] for j in full["items"]] == [fast["id"], mid["id"]]
    assert (lean["total"], lean["limit"], lean["offset"]) == (2, 50, 0)
    for item, whole in zip(lean["items"], full["items"], strict=True):
        assert set(item) == LEAN_FIELDS
        plain = LEAN_FIELDS - {"clocks"}
        assert {k: whole[k] for k in plain} == {k: item[k] for k in plain}
        assert [(c["clock"], c["dueAt"], c["state"], c.get("metAt")) for c in item["clocks"]] == [
            (c["clock"], c["dueAt"], c["state"], c.get("metAt")) for c in whole["clocks"]
        ]
    # the lean answer is a fraction of the full one
    assert len(r.content) * 2 < len((await client.get(API, params={"assignee": "me"}, headers=tech1)).content)

    page = (await client.get(f"{API}/mine", params={"limit": 1, "offset": 1}, headers=tech1)).json()
    assert [j["id"] for j in page["items"]] == [mid["id"]] and page["total"] == 2


async def test_my_jobs_is_described_in_the_api_document(client: AsyncTestClient) -> None:
    doc = (await client.get("/schema/openapi.json")).json()
    op = doc["paths"]["/api/v1/work-orders/mine"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    page = doc["components"]["schemas"][ref]
    assert set(page["properties"]) == {"items", "total", "limit", "offset"}
    item_ref = page["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert set(doc["components"]["schemas"][item_ref]["properties"]) == LEAN_FIELDS


async def test_the_apps_connections_never_jit_compile(pool: asyncpg.Pool, db: asyncpg.Connection) -> None:
    # A technician's list runs on a generic plan, costed from the average open jobs per technician: with
    # one busy colleague PostgreSQL's JIT compiled the 0.5 ms query for 12-35 ms on every request.
    assert await db.fetchval("SHOW jit") == "off"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW jit") == "off"
