"""GET /api/v1/reports/kpis against a known set of work orders, clocks, callbacks and alarms.

Every expected number below is worked out by hand from the rows in `known_estate` (comments show the sums).
The report covers March 1-14 of report_rows.YEAR in Asia/Shanghai; "now" is 03-14 21:00 there, set on the
app's clock.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.integration import report_rows as rows
from tests.integration.report_rows import at, day

NOW = at("03-14 21:00")
PERIOD = {"site": "kpi", "from": day("03-01"), "to": day("03-14")}
MEMBERS = ("manager", "supervisor", "agent", "tech1", "tech2", "tech3")


async def known_estate(db: asyncpg.Connection) -> None:
    """The rows every KPI below is computed from."""
    site = await rows.make_site(db, "kpi", MEMBERS)
    wo, clk, cb = rows.work_order, rows.clock, rows.callback

    # W1 repair, tech1: respond 20, arrive 90, resolve 300 min; every clock on time; rated 5.
    w1 = await wo(
        db,
        site,
        "W1",
        "repair",
        "closed",
        "electrical",
        "03-02 09:00",
        assignee="tech1",
        responded="03-02 09:20",
        arrived="03-02 10:30",
        completed="03-02 14:00",
        closed="03-03 11:00",
    )
    await clk(db, w1, "respond", "03-02 09:30", "03-02 09:20")
    await clk(db, w1, "arrive", "03-02 11:00", "03-02 10:30")
    await clk(db, w1, "resolve", "03-03 09:00", "03-02 14:00")
    await clk(db, w1, "callback", "03-03 14:00", "03-03 10:00")
    await cb(db, w1, 1, "03-03 10:00", satisfaction=5)

    # W2 repair, tech1: respond 50 (late), arrive 180 (late), resolve 1560 (late); reopened once; rated 2.
    w2 = await wo(
        db,
        site,
        "W2",
        "repair",
        "completed",
        "water",
        "03-05 08:00",
        assignee="tech1",
        responded="03-05 08:50",
        arrived="03-05 11:00",
        completed="03-06 10:00",
        reopen_count=1,
    )
    await clk(db, w2, "respond", "03-05 08:30", "03-05 08:50")
    await clk(db, w2, "arrive", "03-05 10:00", "03-05 11:00")
    await clk(db, w2, "resolve", "03-06 08:00", "03-06 10:00")
    await clk(db, w2, "callback", "03-07 10:00", "03-07 09:00")
    await cb(db, w2, 1, "03-07 09:00", satisfaction=2)

    # W3 emergency, tech2: respond 3, arrive 25, resolve 120; all on time.
    w3 = await wo(
        db,
        site,
        "W3",
        "emergency",
        "signed",
        "elevator",
        "03-10 20:00",
        priority=1,
        assignee="tech2",
        responded="03-10 20:03",
        arrived="03-10 20:25",
        completed="03-10 22:00",
    )
    await clk(db, w3, "respond", "03-10 20:05", "03-10 20:03")
    await clk(db, w3, "arrive", "03-10 20:30", "03-10 20:25")
    await clk(db, w3, "resolve", "03-11 00:00", "03-10 22:00")

    # W4 complaint (attitude): respond 360, resolve 1440, called back within 3 days, rated 4.
    w4 = await wo(
        db,
        site,
        "W4",
        "complaint",
        "closed",
        "attitude",
        "03-03 10:00",
        assignee="agent",
        responded="03-03 16:00",
        completed="03-04 10:00",
        closed="03-06 10:00",
    )
    await clk(db, w4, "respond", "03-04 10:00", "03-03 16:00")
    await clk(db, w4, "resolve", "03-06 10:00", "03-04 10:00")
    await clk(db, w4, "callback", "03-07 10:00", "03-06 09:00")
    await cb(db, w4, 1, "03-06 09:00", satisfaction=4)

    # W5 complaint (fee dispute): respond 1620 (late), resolve 2880 (on time); first call not reached,
    # the second (rated 3) came after the 3-day window closed on 03-13 09:00.
    w5 = await wo(
        db,
        site,
        "W5",
        "complaint",
        "completed",
        "fee_dispute",
        "03-08 09:00",
        assignee="agent",
        responded="03-09 12:00",
        completed="03-10 09:00",
    )
    await clk(db, w5, "respond", "03-09 09:00", "03-09 12:00")
    await clk(db, w5, "resolve", "03-11 09:00", "03-10 09:00")
    await clk(db, w5, "callback", "03-13 09:00", "03-14 10:00")
    await cb(db, w5, 1, "03-11 10:00", reached=False)
    await cb(db, w5, 2, "03-14 10:00", satisfaction=3)

    # W6 complaint (attitude), nobody responded: respond clock past due (late, and overdue now).
    w6 = await wo(db, site, "W6", "complaint", "assigned", "attitude", "03-12 15:00", assignee="agent")
    await clk(db, w6, "respond", "03-13 15:00")
    await clk(db, w6, "resolve", "03-15 15:00")

    # W7 repair, tech2: responded in 60 min; arrival due after the period.
    w7 = await wo(
        db,
        site,
        "W7",
        "repair",
        "accepted",
        "doors_windows",
        "03-14 18:00",
        priority=3,
        assignee="tech2",
        responded="03-14 19:00",
    )
    await clk(db, w7, "respond", "03-14 22:00", "03-14 19:00")
    await clk(db, w7, "arrive", "03-15 18:00")
    await clk(db, w7, "resolve", "03-17 18:00")

    # W8 maintenance, tech3, cancelled: counted by kind and status, its clock ignored.
    w8 = await wo(
        db, site, "W8", "maintenance", "cancelled", "other", "03-01 08:00", priority=3, assignee="tech3"
    )
    await clk(db, w8, "respond", "03-01 12:00")

    # W9 inspection, new: its respond clock falls due later today, so it is not decided yet.
    w9 = await wo(db, site, "W9", "inspection", "new", "other", "03-13 10:00")
    await clk(db, w9, "respond", "03-14 23:00")

    # W11 repair, tech3, paused: respond 60, arrive 240 (both on time); the paused resolve clock is not late.
    w11 = await wo(
        db,
        site,
        "W11",
        "repair",
        "paused",
        "structure",
        "03-11 08:00",
        priority=3,
        assignee="tech3",
        responded="03-11 09:00",
        arrived="03-11 12:00",
    )
    await clk(db, w11, "respond", "03-11 12:00", "03-11 09:00")
    await clk(db, w11, "arrive", "03-11 12:30", "03-11 12:00")
    await clk(db, w11, "resolve", "03-12 08:00", paused_since="03-11 15:00")

    # Before the period. W10: tech1 still on site, resolve clock overdue since 02-21 10:00.
    w10 = await wo(
        db,
        site,
        "W10",
        "repair",
        "on_site",
        "water",
        "02-20 10:00",
        assignee="tech1",
        responded="02-20 10:10",
        arrived="02-20 11:00",
    )
    await clk(db, w10, "respond", "02-20 10:30", "02-20 10:10")
    await clk(db, w10, "arrive", "02-20 12:00", "02-20 11:00")
    await clk(db, w10, "resolve", "02-21 10:00")
    # W12: a rating given before the period does not count.
    w12 = await wo(
        db,
        site,
        "W12",
        "repair",
        "closed",
        "water",
        "02-25 09:00",
        assignee="tech1",
        responded="02-25 09:10",
        completed="02-26 09:00",
        closed="02-27 12:00",
    )
    await cb(db, w12, 1, "02-27 10:00", satisfaction=1)
    # Complaints of the previous period (02-15..02-28) for the trend; W15 is older still.
    await wo(db, site, "W13", "complaint", "closed", "attitude", "02-16 10:00", completed="02-17 10:00")
    await wo(db, site, "W14", "complaint", "closed", "facilities", "02-27 10:00", completed="02-28 10:00")
    await wo(db, site, "W15", "complaint", "closed", "repair_delay", "02-10 10:00", completed="02-11 10:00")

    # Alarms: four acknowledged after 30, 45, 90 and 150 s, one never; one before the period.
    for device_id, kind in (
        ("k-elev-1", "elevator"),
        ("k-elev-2", "elevator"),
        ("k-leak", "leak"),
        ("k-pres", "pressure"),
        ("k-mains", "power"),
        ("k-gen", "generator"),
    ):
        await rows.device(db, site, device_id, kind)
    await rows.alarm(
        db, site, "k-elev-1", "ELEVATOR_ENTRAPMENT", "critical", "03-02 10:00", ack_after_seconds=30
    )
    await rows.alarm(db, site, "k-leak", "WATER_LEAK", "critical", "03-05 02:00", ack_after_seconds=90)
    await rows.alarm(db, site, "k-pres", "PRESSURE_LOW", "major", "03-06 14:00", ack_after_seconds=45)
    await rows.alarm(
        db, site, "k-elev-2", "ELEVATOR_ENTRAPMENT", "critical", "03-09 18:00", ack_after_seconds=150
    )
    await rows.alarm(db, site, "k-mains", "MAINS_LOSS", "critical", "03-12 03:00", open=True)
    await rows.alarm(db, site, "k-gen", "GENERATOR_FAILURE", "critical", "02-20 03:00", ack_after_seconds=10)

    # Another site's data must never leak in: a late complaint, a rating, an alarm in the same period.
    other = await rows.make_site(db, "elsewhere", ())
    x = await wo(
        db, other, "X1", "complaint", "completed", "attitude", "03-05 10:00", completed="03-06 10:00"
    )
    await clk(db, x, "respond", "03-05 11:00", "03-06 09:00")
    await cb(db, x, 1, "03-07 10:00", satisfaction=1)
    await rows.device(db, other, "x-elev", "elevator")
    await rows.alarm(db, other, "x-elev", "ELEVATOR_STOPPED", "major", "03-05 10:00", ack_after_seconds=600)


@pytest.fixture
async def report(db, client, clock, login_as) -> dict[str, Any]:
    """The manager's KPI report over the known estate."""
    await known_estate(db)
    clock.set(NOW)
    r = await client.get("/api/v1/reports/kpis", params=PERIOD, headers=await login_as("manager"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_period_is_whole_days_in_site_time(report):
    assert report["site"]["code"] == "kpi"
    period = report["period"]
    assert (period["fromDate"], period["toDate"], period["timezone"]) == (
        day("03-01"),
        day("03-14"),
        "Asia/Shanghai",
    )
    # local midnights: 03-01 00:00 +08:00 and 03-15 00:00 +08:00
    assert period["start"].startswith(f"{day('02-28')}T16:00:00")
    assert period["end"].startswith(f"{day('03-14')}T16:00:00")


async def test_counts_by_kind_and_status(report):
    # created in the period: W1-W9 and W11
    assert report["total"] == 10
    assert report["byKind"] == {
        "repair": 4,
        "emergency": 1,
        "complaint": 3,
        "maintenance": 1,
        "inspection": 1,
    }
    assert report["byStatus"] == {
        "closed": 2,
        "completed": 2,
        "signed": 1,
        "assigned": 1,
        "accepted": 1,
        "cancelled": 1,
        "new": 1,
        "paused": 1,
    }


async def test_response_arrival_resolution(report):
    # respond clocks due and decided: W1 W2 W3 W4 W5 W6 W7 W11 (W8 cancelled, W9 not due yet);
    # on time: W1 W3 W4 W7 W11 → 5 of 8
    # minutes: 3 20 50 60 60 360 1620 → median 60; p90 at rank 5.4 → 360 + 0.4 × 1260 = 864
    assert report["response"] == {
        "due": 8,
        "onTime": 5,
        "late": 3,
        "onTimeRate": 0.625,
        "measured": 7,
        "medianMinutes": 60.0,
        "p90Minutes": 864.0,
    }
    # arrive clocks: W1 W3 W11 on time, W2 late; minutes 25 90 180 240 → median 135; p90 180 + 0.7 × 60 = 222
    assert report["arrival"] == {
        "due": 4,
        "onTime": 3,
        "late": 1,
        "onTimeRate": 0.75,
        "measured": 4,
        "medianMinutes": 135.0,
        "p90Minutes": 222.0,
    }
    # resolve clocks: W1 W3 W4 W5 on time, W2 late, W11 paused (not decided);
    # minutes 120 300 1440 1560 2880 → median 1440; p90 at rank 3.6 → 1560 + 0.6 × 1320 = 2352
    assert report["resolution"] == {
        "due": 5,
        "onTime": 4,
        "late": 1,
        "onTimeRate": 0.8,
        "measured": 5,
        "medianMinutes": 1440.0,
        "p90Minutes": 2352.0,
    }


async def test_callbacks_satisfaction_reopens(report):
    # callback clocks W1 W2 W4 on time, W5 late;
    # complaints resolved in the period: W4 (called back in time), W5 (not)
    assert report["callback"] == {
        "due": 4,
        "onTime": 3,
        "onTimeRate": 0.75,
        "complaintsDue": 2,
        "complaintsCalledInTime": 1,
        "complaintRate": 0.5,
    }
    # ratings in the period 5, 2, 4, 3 (W12's 1 was before it) → 3.5; satisfied (4–5): 2 of 4
    # nobody in this estate was asked the drivers or the 0-10 question (test_complaint_desk.py covers them)
    assert report["satisfaction"] == {
        "ratings": 4,
        "average": 3.5,
        "satisfied": 2,
        "satisfiedShare": 0.5,
        "speed": None,
        "attitude": None,
        "quality": None,
        "weighted": None,
        "recommendAnswers": 0,
        "promoters": 0,
        "detractors": 0,
        "nps": None,
    }
    # completed among those created: W1 W2 W3 W4 W5; reopened: W2
    assert report["reopen"] == {"completed": 5, "reopened": 1, "rate": 0.2}


async def test_complaints_by_category_with_trend(report):
    assert report["complaints"] == {
        "total": 3,
        "previousTotal": 2,
        "byCategory": [
            {"category": "attitude", "count": 2, "previous": 1, "change": 1, "changeRate": 1.0},
            {"category": "fee_dispute", "count": 1, "previous": 0, "change": 1, "changeRate": None},
            {"category": "facilities", "count": 0, "previous": 1, "change": -1, "changeRate": -1.0},
        ],
    }


async def test_alarms_by_code_severity_and_ack_time(report):
    alarms = report["alarms"]
    assert alarms["total"] == 5
    assert alarms["byCode"] == [
        {"code": "ELEVATOR_ENTRAPMENT", "severity": "critical", "count": 2},
        {"code": "MAINS_LOSS", "severity": "critical", "count": 1},
        {"code": "PRESSURE_LOW", "severity": "major", "count": 1},
        {"code": "WATER_LEAK", "severity": "critical", "count": 1},
    ]
    assert alarms["bySeverity"] == {"critical": 4, "major": 1}
    assert (alarms["acknowledged"], alarms["unacknowledged"]) == (4, 1)
    # 30 45 90 150 s → p50 (45 + 90) / 2 = 67.5; p95 at rank 2.85 → 90 + 0.85 × 60 = 141
    assert alarms["ackP50Seconds"] == 67.5
    assert alarms["ackP95Seconds"] == 141.0


async def test_open_and_overdue_now(report):
    now = report["now"]
    # not closed or cancelled: W2 W3 W5 W6 W7 W9 W10 W11
    assert now["open"] == 8
    # past due and unmet: W10 (resolve, since 02-21 10:00) and W6 (respond, since 03-13 15:00)
    assert now["overdue"] == 2
    assert [(i["number"], i["clock"], i["overdueMinutes"]) for i in now["overdueList"]] == [
        ("W10", "resolve", 21 * 1440 + 11 * 60),
        ("W6", "respond", 30 * 60),
    ]
    assert now["overdueList"][0]["assigneeName"] == "刘师傅"


async def test_per_technician_workload_and_results(report):
    techs = {t["username"]: t for t in report["technicians"]}
    assert sorted(techs) == ["tech1", "tech2", "tech3"]
    t1, t2, t3 = techs["tech1"], techs["tech2"], techs["tech3"]
    # tech1: W10 on site and overdue; W1 W2 created and completed (300, 1560 → median 930); W2 reopened;
    # arrive and resolve: W1 on time, W2 late; ratings 5 and 2
    assert (t1["openNow"], t1["overdueNow"], t1["assigned"], t1["completed"], t1["reopened"]) == (
        1,
        1,
        2,
        2,
        1,
    )
    assert (t1["arrivalDue"], t1["arrivalOnTimeRate"], t1["resolutionDue"], t1["resolutionOnTimeRate"]) == (
        2,
        0.5,
        2,
        0.5,
    )
    assert (t1["medianResolutionMinutes"], t1["ratings"], t1["satisfactionAverage"]) == (930.0, 2, 3.5)
    # tech2: W7 accepted (not overdue); W3 completed in 120, on time
    assert (t2["openNow"], t2["overdueNow"], t2["assigned"], t2["completed"]) == (1, 0, 2, 1)
    assert (t2["arrivalDue"], t2["arrivalOnTimeRate"], t2["resolutionDue"], t2["resolutionOnTimeRate"]) == (
        1,
        1.0,
        1,
        1.0,
    )
    assert (t2["medianResolutionMinutes"], t2["ratings"], t2["satisfactionAverage"]) == (120.0, 0, None)
    # tech3: W11 paused (its clock is not overdue); W8 cancelled; nothing completed
    assert (t3["openNow"], t3["overdueNow"], t3["assigned"], t3["completed"]) == (1, 0, 2, 0)
    assert (t3["arrivalDue"], t3["arrivalOnTimeRate"], t3["resolutionDue"], t3["resolutionOnTimeRate"]) == (
        1,
        1.0,
        0,
        None,
    )
    assert t3["medianResolutionMinutes"] is None


async def test_default_period_is_the_last_30_days(db, client, clock, login_as):
    await known_estate(db)
    clock.set(NOW)
    r = await client.get("/api/v1/reports/kpis", params={"site": "kpi"}, headers=await login_as("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["period"]["fromDate"], body["period"]["toDate"]) == (day("02-13"), day("03-14"))
    # W10 and W12-W14 now fall inside (W15 of 02-10 does not)
    assert body["total"] == 14


async def test_only_oversight_roles_may_read_kpis(db, client, clock, login_as):
    await known_estate(db)
    for username in ("tech1", "agent", "guard1"):
        r = await client.get("/api/v1/reports/kpis", params=PERIOD, headers=await login_as(username))
        assert r.status_code == 403, (username, r.text)
    r = await client.get("/api/v1/reports/kpis", params=PERIOD, headers=await login_as("admin"))
    assert r.status_code == 200


async def test_another_sites_report_is_not_found(db, client, login_as):
    await known_estate(db)
    # the manager is not a member of "elsewhere": it answers as if it did not exist
    r = await client.get(
        "/api/v1/reports/kpis", params={**PERIOD, "site": "elsewhere"}, headers=await login_as("manager")
    )
    assert r.status_code == 404
    assert r.json()["code"] == "site_not_found"


async def test_bad_dates_name_their_field(db, client, login_as):
    await known_estate(db)
    headers = await login_as("manager")
    r = await client.get("/api/v1/reports/kpis", params={**PERIOD, "from": day("13-01")}, headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "from"
    r = await client.get("/api/v1/reports/kpis", params={**PERIOD, "from": day("03-15")}, headers=headers)
    assert r.status_code == 422
    assert r.json()["field"] == "to"
    r = await client.get("/api/v1/reports/kpis", params={"from": PERIOD["from"]}, headers=headers)
    # the manager belongs to demo and kpi: the site must be named
    assert r.status_code == 422
    assert r.json()["field"] == "site"
