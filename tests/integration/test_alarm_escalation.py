"""Acknowledging alarms and the escalation ladder, driven by a movable clock on a real database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.scheduling import JobContext, escalate_unacknowledged_alarms
from tests.conftest import LoginAs
from tests.integration.alarm_fixtures import clear_device_alarm, raise_device_alarm


async def _escalation_recipients(db: asyncpg.Connection, alarm_id: object) -> dict[int, set[str]]:
    rows = await db.fetch(
        """SELECT (n.data->>'level')::int AS level, u.username FROM notifications n
           JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'escalation' AND n.data->>'alarmId' = $1""",
        str(alarm_id),
    )
    told: dict[int, set[str]] = {}
    for r in rows:
        told.setdefault(r["level"], set()).add(r["username"])
    return told


RunJob = Callable[[], Awaitable[int]]
AlarmPost = Callable[..., Awaitable[Response]]


@pytest.fixture
def run_job(pool: asyncpg.Pool, clock: ManualClock) -> Callable[[], Awaitable[int]]:
    """Run the escalation job once at the clock's current time; returns how many steps it took."""
    return lambda: escalate_unacknowledged_alarms(JobContext(pool=pool, clock=clock))


@pytest.fixture
def alarm_post(client: AsyncTestClient, login_as: LoginAs, idem) -> AlarmPost:
    """`await alarm_post(alarm_id, "ack", "guard1")`: an action on an alarm by a demo user, with a fresh
    Idempotency-Key unless `key` (a header) is given."""

    async def _post(
        alarm_id: object, action: str, username: str, *, key: dict[str, str] | None = None, json=None
    ) -> Response:
        headers = {**await login_as(username), **(key or idem())}
        return await client.post(f"/api/v1/alarms/{alarm_id}/{action}", headers=headers, json=json)

    return _post


async def test_unacknowledged_alarm_goes_to_supervisor_at_60s_and_manager_at_180s(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    clock: ManualClock,
    run_job: RunJob,
    login_as: LoginAs,
) -> None:
    alarm = await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())

    clock.advance(59)
    assert await run_job() == 0
    assert await _escalation_recipients(db, alarm.id) == {}

    clock.advance(1)
    assert await run_job() == 1
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}}
    # running again (another replica, the next tick) repeats nothing
    assert await run_job() == 0

    clock.advance(119)
    assert await run_job() == 0
    clock.advance(1)
    assert await run_job() == 1
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}, 2: {"manager"}}

    assert await db.fetchval("SELECT escalation_level FROM alarms WHERE id = $1", alarm.id) == 2
    history = await db.fetch(
        "SELECT payload FROM alarm_events WHERE alarm_id = $1 AND action = 'escalated' ORDER BY id", alarm.id
    )
    assert [h["payload"]["role"] for h in history] == ["supervisor", "manager"]
    urgencies = await db.fetch("SELECT DISTINCT urgency FROM notifications WHERE kind = 'escalation'")
    assert [r["urgency"] for r in urgencies] == ["high"]
    stream_types = [
        r["type"]
        for r in await db.fetch("SELECT type FROM stream_events WHERE data->>'alarmId' = $1", str(alarm.id))
    ]
    assert stream_types == ["escalation", "escalation"]
    # the event carries the alarm as alarm.* events do (one id field, `alarm.id`), at its new level
    events = await db.fetch(
        "SELECT data FROM stream_events WHERE type = 'escalation' AND data->>'alarmId' = $1 ORDER BY id",
        str(alarm.id),
    )
    assert [(e["data"]["alarm"]["id"], e["data"]["alarm"]["escalationLevel"]) for e in events] == [
        (str(alarm.id), 1),
        (str(alarm.id), 2),
    ]
    assert [e["data"]["alarm"]["escalatesTo"] for e in events] == ["manager", None]


async def test_ack_before_the_deadline_stops_the_chain_and_records_the_time(
    db: asyncpg.Connection, clock: ManualClock, run_job: RunJob, alarm_post: AlarmPost
) -> None:
    raised_at = clock.now()
    alarm = await raise_device_alarm(db, device_id="leak-1", code="WATER_LEAK", now=raised_at)

    clock.advance(30)
    r = await alarm_post(alarm.id, "ack", "guard1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ackedAt"] is not None
    guard_id = await db.fetchval("SELECT id FROM users WHERE username = 'guard1'")
    assert body["ackedBy"] == str(guard_id)
    acked_at = await db.fetchval("SELECT acked_at FROM alarms WHERE id = $1", alarm.id)
    assert acked_at - raised_at == timedelta(seconds=30)

    clock.advance(600)
    assert await run_job() == 0
    assert await _escalation_recipients(db, alarm.id) == {}

    # the acknowledgement is on the alarm's history and on the live stream
    actions = [
        r["action"]
        for r in await db.fetch("SELECT action FROM alarm_events WHERE alarm_id = $1 ORDER BY id", alarm.id)
    ]
    assert actions[-1] == "acked"
    payload = await db.fetchval(
        "SELECT payload FROM alarm_events WHERE alarm_id = $1 AND action = 'acked'", alarm.id
    )
    assert payload["secondsToAck"] == 30.0
    updated = await db.fetchval(
        """SELECT data FROM stream_events WHERE type = 'alarm.updated' AND data->>'id' = $1
           ORDER BY id DESC LIMIT 1""",
        str(alarm.id),
    )
    assert updated["ackedAt"] is not None


