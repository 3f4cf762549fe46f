"""Emergency plans that run themselves: an entrapment alarm's emergency job carries the plan as a timed
checklist (due times from the alarm, who ticked each step and when, once); a power cut lists the vulnerable
residents of the building hit; a manager's own plan replaces the default for later emergencies. Drills and
training are registered, and a site without a drill of a scenario within a year is reminded once per
period with two schedulers running."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.alarm_codes import ALARM_CODES, EMERGENCY_SCENARIO
from backend.domain.clock import ManualClock
from backend.domain.emergency import DEFAULT_STEPS, SCENARIOS
from backend.scheduling import JOBS, JobContext
from backend.services.emergency import remind_missing_drills_job
from tests.integration.alarm_fixtures import raise_device_alarm


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def tick(client: AsyncTestClient, headers: dict[str, str], step_id: str, **body: Any) -> Any:
    return await client.post(f"/api/v1/emergency-steps/{step_id}/done", json=body, headers=keyed(headers))


def test_every_emergency_alarm_names_a_plan_and_every_plan_has_steps() -> None:
    for code, scenario in EMERGENCY_SCENARIO.items():
        assert ALARM_CODES[code].work_order_kind == "emergency" and scenario in SCENARIOS
    assert all(DEFAULT_STEPS[s] for s in SCENARIOS)


async def test_an_entrapment_runs_its_plan_as_a_timed_checklist(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    guard, tech = await login_as("guard1"), await login_as("tech1")
    raised_at = clock.now()
    alarm = await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=raised_at)
    order_id = await db.fetchval("SELECT id FROM work_orders WHERE alarm_id = $1", alarm.id)

    r = await client.get(f"/api/v1/alarms/{alarm.id}/checklist", headers=guard)
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["scenario"] == "entrapment" and plan["workOrderId"] == str(order_id)
    assert [s["labelEn"] for s in plan["steps"]][:3] == [
        "Talk to the passengers on the intercom",
        "Call the lift contractor",
        "Technician on site",
    ]
    on_site = plan["steps"][2]
    assert on_site["role"] == "technician"
    # TSG T5002: on site within 30 minutes of the alarm
    assert datetime.fromisoformat(on_site["dueAt"]) == raised_at + timedelta(minutes=30)
    assert not any(s["overdue"] or s["doneAt"] for s in plan["steps"])
    assert [p["number"] for p in plan["phones"]][1:] == ["119", "110", "120"]
    # the same checklist on the work order
    same = (await client.get(f"/api/v1/work-orders/{order_id}/checklist", headers=tech)).json()
    assert [s["id"] for s in same["steps"]] == [s["id"] for s in plan["steps"]]

    # the guard talks to the passengers two minutes in, offline, and the phone's time is the record
    talked = raised_at + timedelta(minutes=2)
    clock.advance(timedelta(minutes=4))
    r = await tick(client, guard, plan["steps"][0]["id"], clientAt=talked.isoformat())
    assert r.status_code == 200, r.text
    first = r.json()["steps"][0]
    assert datetime.fromisoformat(first["doneAt"]) == talked and first["doneByName"]
    # a second tick (by anyone) keeps the first record
    again = (await tick(client, tech, plan["steps"][0]["id"])).json()["steps"][0]
    assert again["doneAt"] == first["doneAt"] and again["doneBy"] == first["doneBy"]

    # past 30 minutes with nobody on site: the step is overdue, from the server's due time
    clock.advance(timedelta(minutes=30))
    late = (await client.get(f"/api/v1/alarms/{alarm.id}/checklist", headers=guard)).json()["steps"]
    assert late[2]["overdue"] is True and late[0]["overdue"] is False
    done = (await tick(client, tech, late[2]["id"])).json()["steps"][2]
    assert done["overdue"] is False and datetime.fromisoformat(done["doneAt"]) == clock.now()
    rows = await db.fetch(
        "SELECT position, done_at, done_by FROM emergency_steps WHERE work_order_id = $1 ORDER BY position",
        order_id,
    )
    assert [r["position"] for r in rows if r["done_at"]] == [1, 3]

    # an agent does not run plans; another site's step is not found
    agent = await login_as("agent")
    assert (await tick(client, agent, late[3]["id"])).status_code == 403
    assert (await tick(client, guard, str(uuid.uuid4()))).status_code == 404


async def test_a_power_cut_lists_the_vulnerable_residents_of_the_building_hit(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    guard = await login_as("guard1")
    # the switchgear in this test feeds building 1 only
    building = await db.fetchrow("SELECT id, code FROM buildings ORDER BY code LIMIT 1")
    await db.execute("UPDATE assets SET building_id = $1 WHERE code = 'SWG-1'", building["id"])
    expected = await db.fetchval(
        """SELECT count(*) FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE r.vulnerable AND u.building_id = $1""",
        building["id"],
    )
    assert expected > 0
    # before any emergency a guard sees none
    alarm = await raise_device_alarm(db, device_id="mains-1", code="MAINS_LOSS", now=clock.now())
    plan = (await client.get(f"/api/v1/alarms/{alarm.id}/checklist", headers=guard)).json()
    assert plan["scenario"] == "power_cut" and plan["welfareVisits"] is True
    r = await client.get(f"/api/v1/alarms/{alarm.id}/welfare-visits", headers=guard)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == expected
    assert {v["buildingCode"] for v in page["items"]} == {building["code"]}
    assert all(v["phone"] and v["masked"] is False for v in page["items"])
    logged = await db.fetchval(
        "SELECT count(*) FROM personal_data_reads WHERE endpoint LIKE '%welfare-visits'"
    )
    assert logged == expected
    # a leak's plan asks for no welfare visits
    leak = await raise_device_alarm(db, device_id="leak-1", code="WATER_LEAK", now=clock.now())
    assert (await client.get(f"/api/v1/alarms/{leak.id}/welfare-visits", headers=guard)).json()["total"] == 0


async def test_a_manager_edits_the_site_plan_for_later_emergencies(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    manager, guard = await login_as("manager"), await login_as("guard1")
    plans = (await client.get("/api/v1/emergency-plans", headers=guard)).json()
    assert [p["scenario"] for p in plans["items"]] == list(SCENARIOS)
    assert not any(p["custom"] for p in plans["items"])
    body = {
        "steps": [
            {"labelZh": "对讲安抚", "labelEn": "Intercom", "role": "guard", "dueMinutes": 3},
            {"labelZh": "维保到场", "labelEn": "Contractor on site", "role": "technician", "dueMinutes": 25},
        ],
        "phones": [{"labelZh": "维保公司", "labelEn": "Lift contractor", "number": "400-800-1234"}],
    }
    assert (
        await client.put("/api/v1/emergency-plans/entrapment", json=body, headers=guard)
    ).status_code == 403
    bad = await client.put("/api/v1/emergency-plans/entrapment", json={**body, "colour": 1}, headers=manager)
    assert (
        bad.status_code == 400 and bad.json()["code"] == "unknown_field" and bad.json()["field"] == "colour"
    )
    r = await client.put("/api/v1/emergency-plans/entrapment", json=body, headers=manager)
    assert r.status_code == 200, r.text
    assert r.json()["custom"] is True
    alarm = await raise_device_alarm(db, device_id="elev-a2", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    plan = (await client.get(f"/api/v1/alarms/{alarm.id}/checklist", headers=guard)).json()
    assert [s["labelEn"] for s in plan["steps"]] == ["Intercom", "Contractor on site"]
    assert plan["phones"][0]["number"] == "400-800-1234"


async def test_drills_and_training_are_registered(
    client: AsyncTestClient, clock: ManualClock, login_as
) -> None:
    manager, guard = await login_as("manager"), await login_as("guard1")
    held = (clock.now() - timedelta(days=10)).date().isoformat()
    drill = {
        "scenario": "fire",
        "heldOn": held,
        "participants": ["王强", "李娜"],
        "timings": [{"label": "1栋全部撤离", "minutes": 6.5}],
        "evaluation": "疏散有序",
        "actions": "2栋安全出口指示灯更换",
    }
    assert (await client.post("/api/v1/drills", json=drill, headers=keyed(guard))).status_code == 403
    r = await client.post("/api/v1/drills", json=drill, headers=keyed(manager))
    assert r.status_code == 201, r.text
    assert r.json()["timings"] == [{"label": "1栋全部撤离", "minutes": 6.5}]
    future = {**drill, "heldOn": (clock.now() + timedelta(days=3)).date().isoformat()}
    assert (await client.post("/api/v1/drills", json=future, headers=keyed(manager))).status_code == 422
    page = (await client.get("/api/v1/drills", headers=manager)).json()
    assert page["total"] == 1 and page["items"][0]["recordedByName"]
    r = await client.post(
        "/api/v1/trainings",
        json={"topic": "灭火器使用", "heldOn": held, "attendees": ["王强"], "trainer": "消防站"},
        headers=keyed(manager),
    )
    assert r.status_code == 201, r.text
    assert (await client.get("/api/v1/trainings", headers=manager)).json()["total"] == 1


async def test_a_missing_drill_is_reminded_once_per_period_with_two_schedulers(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    assert (remind_missing_drills_job, 3600.0) in JOBS
    manager = await login_as("manager")
    sites = await db.fetchval("SELECT count(*) FROM sites")
    # every scenario but fire was drilled a month ago; fire never
    for scenario in ("entrapment", "flooding", "power_cut"):
        held = (clock.now() - timedelta(days=30)).date().isoformat()
        r = await client.post(
            "/api/v1/drills", json={"scenario": scenario, "heldOn": held}, headers=keyed(manager)
        )
        assert r.status_code == 201, r.text
    demo = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")

    async def told() -> list[str]:
        rows = await db.fetch(
            """SELECT n.data->>'scenario' AS scenario
               FROM notifications n JOIN users u ON u.id = n.recipient_id
               WHERE n.kind = 'drill_due' AND n.site_id = $1 AND u.username = 'manager' ORDER BY n.id""",
            demo,
        )
        return [r["scenario"] for r in rows]

    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]
    try:
        first = sum(await asyncio.gather(*(remind_missing_drills_job(c) for c in contexts)))
        # every site is due for fire (the other sites for everything); the demo site for fire alone
        assert first == 4 * sites - 3
        assert await told() == ["fire"]
        assert sum(await asyncio.gather(*(remind_missing_drills_job(c) for c in contexts))) == 0
        # eleven months on: still inside the year for the three drilled scenarios
        clock.advance(timedelta(days=300))
        assert sum(await asyncio.gather(*(remind_missing_drills_job(c) for c in contexts))) == 0
        # past the year: each of the three falls due once
        clock.advance(timedelta(days=40))
        assert sum(await asyncio.gather(*(remind_missing_drills_job(c) for c in contexts))) == 3
        assert sum(await asyncio.gather(*(remind_missing_drills_job(c) for c in contexts))) == 0
    finally:
        for p in pools:
            await p.close()
    assert sorted(await told()) == ["entrapment", "fire", "flooding", "power_cut"]


async def test_a_fire_reported_by_hand_runs_its_plan_once(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    guard, agent, tech = await login_as("guard1"), await login_as("agent"), await login_as("tech1")
    report = {"scenario": "fire", "location": "3栋12楼走廊", "description": "有烟"}
    assert (await client.post("/api/v1/emergencies", json=report, headers=keyed(tech))).status_code == 403
    headers = keyed(guard)
    r = await client.post("/api/v1/emergencies", json=report, headers=headers)
    assert r.status_code == 201, r.text
    body = r.json()
    # the phone retries with the same key: one emergency, the same answer
    again = await client.post("/api/v1/emergencies", json=report, headers=headers)
    assert again.json()["workOrderId"] == body["workOrderId"]
    order = await db.fetchrow("SELECT * FROM work_orders WHERE id = $1", uuid.UUID(body["workOrderId"]))
    assert (order["kind"], order["category"], order["channel"]) == ("emergency", "fire_safety", "patrol")
    assert order["location"] == "3栋12楼走廊" and order["alarm_id"] is None
    plan = body["checklist"]
    assert plan["scenario"] == "fire" and plan["alarmId"] is None
    assert [s["labelZh"] for s in plan["steps"]] == [s.label_zh for s in DEFAULT_STEPS["fire"]]
    first_due = DEFAULT_STEPS["fire"][0].due_minutes
    assert datetime.fromisoformat(plan["steps"][0]["dueAt"]) == clock.now() + timedelta(minutes=first_due)
    assert "119" in [p["number"] for p in plan["phones"]]

    # the same checklist on the job; a step ticked there is recorded with who and when
    same = (await client.get(f"/api/v1/work-orders/{order['id']}/checklist", headers=tech)).json()
    assert [s["id"] for s in same["steps"]] == [s["id"] for s in plan["steps"]]
    clock.advance(timedelta(minutes=1))
    done = (await tick(client, guard, plan["steps"][0]["id"])).json()["steps"][0]
    assert datetime.fromisoformat(done["doneAt"]) == clock.now() and done["doneByName"]

    # the desk reports an entrapment phoned in: its channel is the phone
    r = await client.post(
        "/api/v1/emergencies", json={"scenario": "entrapment", "location": "2栋1号梯"}, headers=keyed(agent)
    )
    assert r.status_code == 201, r.text
    assert (
        await db.fetchval("SELECT channel FROM work_orders WHERE id = $1", uuid.UUID(r.json()["workOrderId"]))
        == "phone"
    )

    # the console lists both while they are open, the fire with its tick
    listed = (await client.get("/api/v1/emergencies", headers=guard)).json()
    by_id = {i["workOrderId"]: i for i in listed["items"]}
    assert listed["total"] == 2 and body["workOrderId"] in by_id
    assert by_id[body["workOrderId"]]["checklist"]["steps"][0]["doneAt"] == done["doneAt"]
    await db.execute("UPDATE work_orders SET status = 'cancelled' WHERE id = $1", order["id"])
    assert (await client.get("/api/v1/emergencies", headers=guard)).json()["total"] == 1
    bad = await client.post("/api/v1/emergencies", json={"scenario": "earthquake"}, headers=keyed(guard))
    assert bad.status_code in (400, 422)


async def test_the_dashboard_names_the_scenarios_not_drilled_within_a_year(
    client: AsyncTestClient, clock: ManualClock, login_as
) -> None:
    manager, guard = await login_as("manager"), await login_as("guard1")
    assert (await client.get("/api/v1/drills/due", headers=guard)).status_code == 403
    due = (await client.get("/api/v1/drills/due", headers=manager)).json()
    assert [i["scenario"] for i in due["items"]] == list(SCENARIOS)
    assert all(i["lastHeldOn"] is None for i in due["items"])
    recent = (clock.now() - timedelta(days=30)).date().isoformat()
    old = (clock.now() - timedelta(days=400)).date().isoformat()
    for scenario, held in (("fire", recent), ("flooding", old)):
        r = await client.post(
            "/api/v1/drills", json={"scenario": scenario, "heldOn": held}, headers=keyed(manager)
        )
        assert r.status_code == 201, r.text
    due = (await client.get("/api/v1/drills/due?site=demo", headers=manager)).json()
    items = {i["scenario"]: i for i in due["items"]}
    assert sorted(items) == ["entrapment", "flooding", "power_cut"]
    assert items["flooding"]["lastHeldOn"] == old and items["flooding"]["labelZh"] == "水浸/爆管"
