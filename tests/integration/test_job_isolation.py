"""One bad site or row never stops a periodic job for everyone else: it is skipped, named in /ready's job
faults (and the log), and the job's other work is done."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.notify.dispatcher import PushSender, send_due_notifications
from backend.notify.vapid import ensure_vapid_keys
from backend.scheduling import JobContext, run_job, send_daily_digests
from backend.services import alarms
from backend.services.alarms import watch_device_heartbeats
from backend.services.escalation import escalate_due_clocks
from backend.services.job_health import JobHealth
from backend.services.maintenance import generate_planned_maintenance
from tests.conftest import LoginAs
from tests.integration.work_order_evidence import act, create, user_id


@pytest.fixture
def health() -> JobHealth:
    """Where the jobs of one test report what they skipped."""
    return JobHealth()


def faults(health: JobHealth) -> list[tuple[str, str | None, str]]:
    """(job, site, subject) of every fault of every job's latest run."""
    return [(f.job, f.site, f.subject) for f in health.faults()]


async def _site_on_mars(db: asyncpg.Connection) -> uuid.UUID:
    """A site whose time zone neither Python nor PostgreSQL knows (stored before it was checked), with an
    elevator and staff, so every site-by-site job has something to do there."""
    site = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ('mars', '火星苑', 'Mars/Olympus') RETURNING id"
    )
    await db.execute(
        """INSERT INTO assets (site_id, code, name, kind) VALUES ($1, 'ELEV-M1', '火星1号梯', 'elevator')""",
        site,
    )
    await db.execute(
        "INSERT INTO user_sites (user_id, site_id) SELECT id, $1 FROM users WHERE username = 'supervisor'",
        site,
    )
    return site


async def _refuse_inserts(db: asyncpg.Connection, table: str, condition: str) -> None:
    """Make one row's work fail the way a broken row would: an insert the database refuses."""
    await db.execute(
        f"""CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {condition} THEN RAISE EXCEPTION 'this row is broken'; END IF;
                RETURN NEW;
            END $$"""
    )
    await db.execute(
        f"CREATE TRIGGER refuse_one BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_one()"
    )


async def test_sla_escalation_skips_a_failing_clock_and_tries_it_again(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
    login_as: LoginAs,
) -> None:
    agent = await login_as("agent")
    tech1 = await user_id(db, "tech1")
    broken = await create(client, agent, kind="emergency", title="水管爆裂")
    fine = await create(client, agent, kind="emergency", title="电梯困人")
    for wo in (broken, fine):
        assert (await act(client, agent, wo["id"], "assign", {"assigneeId": tech1})).status_code == 200
    await _refuse_inserts(
        db, "work_order_events", f"NEW.work_order_id = '{broken['id']}' AND NEW.action = 'sla_breached'"
    )
    health = JobHealth()
    ctx = JobContext(pool=pool, clock=clock, health=health)

    clock.advance(timedelta(minutes=6))  # respond (5 min) is past due for both
    assert await run_job(escalate_due_clocks, ctx) == 1
    breached = {
        str(r["work_order_id"]): r["breached_at"]
        for r in await db.fetch(
            "SELECT work_order_id, breached_at FROM work_order_clocks WHERE clock = 'respond'"
        )
    }
    assert breached[fine["id"]] is not None and breached[broken["id"]] is None
    assert faults(health) == [("escalate_due_clocks", "demo", f"respond clock of work order {broken['id']}")]

    await db.execute("DROP TRIGGER refuse_one ON work_order_events")
    assert await run_job(escalate_due_clocks, ctx) == 1  # the skipped breach is still due: it is taken now
    assert faults(health) == []