async def test_ack_between_the_steps_stops_the_manager_step(
    db: asyncpg.Connection, clock: ManualClock, run_job: RunJob, alarm_post: AlarmPost
) -> None:
    alarm = await raise_device_alarm(db, device_id="pump-1", code="PUMP_FAILURE", now=clock.now())
    clock.advance(90)
    assert await run_job() == 1
    r = await alarm_post(alarm.id, "ack", "supervisor")
    assert r.status_code == 200, r.text
    clock.advance(300)
    assert await run_job() == 0
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}}


async def test_a_late_job_takes_every_missed_step(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, run_job: RunJob
) -> None:
    alarm = await raise_device_alarm(db, device_id="mains-1", code="MAINS_LOSS", now=clock.now())
    clock.advance(200)
    assert await run_job() == 2
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}, 2: {"manager"}}


async def test_site_settings_change_the_deadlines(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, run_job: RunJob
) -> None:
    await db.execute(
        "UPDATE sites SET settings = settings || $1 WHERE code = 'demo'",
        {"alarmAckSupervisorSeconds": 20, "alarmAckManagerSeconds": 40},
    )
    alarm = await raise_device_alarm(db, device_id="elev-b1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    clock.advance(20)
    assert await run_job() == 1
    clock.advance(20)
    assert await run_job() == 1
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}, 2: {"manager"}}


async def test_second_ack_is_a_conflict_and_resolve_closes_the_alarm(
    db: asyncpg.Connection, clock: ManualClock, run_job: RunJob, alarm_post: AlarmPost
) -> None:
    alarm = await raise_device_alarm(db, device_id="elev-c1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    clock.advance(10)
    key = {"Idempotency-Key": "ack-once"}
    first = await alarm_post(alarm.id, "ack", "guard1", key=key)
    assert first.status_code == 200
    replay = await alarm_post(alarm.id, "ack", "guard1", key=key)
    assert replay.status_code == 200 and replay.json() == first.json()
    second = await alarm_post(alarm.id, "ack", "guard2")
    assert second.status_code == 409
    assert second.json()["code"] == "alarm_already_acknowledged"

    clock.advance(300)
    r = await alarm_post(alarm.id, "resolve", "guard1", json={"note": "freed"})
    assert r.status_code == 200, r.text
    assert r.json()["resolvedAt"] is not None and r.json()["open"] is False
    again = await alarm_post(alarm.id, "resolve", "guard2")
    assert again.status_code == 409


async def test_who_may_acknowledge(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    clock: ManualClock,
    run_job: RunJob,
    login_as: LoginAs,
    idem,
) -> None:
    alarm = await raise_device_alarm(db, device_id="elev-a2", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    r = await client.post(f"/api/v1/alarms/{alarm.id}/ack", headers={**await login_as("agent"), **idem()})
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/alarms/{uuid_of_nothing()}/ack", headers={**await login_as("guard1"), **idem()}
    )
    assert r.status_code == 404
    r = await client.post(f"/api/v1/alarms/{alarm.id}/ack", headers=idem())
    assert r.status_code == 401


def uuid_of_nothing() -> str:
    """An id no alarm has."""
    return "00000000-0000-4000-8000-000000000000"


async def test_a_reraise_needs_acknowledging_afresh_and_climbs_the_ladder_again(
    db: asyncpg.Connection, clock: ManualClock, run_job: RunJob
) -> None:
    alarm = await raise_device_alarm(db, device_id="elev-b1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    clock.advance(180)
    assert await run_job() == 2
    assert await _escalation_recipients(db, alarm.id) == {1: {"supervisor"}, 2: {"manager"}}

    # the lift frees itself, then traps someone again within the cool-down: the same alarm re-opens
    await clear_device_alarm(db, device_id="elev-b1", code="ELEVATOR_ENTRAPMENT", now=clock.advance(10))
    again = await raise_device_alarm(
        db, device_id="elev-b1", code="ELEVATOR_ENTRAPMENT", now=clock.advance(20)
    )
    assert again.id == alarm.id
    assert await db.fetchval("SELECT escalation_level FROM alarms WHERE id = $1", alarm.id) == 0

    clock.advance(59)
    assert await run_job() == 0
    clock.advance(1)
    assert await run_job() == 1
    rows = await db.fetch(
        """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'escalation' AND n.data->>'alarmId' = $1 AND (n.data->>'level')::int = 1""",
        str(alarm.id),
    )
    # the supervisor is told of the first occurrence and of the re-raise: two messages, not one
    assert sorted(r["username"] for r in rows) == ["supervisor", "supervisor"]
