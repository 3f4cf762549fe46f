"""Building notices from maintenance work: a job on a lift of a building marked "tell the residents" sends
one notice to each resident of the building (however often it is marked or retried), puts the building's
vulnerable residents on the guard's visit list, logs the messages in the case's history, and tells them
"restored" once when the job is completed. A maintenance plan carrying the flag announces each job it
generates a day ahead, once, with two schedulers running."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.notify.owner_outbox import OwnerOutbox
from backend.notify.sms import SmsConfig, TencentSms
from backend.scheduling import JOBS, JobContext
from backend.services.job_notices import announce_planned_work_job
from backend.services.maintenance import generate_planned_maintenance
from tests.integration.work_order_evidence import act, complete_repair, user_id
from tests.owners.fake_sms_provider import FakeSmsProvider
from tests.owners.test_outages import _building_phones


def _key(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


async def _lift(db: asyncpg.Connection) -> asyncpg.Record:
    return await db.fetchrow(
        """SELECT a.id, a.building_id, b.name AS building
           FROM assets a JOIN buildings b ON b.id = a.building_id
           WHERE a.kind = 'elevator' ORDER BY a.code LIMIT 1"""
    )


def _sent(fake_sms: FakeSmsProvider, sms_config: SmsConfig, kind: str) -> list[str]:
    return sorted(
        s.phone.removeprefix("+86") for s in fake_sms.accepted if s.template == sms_config.templates[kind]
    )


async def test_a_marked_job_tells_each_resident_once_and_restored_once_when_completed(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
    login_as,
) -> None:
    lift = await _lift(db)
    phones = await _building_phones(db, lift["building_id"])
    assert len(phones) > 10
    agent, supervisor, guard = await login_as("agent"), await login_as("supervisor"), await login_as("guard1")
    r = await client.post(
        "/api/v1/work-orders",
        json={"kind": "repair", "category": "elevator", "channel": "phone", "title": "电梯更换曳引钢丝绳",
              "assetId": str(lift["id"])},
        headers=_key(agent),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    assert (await client.get(f"/api/v1/work-orders/{job}/resident-notice", headers=agent)).status_code == 404
    vulnerable = await db.fetchval(
        """UPDATE residents SET vulnerable = true, vulnerable_need = '轮椅出行'
           WHERE id = (SELECT r.id FROM residents r JOIN units u ON u.id = r.unit_id
                       WHERE u.building_id = $1 ORDER BY u.floor DESC, u.number LIMIT 1) RETURNING id""",
        lift["building_id"],
    )
    starts = day_clock.now() + timedelta(minutes=30)
    body = {
        "kind": "lift",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=3)).isoformat(),
        "note": "更换钢丝绳，请走楼梯",
    }
    # the guard does not tell residents; the agent does, and a retry or a second mark tells nobody again
    assert (
        await client.post(f"/api/v1/work-orders/{job}/resident-notice", json=body, headers=_key(guard))
    ).status_code == 403
    headers = _key(agent)
    first = await client.post(f"/api/v1/work-orders/{job}/resident-notice", json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post(f"/api/v1/work-orders/{job}/resident-notice", json=body, headers=headers)
    other = {**body, "kind": "water"}
    remarked = await client.post(
        f"/api/v1/work-orders/{job}/resident-notice", json=other, headers=_key(supervisor)
    )
    notice = first.json()
    assert again.json()["id"] == remarked.json()["id"] == notice["id"]
    assert remarked.json()["kind"] == "lift" and notice["recipients"] == len(phones)

    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None, batch_size=500)
    await outbox.run_once(db)
    assert _sent(fake_sms, sms_config, "planned_outage") == phones
    told = next(s for s in fake_sms.accepted if s.template == sms_config.templates["planned_outage"])
    assert told.params[1] == lift["building"] and told.params[2] == "停梯"
    # logged in the case's history, where the desk reads it
    history = (await client.get(f"/api/v1/work-orders/{job}/owner-messages?limit=200", headers=agent)).json()
    assert {m["kind"] for m in history["items"]} == {"planned_outage"}
    assert history["total"] == len(phones)

    # the building's vulnerable residents are on the guard's visit list for the window
    visits = (await client.get("/api/v1/outage-visits", headers=guard)).json()
    planned = next(i for i in visits["items"] if i["id"] == notice["id"])
    assert planned["source"] == "planned" and planned["what"] == "lift"
    assert str(vulnerable) in [r["residentId"] for r in planned["residents"]]

    # the job is done: "restored" once to each resident
    tech = await login_as("tech1")
    assert (
        await act(client, supervisor, job, "assign", {"assigneeId": await user_id(db, "tech1")})
    ).status_code == 200
    for action in ("accept", "depart", "arrive"):
        assert (await act(client, tech, job, action)).status_code == 200
    r = await complete_repair(client, db, tech, job)
    assert r.status_code == 200, r.text
    await outbox.run_once(db)
    assert _sent(fake_sms, sms_config, "building_restored") == phones
    restored = (await client.get(f"/api/v1/work-orders/{job}/resident-notice", headers=agent)).json()
    assert restored["restoredAt"] is not None
    # over: off the visit list, and marking it again tells nobody
    visits = (await client.get("/api/v1/outage-visits", headers=guard)).json()
    assert notice["id"] not in [i["id"] for i in visits["items"]]
    await client.post(f"/api/v1/work-orders/{job}/resident-notice", json=body, headers=_key(agent))
    await outbox.run_once(db)
    assert len(_sent(fake_sms, sms_config, "planned_outage")) == len(phones)


async def test_a_job_not_on_a_building_asset_is_refused(
    client: AsyncTestClient, db: asyncpg.Connection, day_clock: ManualClock, login_as
) -> None:
    agent = await login_as("agent")
    r = await client.post(
        "/api/v1/work-orders",
        json={"kind": "complaint", "category": "attitude", "channel": "phone", "title": "门岗态度差"},
        headers=_key(agent),
    )
    assert r.status_code == 201, r.text
    starts = day_clock.now() + timedelta(hours=1)
    body = {
        "kind": "water",
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=1)).isoformat(),
    }
    r = await client.post(
        f"/api/v1/work-orders/{r.json()['id']}/resident-notice", json=body, headers=_key(agent)
    )
    assert r.status_code == 422 and r.json()["field"] == "workOrderId"


async def test_a_plan_announces_its_jobs_a_day_ahead_once_with_two_schedulers(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    db_url: str,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
    login_as,
) -> None:
    assert (announce_planned_work_job, 300.0) in JOBS
    lift = await _lift(db)
    phones = await _building_phones(db, lift["building_id"])
    supervisor = await login_as("supervisor")
    site_today = await db.fetchval(
        "SELECT ($1::timestamptz AT TIME ZONE timezone)::date FROM sites WHERE code = 'demo'", day_clock.now()
    )
    r = await client.post(
        "/api/v1/maintenance-plans",
        json={"assetId": str(lift["id"]), "title": "电梯半月保养", "intervalDays": 15, "leadDays": 2,
              "firstDueOn": (site_today + timedelta(days=2)).isoformat()},
        headers=_key(supervisor),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    plan = r.json()["id"]
    agent = await login_as("agent")
    notice = {"kind": "lift", "leadHours": 24, "windowHours": 4}
    assert (
        await client.put(f"/api/v1/maintenance-plans/{plan}/resident-notice", json=notice, headers=agent)
    ).status_code == 403
    r = await client.put(f"/api/v1/maintenance-plans/{plan}/resident-notice", json=notice, headers=supervisor)
    assert r.status_code == 200, r.text

    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=day_clock) for p in pools]
    try:
        await generate_planned_maintenance(contexts[0])
        job = await db.fetchval("SELECT id FROM work_orders WHERE plan_id = $1::uuid", plan)
        assert job is not None
        # 10:00 today; the work starts at 09:00 the day after tomorrow: not a day ahead yet
        assert sum(await asyncio.gather(*(announce_planned_work_job(c) for c in contexts))) == 0
        day_clock.advance(timedelta(hours=23, minutes=1))
        assert sum(await asyncio.gather(*(announce_planned_work_job(c) for c in contexts))) == 1
        assert sum(await asyncio.gather(*(announce_planned_work_job(c) for c in contexts))) == 0
    finally:
        for p in pools:
            await p.close()
    row = await db.fetchrow(
        "SELECT kind, starts_at, ends_at FROM planned_outages WHERE work_order_id = $1", job
    )
    assert row["kind"] == "lift" and row["ends_at"] - row["starts_at"] == timedelta(hours=4)
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None, batch_size=500)
    await outbox.run_once(db)
    assert _sent(fake_sms, sms_config, "planned_outage") == phones
    # cancelled: "restored" once
    for _ in range(2):
        await act(client, supervisor, str(job), "cancel", {"reason": "改期"})
    await outbox.run_once(db)
    assert _sent(fake_sms, sms_config, "building_restored") == phones
