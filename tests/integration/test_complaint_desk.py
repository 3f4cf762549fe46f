"""The complaint desk's rules on the server, each named after the seed rule it checks (seeds-digest
§2.2, §3.1, §3.2; DOMAIN.md "Complaint"), with the clocks read in the site's zone (Asia/Shanghai) from the
injected clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.integration.work_order_evidence import (
    act,
    complete_repair,
    create,
    user_id,
)

SITE_ZONE = ZoneInfo("Asia/Shanghai")


def clock_of(wo: dict, name: str) -> dict:
    return next(c for c in wo["clocks"] if c["clock"] == name)


async def complaint(client: AsyncTestClient, headers: dict[str, str], **fields) -> dict:
    return await create(
        client, headers, kind="complaint", category="repair_delay", title="报修三天没人来", **fields
    )


async def test_respond_clock_met_by_the_first_reply_not_by_naming_a_handler_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §3.1 row 4: a first reply to the owner within 24 h; an internal step does not count."""
    agent = await login_as("agent")
    wo = await complaint(client, agent, building="A", unitNumber="302")
    assert datetime.fromisoformat(clock_of(wo, "respond")["dueAt"]) == clock.now() + timedelta(hours=24)
    assert datetime.fromisoformat(clock_of(wo, "resolve")["dueAt"]) == clock.now() + timedelta(hours=72)
    r = await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    assert clock_of(r.json(), "respond")["state"] == "running"
    clock.advance(timedelta(hours=2))
    r = await act(client, agent, wo["id"], "investigate", {"findings": "派单给了休假师傅"})
    assert clock_of(r.json(), "respond")["state"] == "running"
    clock.advance(timedelta(hours=23))
    r = await act(client, agent, wo["id"], "reply", {"via": "phone", "summary": "致电致歉"})
    respond = clock_of(r.json(), "respond")
    assert (respond["state"], respond["lateMinutes"]) == ("met_late", 60)
    assert r.json()["respondedAt"] is not None


async def test_same_day_investigation_due_at_the_end_of_the_receiving_day_in_the_site_zone_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §3.1 row 16: a walk-in or phone complaint is investigated the same day (当日进行调查), the day
    being the site's: received at 23:30 in Shanghai, due at midnight there; done at 00:10 it is late."""
    local_today = clock.now().astimezone(SITE_ZONE).date()
    clock.set(datetime.combine(local_today, time(23, 30), tzinfo=SITE_ZONE))
    agent = await login_as("agent")
    wo = await complaint(client, agent, building="A", unitNumber="303")
    due = datetime.fromisoformat(clock_of(wo, "investigate")["dueAt"])
    assert due == datetime.combine(local_today + timedelta(days=1), time(0), tzinfo=SITE_ZONE)
    await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    clock.advance(timedelta(minutes=40))
    r = await act(client, agent, wo["id"], "investigate", {"findings": "夜间来电，次日凌晨核实"})
    investigate = clock_of(r.json(), "investigate")
    assert (investigate["state"], investigate["lateMinutes"]) == ("met_late", 10)


