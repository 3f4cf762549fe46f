"""Callback campaigns beyond single jobs (DOMAIN.md "Callbacks", seeds-digest §3.2: owners are called back
routinely, not only after a job): the monthly routine sample drawn once per site and month by its size
rule, units not sampled recently first; a move-in call a week after a resident is registered, once; agents
work the worklist to an outcome, a problem heard becomes a job; the outcomes counted in the KPIs against
hand-worked numbers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.campaigns import sample_size
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext, add_move_in_calls, draw_routine_samples

SITE_ZONE = ZoneInfo("Asia/Shanghai")


async def run_twice_at_once(db_url: str, clock: ManualClock, job) -> int:
    """The job run by two schedulers at the same moment; how many rows they made between them."""
    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    try:
        return sum(await asyncio.gather(*(job(JobContext(pool=p, clock=clock)) for p in pools)))
    finally:
        for p in pools:
            await p.close()


async def outcome(client: AsyncTestClient, headers: dict[str, str], call_id: str, **body):
    return await client.post(
        f"/api/v1/campaign-calls/{call_id}/outcome",
        json=body,
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def test_routine_sample_once_per_site_and_month_by_its_size_rule_recent_units_last(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    """5 % of the site's units rounded up, at least 3; two schedulers draw it once; next month's sample
    takes units not called this month first (the demo site has 20 times the sample or more: none repeats)."""
    assert (draw_routine_samples, 3600.0) in JOBS
    local = clock.now().astimezone(SITE_ZONE)
    clock.set(datetime.combine(local.date().replace(day=1), time(8, 0), tzinfo=SITE_ZONE))
    units = await db.fetchval(
        "SELECT count(*) FROM units u JOIN sites s ON s.id = u.site_id WHERE s.code = 'demo'"
    )
    size = sample_size(units)
    assert size == max(3, -(-units * 5 // 100))
    first = await run_twice_at_once(db_url, clock, draw_routine_samples)
    assert first >= size  # every site draws its own; demo's share is checked below
    assert await run_twice_at_once(db_url, clock, draw_routine_samples) == 0
    clock.advance(timedelta(days=20))
    assert await run_twice_at_once(db_url, clock, draw_routine_samples) == 0
    agent = await login_as("agent")
    page = (
        await client.get("/api/v1/campaign-calls", params={"site": "demo", "limit": 200}, headers=agent)
    ).json()
    assert page["total"] == size
    this_month = {c["unitId"] for c in page["items"]}
    period = page["items"][0]["period"]
    assert {c["campaign"] for c in page["items"]} == {"routine_sample"}
    assert all(c["ownerName"] for c in page["items"])
    clock.advance(timedelta(days=15))  # into next month in Shanghai
    await run_twice_at_once(db_url, clock, draw_routine_samples)
    page = (
        await client.get("/api/v1/campaign-calls", params={"site": "demo", "limit": 200}, headers=agent)
    ).json()
    next_month = {c["unitId"] for c in page["items"] if c["period"] != period}
    assert page["total"] == 2 * size
    assert len(next_month) == size and not (next_month & this_month)


async def test_move_in_call_a_week_after_registration_once_per_resident(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as, idem
) -> None:
    """A new tenant registered now is called after seven days, once; a family member gets no call."""
    admin = await login_as("admin")
    unit = (await client.get("/api/v1/units", params={"q": "B-204"}, headers=admin)).json()["items"][0]
    added = {}
    for name, relation in (("新租户陈", "tenant"), ("家属陈", "family")):
        r = await client.post(f"/api/v1/units/{unit['id']}/residents",
                              json={"name": name, "phone": "13900009999", "relation": relation},
                              headers={**admin, **idem()})  # fmt: skip
        assert r.status_code == 201, r.text
        added[relation] = r.json()["id"]
    # registered at the app's "now" (the registry stamps the database's clock, which the test cannot move)
    await db.execute("UPDATE residents SET created_at = $1 WHERE id = ANY($2::uuid[])", clock.now(),
                     list(added.values()))  # fmt: skip
    # everyone else on file moved in long ago
    await db.execute("UPDATE residents SET created_at = $1 WHERE NOT id = ANY($2::uuid[])",
                     clock.now() - timedelta(days=60), list(added.values()))  # fmt: skip
    assert (add_move_in_calls, 3600.0) in JOBS
    clock.advance(timedelta(days=6, hours=23))
    assert await run_twice_at_once(db_url, clock, add_move_in_calls) == 0
    clock.advance(timedelta(hours=2))
    assert await run_twice_at_once(db_url, clock, add_move_in_calls) == 1
    assert await run_twice_at_once(db_url, clock, add_move_in_calls) == 0
    agent = await login_as("agent")
    page = (await client.get("/api/v1/campaign-calls", params={"campaign": "move_in"}, headers=agent)).json()
    assert page["total"] == 1
    assert (page["items"][0]["residentName"], page["items"][0]["unitId"]) == ("新租户陈", unit["id"])


async def test_agent_works_campaign_calls_to_outcomes_and_the_kpis_count_them_hand_worked(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    """Of the month's sampled units (5 % of the demo site's, at least 3), the agent reaches one (satisfied 4,
    raises a dripping tap: a repair job for the unit), gets no answer at one, is refused at one.
    Hand-worked: worked 3, reached 1, no answer 1, refused 1, reach rate 1/3 = 0.3333, satisfaction 4.0 of 1
    rated, 1 follow-up, the rest still open."""
    local = clock.now().astimezone(SITE_ZONE)
    clock.set(datetime.combine(local.date().replace(day=1), time(8, 0), tzinfo=SITE_ZONE))
    await run_twice_at_once(db_url, clock, draw_routine_samples)
    units = await db.fetchval(
        "SELECT count(*) FROM units u JOIN sites s ON s.id = u.site_id WHERE s.code = 'demo'"
    )
    size = sample_size(units)
    agent, manager = await login_as("agent"), await login_as("manager")
    calls = (await client.get("/api/v1/campaign-calls", params={"site": "demo"}, headers=agent)).json()[
        "items"
    ]
    assert len(calls) == size
    clock.advance(timedelta(hours=2))
    problem = {"kind": "repair", "category": "water", "title": "厨房水龙头滴水"}
    reached = await outcome(client, agent, calls[0]["id"], outcome="reached", satisfaction=4,
                            notes="厨房龙头滴水", followUp=problem)  # fmt: skip
    assert reached.status_code == 200, reached.text
    job_id = reached.json()["followUpWorkOrderId"]
    job = (await client.get(f"/api/v1/work-orders/{job_id}", headers=agent)).json()
    assert (job["unitId"], job["kind"], job["title"]) == (calls[0]["unitId"], "repair", "厨房水龙头滴水")
    assert (await outcome(client, agent, calls[1]["id"], outcome="no_answer")).status_code == 200
    assert (
        await outcome(client, agent, calls[2]["id"], outcome="refused", notes="不愿接受回访")
    ).status_code == 200
    again = await outcome(client, agent, calls[0]["id"], outcome="no_answer")
    assert (again.status_code, again.json()["code"]) == (409, "campaign_call_done")
    wrong = await outcome(client, agent, calls[3]["id"], outcome="no_answer", satisfaction=5)
    assert (wrong.status_code, wrong.json()["field"]) == (422, "satisfaction")
    tech = await login_as("tech1")
    assert (await client.get("/api/v1/campaign-calls", headers=tech)).status_code == 403
    left = (await client.get("/api/v1/campaign-calls", params={"site": "demo"}, headers=agent)).json()
    worked = (
        await client.get("/api/v1/campaign-calls", params={"site": "demo", "done": "true"}, headers=agent)
    ).json()
    assert (left["total"], worked["total"]) == (size - 3, 3)
    day = clock.now().astimezone(SITE_ZONE).date().isoformat()
    r = await client.get(
        "/api/v1/reports/kpis", params={"site": "demo", "from": day, "to": day}, headers=manager
    )
    assert r.json()["campaigns"]["routineSample"] == {
        "campaign": "routine_sample", "worked": 3, "reached": 1, "noAnswer": 1, "refused": 1,
        "reachRate": 0.3333, "satisfactionAverage": 4.0, "rated": 1, "followUps": 1, "open": size - 3,
    }  # fmt: skip
    assert r.json()["campaigns"]["moveIn"]["worked"] == 0
