"""Site settings are checked where they are written; one estate's bad stored setting stops no job."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.domain.alarms import Alarm
from backend.domain.clock import ManualClock
from backend.scheduling import JobContext, escalate_unacknowledged_alarms, run_job
from tests.conftest import LoginAs
from tests.integration.alarm_fixtures import raise_device_alarm

SUPERVISOR_KEY = "alarmAckSupervisorSeconds"


async def _patch_settings(client: AsyncTestClient, headers: dict[str, str], settings: Any) -> Any:
    site = (await client.get("/api/v1/sites", params={"q": "demo"}, headers=headers)).json()["items"][0]
    return await client.patch(f"/api/v1/sites/{site['id']}", json={"settings": settings}, headers=headers)


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({SUPERVISOR_KEY: "sixty"}, f"settings.{SUPERVISOR_KEY}"),
        ({SUPERVISOR_KEY: 60.5}, f"settings.{SUPERVISOR_KEY}"),
        ({SUPERVISOR_KEY: -5}, f"settings.{SUPERVISOR_KEY}"),
        ({SUPERVISOR_KEY: 1e12}, f"settings.{SUPERVISOR_KEY}"),
        ({SUPERVISOR_KEY: True}, f"settings.{SUPERVISOR_KEY}"),
        ({SUPERVISOR_KEY: None}, f"settings.{SUPERVISOR_KEY}"),
        ({"alarmAckManagerSeconds": [180]}, "settings.alarmAckManagerSeconds"),
        ({"alarmAckSupervisorSecs": 30}, "settings.alarmAckSupervisorSecs"),
        ("60", "settings"),
    ],
)
async def test_a_bad_setting_is_refused_naming_it(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem, sent: Any, field: str
) -> None:
    r = await _patch_settings(client, {**await login_as("admin"), **idem()}, sent)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field
    assert await db.fetchval("SELECT settings FROM sites WHERE code = 'demo'") == {}


async def test_good_settings_are_stored_and_a_manager_before_the_supervisor_is_refused(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem
) -> None:
    admin = await login_as("admin")
    r = await _patch_settings(client, {**admin, **idem()}, {SUPERVISOR_KEY: 30})
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {SUPERVISOR_KEY: 30}
    assert await db.fetchval("SELECT settings FROM sites WHERE code = 'demo'") == {SUPERVISOR_KEY: 30}

    # 200 s for the supervisor against the default 180 s for the manager: the manager would hear first
    r = await _patch_settings(client, {**admin, **idem()}, {SUPERVISOR_KEY: 200})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "settings.alarmAckManagerSeconds"
    assert await db.fetchval("SELECT settings FROM sites WHERE code = 'demo'") == {SUPERVISOR_KEY: 30}


async def _second_site_with_an_elevator(db: asyncpg.Connection, settings: dict[str, Any]) -> None:
    site_id = await db.fetchval(
        "INSERT INTO sites (code, name, settings) VALUES ('north', '北苑', $1) RETURNING id", settings
    )
    await db.execute(
        "INSERT INTO devices (id, site_id, kind, name) VALUES ('elev-n1', $1, 'elevator', '北苑1号梯')",
        site_id,
    )


async def _entrapment(db: asyncpg.Connection, device_id: str, clock: ManualClock) -> Alarm:
    return await raise_device_alarm(db, device_id=device_id, code="ELEVATOR_ENTRAPMENT", now=clock.now())


async def _escalation_level(db: asyncpg.Connection, alarm_id: object) -> int:
    return await db.fetchval("SELECT escalation_level FROM alarms WHERE id = $1", alarm_id)


@pytest.mark.parametrize("bad", ["sixty", 60.5, -5, 1e12, True, {"nested": 1}])
async def test_a_bad_stored_setting_does_not_stop_alarm_escalation_anywhere(
    client: AsyncTestClient,
    app: Litestar,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    bad: Any,
) -> None:
    # written before validation existed (or by hand): the API would refuse it today
    await _second_site_with_an_elevator(db, {SUPERVISOR_KEY: bad, "alarmAckManagerSeconds": 120})
    demo_alarm = await _entrapment(db, "elev-a1", clock)
    north_alarm = await _entrapment(db, "elev-n1", clock)
    ctx = JobContext(pool=pool, clock=clock, health=app.state.job_health)

    clock.advance(60)
    with caplog.at_level(logging.ERROR):
        assert await run_job(escalate_unacknowledged_alarms, ctx) == 2
    assert await _escalation_level(db, demo_alarm.id) == 1
    # the bad key takes its default (60 s); the good one beside it still counts (120 s, not 180 s)
    assert await _escalation_level(db, north_alarm.id) == 1
    clock.advance(60)
    assert await run_job(escalate_unacknowledged_alarms, ctx) == 1
    assert await _escalation_level(db, north_alarm.id) == 2
    assert await _escalation_level(db, demo_alarm.id) == 1

    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("escalate_unacknowledged_alarms" in m and "north" in m and SUPERVISOR_KEY in m for m in logged)
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "degraded"
    assert [(j["job"], j["site"]) for j in ready["jobs"]] == [("escalate_unacknowledged_alarms", "north")]
    assert SUPERVISOR_KEY in ready["jobs"][0]["error"]

    # once the setting is mended, the next run clears the entry
    await db.execute("UPDATE sites SET settings = '{}' WHERE code = 'north'")
    await run_job(escalate_unacknowledged_alarms, ctx)
    ready = (await client.get("/ready")).json()
    assert ready["status"] == "ok" and ready["jobs"] == []


async def test_a_failing_alarm_is_skipped_and_the_others_escalate(
    client: AsyncTestClient,
    app: Litestar,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
) -> None:
    await _second_site_with_an_elevator(db, {})
    demo_alarm = await _entrapment(db, "elev-a1", clock)
    north_alarm = await _entrapment(db, "elev-n1", clock)
    # north's escalation cannot be written (as if its row were broken), demo's can
    await db.execute(
        """CREATE FUNCTION refuse_north() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               IF NEW.payload->>'deviceId' = 'elev-n1' THEN RAISE EXCEPTION 'refused'; END IF;
               RETURN NEW;
           END $$"""
    )
    await db.execute(
        """CREATE TRIGGER refuse_north BEFORE INSERT ON alarm_events
           FOR EACH ROW EXECUTE FUNCTION refuse_north()"""
    )
    ctx = JobContext(pool=pool, clock=clock, health=app.state.job_health)
    clock.advance(60)
    assert await run_job(escalate_unacknowledged_alarms, ctx) == 1
    assert await _escalation_level(db, demo_alarm.id) == 1
    assert await _escalation_level(db, north_alarm.id) == 0
    jobs = (await client.get("/ready")).json()["jobs"]
    assert [(j["site"], j["subject"]) for j in jobs] == [("north", f"alarm {north_alarm.id}")]