async def test_complaint_callback_within_3_days_by_someone_other_than_the_handler_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §3.2 row 5: complainants are called back within three days, 100 %; DOMAIN.md: not by the
    handler. The callback clock starts when the owner is told the result."""
    agent, agent2 = await login_as("agent"), await login_as("agent2")
    wo = await complaint(client, agent, building="A", unitNumber="304")
    await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    await act(client, agent, wo["id"], "investigate", {"findings": "属实"})
    await act(client, agent, wo["id"], "solve", {"solution": "当天修复"})
    done = await act(client, agent, wo["id"], "inform", {"via": "sms", "summary": "已修复"})
    told_at = datetime.fromisoformat(done.json()["completedAt"])
    assert datetime.fromisoformat(clock_of(done.json(), "callback")["dueAt"]) == told_at + timedelta(days=3)
    assert "callback" not in done.json()["allowedActions"]
    own = await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert (own.status_code, own.json()["code"]) == (403, "own_work")
    seen = (await client.get(f"/api/v1/work-orders/{wo['id']}", headers=agent2)).json()
    assert "callback" in seen["allowedActions"]
    for step in ("depart", "arrive", "sign", "accept"):
        assert step not in seen["allowedActions"]
    r = await act(client, agent2, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert r.json()["status"] == "closed"
    assert clock_of(r.json(), "callback")["state"] == "met"


async def test_manual_escalation_goes_to_the_manager_and_starts_the_apology_call_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Digest §2.2: major complaints go up to management (需上报管理层), who call to apologise
    (管理層親自致電道歉). Escalated by hand, the complaint is on management's list and the manager is told."""
    agent, manager = await login_as("agent"), await login_as("manager")
    wo = await complaint(client, agent, building="B", unitNumber="101")
    r = await act(
        client, agent, wo["id"], "escalate", {"reason": "agitated", "to": "manager", "note": "业主要求见经理"}
    )
    assert r.status_code == 200, r.text
    record = r.json()["resolution"]
    assert (record["escalatedTo"], record["escalationReason"]) == ("manager", "agitated")
    assert record["managementTask"]["kind"] == "apology_call"
    told = await db.fetch(
        """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'complaint_escalation' AND n.data->>'workOrderId' = $1""",
        wo["id"],
    )
    assert "manager" in {t["username"] for t in told}
    listed = await client.get(
        "/api/v1/work-orders", params={"escalated": "true", "site": "demo"}, headers=manager
    )
    assert [w["id"] for w in listed.json()["items"]] == [wo["id"]]
    # a bad reason is refused with a stable code, naming the field
    bad = await act(client, agent, wo["id"], "escalate", {"reason": "bored"})
    assert bad.status_code in (400, 422) and bad.json()["field"] == "reason"


async def test_a_major_complaint_tells_the_manager_at_once_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Digest §2.2: 对于重大投诉,需上报管理层 — at intake, before anyone handles it."""
    agent, manager = await login_as("agent"), await login_as("manager")
    wo = await complaint(client, agent, building="B", unitNumber="102", major=True)
    told = await db.fetchval(
        """SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'major_complaint' AND u.username = 'manager' AND n.data->>'workOrderId' = $1""",
        wo["id"],
    )
    assert told == 1
    listed = await client.get("/api/v1/work-orders", params={"escalated": "true"}, headers=manager)
    assert wo["id"] in [w["id"] for w in listed.json()["items"]]


async def test_repeat_complaint_from_the_same_unit_within_30_days_is_flagged_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """DOMAIN.md "Complaint": escalate when it repeats — so a repeat is flagged; 30 days is the window."""
    agent = await login_as("agent")
    first = await complaint(client, agent, building="C", unitNumber="201")
    assert "repeatOf" not in first["resolution"]
    clock.advance(timedelta(days=29))
    again = await complaint(client, agent, building="C", unitNumber="201")
    assert again["resolution"]["repeatOf"] == {"id": first["id"], "number": first["number"]}
    other_home = await complaint(client, agent, building="C", unitNumber="202")
    assert "repeatOf" not in other_home["resolution"]
    clock.advance(timedelta(days=31))
    later = await complaint(client, agent, building="C", unitNumber="202")
    assert "repeatOf" not in later["resolution"]


async def handled_complaint(client, db, agent, unit: str) -> str:
    """A complaint taken, handled by `agent` and its result told: its follow-up call is due."""
    wo = await complaint(client, agent, building="C", unitNumber=unit)
    await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    await act(client, agent, wo["id"], "investigate", {"findings": "属实"})
    await act(client, agent, wo["id"], "solve", {"solution": "已修复"})
    r = await act(client, agent, wo["id"], "inform", {"via": "phone", "summary": "已告知"})
    assert r.status_code == 200, r.text
    return wo["id"]


async def test_callback_drivers_weighted_32_28_20_and_nps_against_hand_worked_numbers_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §7: speed 32 %, attitude 28 %, facility maintenance 20 % of satisfaction (the other 20 % is not
    attributed, so the weights are rescaled to their 80 %); NPS = promoters (9-10) minus detractors (0-6).

    Hand-worked: speed (5+3+4)/3 = 4.00; attitude (4+4+5)/3 = 4.33; quality (3+5)/2 = 4.00 (one owner not
    asked); weighted (32*4 + 28*4.333 + 20*4)/80 = 4.12; recommend 10, 6, 8: one promoter, one detractor,
    NPS 0.0; overall satisfaction (5+4+4)/3 = 4.33.
    """
    agent, agent2, manager = await login_as("agent"), await login_as("agent2"), await login_as("manager")
    answers = [
        {"satisfaction": 5, "speed": 5, "attitude": 4, "quality": 3, "recommend": 10},
        {"satisfaction": 4, "speed": 3, "attitude": 4, "quality": 5, "recommend": 6},
        {"satisfaction": 4, "speed": 4, "attitude": 5, "recommend": 8},
    ]
    for unit, given in zip(("401", "402", "403"), answers, strict=True):
        wo_id = await handled_complaint(client, db, agent, unit)
        r = await act(client, agent2, wo_id, "callback", {"reached": True, **given})
        assert r.status_code == 200, r.text
        assert r.json()["callbacks"][-1]["speed"] == given["speed"]
    # an owner not reached gave no answers
    wo_id = await handled_complaint(client, db, agent, "404")
    refused = await act(client, agent2, wo_id, "callback", {"reached": False, "recommend": 9})
    assert refused.status_code == 422 and refused.json()["field"] == "recommend"

    today = clock.now().astimezone(SITE_ZONE).date().isoformat()
    report = await client.get(
        "/api/v1/reports/kpis", params={"site": "demo", "from": today, "to": today}, headers=manager
    )
    assert report.status_code == 200, report.text
    s = report.json()["satisfaction"]
    assert (s["ratings"], s["average"]) == (3, 4.33)
    assert (s["speed"], s["attitude"], s["quality"], s["weighted"]) == (4.0, 4.33, 4.0, 4.12)
    assert (s["recommendAnswers"], s["promoters"], s["detractors"], s["nps"]) == (3, 1, 1, 0.0)