async def test_planned_maintenance_goes_on_past_a_bad_site_and_a_bad_plan(
    db: asyncpg.Connection, pool: asyncpg.Pool, health: JobHealth
) -> None:
    await _site_on_mars(db)
    # only the elevators get plans here (every kind with an interval is in test_maintenance.py)
    await db.execute("UPDATE assets SET maintenance_days = NULL WHERE kind <> 'elevator'")
    clock = ManualClock()
    ctx = JobContext(pool=pool, clock=clock, health=health)
    assert await run_job(generate_planned_maintenance, ctx) == 0
    assert await db.fetchval("SELECT count(*) FROM maintenance_plans") == 6  # demo's elevators
    # a plan stored with a crontab that no longer parses, due today
    await db.execute(
        """INSERT INTO maintenance_plans (site_id, asset_id, title, cron, lead_days, next_due_on)
           SELECT site_id, id, '水泵保养', 'every full moon', 0, current_date
           FROM assets WHERE code = 'PUMP-1'"""
    )
    clock.advance(timedelta(days=14))  # demo's elevator periods come within their two lead days
    assert await run_job(generate_planned_maintenance, ctx) == 6
    assert sorted(faults(health)) == [  # the bad site is found while listing the sites, before any plan
        ("generate_planned_maintenance", "demo", f"maintenance plan {await _plan_id(db, '水泵保养')}"),
        ("generate_planned_maintenance", "mars", "timezone"),
    ]


async def _plan_id(db: asyncpg.Connection, title: str) -> uuid.UUID:
    return await db.fetchval("SELECT id FROM maintenance_plans WHERE title = $1", title)


async def test_the_daily_digest_goes_out_past_a_bad_site(
    db: asyncpg.Connection, pool: asyncpg.Pool, health: JobHealth
) -> None:
    await _site_on_mars(db)
    # 10:00 in Shanghai today: demo's digest for yesterday is due
    clock = ManualClock(datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0))
    ctx = JobContext(pool=pool, clock=clock, health=health)
    assert await run_job(send_daily_digests, ctx) == 1
    sites = await db.fetch(
        "SELECT DISTINCT s.code FROM notifications n JOIN sites s ON s.id = n.site_id WHERE kind = 'digest'"
    )
    assert [r["code"] for r in sites] == ["demo"]
    assert faults(health) == [("send_daily_digests", "mars", "daily digest (the next run retries)")]


async def test_a_device_written_offline_time_does_not_stop_the_inspections(
    db: asyncpg.Connection, pool: asyncpg.Pool, health: JobHealth
) -> None:
    clock = ManualClock()
    devices = await alarms.lookup_devices(db, ["tank-1", "tank-2"])
    # an offline event whose detail a device wrote: `offlineSince` is no time at all
    for device_id, detail in (("tank-1", {"offlineSince": "since Tuesday"}), ("tank-2", {})):
        async with db.transaction():
            await alarms.record_device_event(
                db,
                devices[device_id],
                event_id=str(uuid.uuid4()),
                code="DEVICE_OFFLINE",
                state="raised",
                ts=clock.now(),
                detail=detail,
                now=clock.now(),
            )
    clock.advance(timedelta(minutes=11))
    assert await run_job(watch_device_heartbeats, JobContext(pool=pool, clock=clock, health=health)) == (
        0,
        2,
    )
    inspected = await db.fetch(
        "SELECT a.device_id FROM work_orders w JOIN alarms a ON a.id = w.alarm_id WHERE w.kind = 'inspection'"
    )
    assert sorted(r["device_id"] for r in inspected) == ["tank-1", "tank-2"]
    assert faults(health) == []


async def test_a_notification_that_cannot_be_pushed_fails_alone(
    db: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(await db.fetchval("SELECT clock_timestamp()") + timedelta(seconds=1))
    guard = await user_id(db, "guard1")
    # written by older code: data is a list where the dispatcher reads an object
    ids = [
        await db.fetchval(
            """INSERT INTO notifications (recipient_id, kind, title, data, next_attempt_at)
               VALUES ($1, 'alarm', $2, $3, now() - interval '1 minute') RETURNING id""",
            uuid.UUID(guard),
            title,
            data,
        )
        for title, data in (("坏的", [1, 2]), ("好的", {"alarmId": str(uuid.uuid4())}))
    ]
    sender = PushSender(await ensure_vapid_keys(pool), "http://127.0.0.1")
    report = await send_due_notifications(pool, sender, clock)
    assert report.failed == [ids[0]] and report.sent == [ids[1]]
    rows = {
        r["id"]: r for r in await db.fetch("SELECT id, sent_at, failed_at, last_error FROM notifications")
    }
    assert rows[ids[0]]["failed_at"] is not None and rows[ids[0]]["last_error"].startswith("unsendable")
    assert rows[ids[1]]["sent_at"] is not None