async def test_complaint_desk_kpis_against_hand_worked_numbers_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §3.1 rows 3, 4, 16 as KPIs: first reply within 24 h, same-day investigation, resolution within
    72 h (also by category), the handling rate, repeats and hand escalations — over complaints received in
    the period, a clock counting once decided (met, or past due).

    Hand-worked, t0 = today 10:00 in Shanghai, report at t0 + 26 h (tomorrow 12:00):
    C1 repair_delay, A-501: investigated t0+1h, replied t0+2h, told t0+3h — everything on time, handled.
    C2 attitude, A-502: investigated and replied t0+25h — reply 1 h late; investigation due at midnight, late.
    C3 repair_delay, A-501 again at t0+25h: a repeat, escalated by hand; none of its clocks decided yet.
    received 3, handled 1 (0.3333); first reply 1 of 2; investigation 1 of 2; resolution 1 of 1;
    repair_delay 2 received, resolution 1 of 1; attitude 1 received, nothing decided; repeats 1, escalated 1.
    """
    local_today = clock.now().astimezone(SITE_ZONE).date()
    clock.set(datetime.combine(local_today, time(10, 0), tzinfo=SITE_ZONE))
    agent, manager = await login_as("agent"), await login_as("manager")
    me = await user_id(db, "agent")
    c1 = await create(client, agent, kind="complaint", category="repair_delay", title="C1",
                      building="A", unitNumber="501")  # fmt: skip
    c2 = await create(client, agent, kind="complaint", category="attitude", title="C2",
                      building="A", unitNumber="502")  # fmt: skip
    for wo in (c1, c2):
        await act(client, agent, wo["id"], "assign", {"assigneeId": me})
    clock.advance(timedelta(hours=1))
    await act(client, agent, c1["id"], "investigate", {"findings": "属实"})
    clock.advance(timedelta(hours=1))
    await act(client, agent, c1["id"], "reply", {"via": "phone", "summary": "致歉"})
    await act(client, agent, c1["id"], "solve", {"solution": "修复"})
    clock.advance(timedelta(hours=1))
    assert (
        await act(client, agent, c1["id"], "inform", {"via": "phone", "summary": "已告知"})
    ).status_code == 200
    clock.advance(timedelta(hours=22))
    await act(client, agent, c2["id"], "investigate", {"findings": "属实"})
    await act(client, agent, c2["id"], "reply", {"via": "sms", "summary": "致歉"})
    c3 = await create(client, agent, kind="complaint", category="repair_delay", title="C3",
                      building="A", unitNumber="501")  # fmt: skip
    assert c3["resolution"]["repeatOf"]["id"] == c1["id"]
    await act(client, agent, c3["id"], "escalate", {"reason": "repeated", "to": "supervisor"})
    clock.advance(timedelta(hours=1))

    period = {
        "site": "demo",
        "from": local_today.isoformat(),
        "to": (local_today + timedelta(days=1)).isoformat(),
    }
    r = await client.get("/api/v1/reports/kpis", params=period, headers=manager)
    assert r.status_code == 200, r.text
    desk = r.json()["desk"]
    assert (desk["received"], desk["handled"], desk["handlingRate"]) == (3, 1, 0.3333)
    assert desk["firstReply"] == {"due": 2, "onTime": 1, "rate": 0.5}
    assert desk["investigation"] == {"due": 2, "onTime": 1, "rate": 0.5}
    assert desk["resolution"] == {"due": 1, "onTime": 1, "rate": 1.0}
    assert desk["byCategory"] == [
        {"category": "repair_delay", "received": 2, "resolution": {"due": 1, "onTime": 1, "rate": 1.0}},
        {"category": "attitude", "received": 1, "resolution": {"due": 0, "onTime": 0, "rate": None}},
    ]
    assert (desk["repeats"], desk["escalated"]) == (1, 1)


async def finish_field_job(client, db, wo: dict, tech: dict[str, str]) -> dict:
    """Accept, arrive, photograph and complete a public-area job; returns the completed work order."""
    for step in ("accept", "arrive"):
        assert (await act(client, tech, wo["id"], step)).status_code == 200
    r = await complete_repair(client, db, tech, wo["id"])
    assert r.status_code == 200, r.text
    return r.json()


async def test_no_callback_for_a_sensor_raised_emergency_with_nobody_behind_it_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """DOMAIN.md "Callbacks": a callback is a call to a person — a sensor-raised emergency with no reporter
    opens no callback clock, so nothing breaches, escalates or drags the callback KPI down."""
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, kind="emergency", category="water", channel="sensor",
                      title="泵房漏水", building=None, unitNumber=None, site="demo", location="2号泵房",
                      inHome=False)  # fmt: skip
    done = await finish_field_job(client, db, wo, tech1)
    assert "callback" not in {c["clock"] for c in done["clocks"]}
    assert (await client.get("/api/v1/callbacks", headers=agent)).json()["total"] == 0


async def test_closing_a_job_settles_its_open_callback_clock_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """DOMAIN.md "Callbacks": closing a job settles the follow-up call still owed — waived, off the queue."""
    agent, tech1, supervisor = await login_as("agent"), await login_as("tech1"), await login_as("supervisor")
    wo = await create(client, agent, building=None, unitNumber=None, site="demo", location="1栋大堂",
                      reporterName="王业主", reporterPhone="13900000001", inHome=False)  # fmt: skip
    done = await finish_field_job(client, db, wo, tech1)
    assert clock_of(done, "callback")["state"] == "running"
    assert (await client.get("/api/v1/callbacks", headers=agent)).json()["total"] == 1
    r = await act(client, supervisor, wo["id"], "close", {"reason": "业主已当面确认"})
    assert r.json()["status"] == "closed"
    # nothing is owed any more: the clock is gone or waived, never left running to breach
    assert all(c["state"] == "waived" for c in r.json()["clocks"] if c["clock"] == "callback")
    assert r.json()["events"][-1]["payload"]["callbackSettled"] is True
    assert (await client.get("/api/v1/callbacks", headers=agent)).json()["total"] == 0


async def test_repair_p4_within_the_seeds_4_h_respond_24_h_arrive_seed_rule(
    client: AsyncTestClient, login_as, clock: ManualClock
) -> None:
    """Digest §3.1 rows 1-2: respond within 4 h and reach every repair within 24 h; P4 is no looser."""
    wo = await create(client, await login_as("agent"), priority="P4", building="A", unitNumber="701")
    assert datetime.fromisoformat(clock_of(wo, "respond")["dueAt"]) == clock.now() + timedelta(hours=4)
    assert datetime.fromisoformat(clock_of(wo, "arrive")["dueAt"]) == clock.now() + timedelta(hours=24)


async def test_missed_appointment_flagged_supervisor_told_and_kept_rate_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """Digest §3.1 row 18: a missed appointment (维修预约后未按时到达) is a complaint cause: arrival is
    compared with the time agreed with the owner (30 min grace), a miss is flagged and the supervisor told.

    Hand-worked, t0 = today 10:00 in Shanghai, report at t0 + 4 h: R1 agreed t0+2h, arrived t0+2h20 (kept);
    R2 agreed t0+2h, arrived t0+3h (missed, 60 min); R3 agreed t0+3h, nobody by t0+3h30 (missed);
    R4 agreed t0+3h45, not yet decided. Appointments due 3, kept 1, missed 2, rate 0.3333.
    """
    local_today = clock.now().astimezone(SITE_ZONE).date()
    t0 = datetime.combine(local_today, time(10, 0), tzinfo=SITE_ZONE)
    clock.set(t0)
    agent, tech1, manager = await login_as("agent"), await login_as("tech1"), await login_as("manager")
    agreed = {"601": t0 + timedelta(hours=2), "602": t0 + timedelta(hours=2),
              "603": t0 + timedelta(hours=3), "604": t0 + timedelta(hours=3, minutes=45)}  # fmt: skip
    jobs = {}
    for unit, at in agreed.items():
        jobs[unit] = await create(client, agent, building="A", unitNumber=unit, appointmentRequested=True,
                                  appointmentAt=at.isoformat())  # fmt: skip
        assert (await act(client, tech1, jobs[unit]["id"], "accept")).status_code == 200
    clock.set(t0 + timedelta(hours=2, minutes=20))
    kept = await act(client, tech1, jobs["601"]["id"], "arrive")
    assert "missedAppointment" not in kept.json()["resolution"]
    clock.set(t0 + timedelta(hours=3))
    missed = await act(client, tech1, jobs["602"]["id"], "arrive")
    assert missed.json()["resolution"]["missedAppointment"]["lateMinutes"] == 60
    assert missed.json()["events"][-1]["payload"]["missedAppointment"] is True
    told = await db.fetchval(
        """SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'missed_appointment' AND u.username = 'supervisor'
             AND n.data->>'workOrderId' = $1""",
        jobs["602"]["id"],
    )
    assert told == 1
    clock.set(t0 + timedelta(hours=4))
    r = await client.get(
        "/api/v1/reports/kpis",
        params={"site": "demo", "from": local_today.isoformat(), "to": local_today.isoformat()},
        headers=manager,
    )
    assert r.json()["appointments"] == {"due": 3, "kept": 1, "missed": 2, "rate": 0.3333}


async def test_a_neighbour_dispute_is_mediated_first_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """DOMAIN.md "Complaint": neighbour disputes (noise, leaks between floors, parking) are mediated first
    (先调解、后处理): no solution without a mediation record naming both parties."""
    agent = await login_as("agent")
    catalogue = (await client.get("/api/v1/catalogue")).json()
    assert "neighbour_leak" in catalogue["choices"]["mediationFirst"]
    wo = await create(client, agent, kind="complaint", category="neighbour_leak", title="楼上漏水到我家",
                      building="B", unitNumber="602")  # fmt: skip
    await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    await act(client, agent, wo["id"], "investigate", {"findings": "B-702 卫生间防水层破损"})
    refused = await act(client, agent, wo["id"], "solve", {"solution": "维修防水层"})
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("mediation_required", "mediation")
    mediation = {"parties": "B-602 业主、B-702 业主", "agreed": "702 业主承担防水维修，物业协助"}
    r = await act(client, agent, wo["id"], "solve", {"solution": "维修防水层", "mediation": mediation})
    assert r.status_code == 200, r.text
    assert r.json()["resolution"]["mediation"] == mediation
    # an ordinary complaint needs no mediation
    other = await complaint(client, agent, building="B", unitNumber="603")
    await act(client, agent, other["id"], "assign", {"assigneeId": await user_id(db, "agent")})
    await act(client, agent, other["id"], "investigate", {"findings": "属实"})
    assert (await act(client, agent, other["id"], "solve", {"solution": "修复"})).status_code == 200
