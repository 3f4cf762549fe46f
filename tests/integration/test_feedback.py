"""Suggestions and praise (建议/表扬): recorded at the desk, routed, answered, counted.

DOMAIN.md "Complaint": suggestions and praise are recorded, answered and counted; seeds-digest §9 sorts owner
feedback into complaint, suggestion and praise (對客戶反饋進行分類處理,如投訴、建議、表揚等)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.services.feedback import file_feedback
from tests.integration.work_order_evidence import user_id

SITE_ZONE = ZoneInfo("Asia/Shanghai")
API = "/api/v1/feedback"


async def post(client: AsyncTestClient, headers: dict[str, str], path: str, body: dict) -> dict:
    r = await client.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code in (200, 201), r.text
    return r.json()


async def test_a_suggestion_goes_to_the_supervisor_and_an_answer_closes_it_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """A suggestion taken by phone goes to the site's supervisor, who is told; answering it (how, what was
    said) closes it; a second answer is refused; an unknown field is refused naming it."""
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    made = await post(client, agent, API, {
        "kind": "suggestion", "text": "希望在 A 栋门口加装雨棚", "channel": "phone", "site": "demo",
        "building": "A", "unitNumber": "101", "reporterName": "王业主", "reporterPhone": "13900000001",
    })  # fmt: skip
    assert (made["routedToName"], made["receivedByName"], made["unitLabel"]) == (
        "李主管",
        "张客服",
        "1栋 101",
    )
    assert made["answeredAt"] is None
    told = await db.fetchval(
        """SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'feedback' AND u.username = 'supervisor' AND n.data->>'feedbackId' = $1""",
        made["id"],
    )
    assert told == 1
    listed = (await client.get(API, params={"open": "true"}, headers=supervisor)).json()
    assert [f["id"] for f in listed["items"]] == [made["id"]] and listed["total"] == 1
    answered = await post(client, supervisor, f"{API}/{made['id']}/answer", {
        "via": "phone", "summary": "已报物业维修基金审批，下月施工",
    })  # fmt: skip
    assert (answered["answeredByName"], answered["answerVia"]) == ("李主管", "phone")
    assert (await client.get(API, params={"open": "true"}, headers=supervisor)).json()["total"] == 0
    again = await client.post(
        f"{API}/{made['id']}/answer",
        json={"via": "sms", "summary": "again"},
        headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert again.status_code == 409 and again.json()["code"] == "feedback_answered"
    bad = await client.post(
        API,
        json={"kind": "suggestion", "text": "x", "site": "demo", "rating": 5},
        headers={**agent, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert bad.status_code in (400, 422) and bad.json()["field"] == "rating"


async def test_praise_lands_on_the_praised_persons_record_and_tells_them_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    """Praise names the member of staff praised: it is listed on their record and they are told; only
    praise names someone, and only staff of the site."""
    agent = await login_as("agent")
    tech = await user_id(db, "tech1")
    made = await post(client, agent, API, {
        "kind": "praise", "text": "师傅修水管又快又干净", "channel": "counter", "site": "demo",
        "praisedUserId": tech,
    })  # fmt: skip
    assert made["praisedName"] == "刘师傅"
    record = (await client.get(API, params={"praised": tech}, headers=agent)).json()
    assert [f["id"] for f in record["items"]] == [made["id"]]
    told = await db.fetchval(
        """SELECT count(*) FROM notifications WHERE kind = 'praise' AND recipient_id = $1""", uuid.UUID(tech)
    )
    assert told == 1
    wrong = await client.post(
        API,
        json={"kind": "suggestion", "text": "x", "site": "demo", "praisedUserId": tech},
        headers={**agent, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "praisedUserId"


async def test_an_owner_page_files_through_the_same_service_seed_rule(
    db: asyncpg.Connection, clock: ManualClock, client: AsyncTestClient, login_as
) -> None:
    """`file_feedback` is the one way in: the owner's page calls it with channel 'app' and no desk user."""
    site = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    unit = await db.fetchval(
        """SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id
           WHERE b.code = 'B' AND u.number = '101'"""
    )
    async with db.transaction():
        filed = await file_feedback(db, site, unit, "suggestion", "小区晚上太吵", "app", now=clock.now())
    assert (filed.channel, filed.received_by_id, filed.routed_to_name) == ("app", None, "李主管")
    agent = await login_as("agent")
    assert filed.id in {uuid.UUID(f["id"]) for f in (await client.get(API, headers=agent)).json()["items"]}


async def test_suggestion_and_praise_counts_and_answered_rate_against_hand_worked_numbers_seed_rule(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    """The KPIs count feedback received in the period (whole site-local days) and the share answered by now.

    Hand-worked, t0 = today 09:00 in Shanghai; report for today only, at t0 + 3 h:
    S1 suggestion t0 (answered t0+1h), S2 suggestion t0+1h (open), P1 praise t0+2h (answered t0+2h);
    S0 suggestion yesterday 23:30 (outside the period, answered: not counted).
    suggestions 2, praise 1, total 3, answered 2, answeredRate 0.6667.
    """
    local_today = clock.now().astimezone(SITE_ZONE).date()
    t0 = datetime.combine(local_today, time(9, 0), tzinfo=SITE_ZONE)
    agent, manager = await login_as("agent"), await login_as("manager")
    clock.set(t0 - timedelta(hours=9, minutes=30))
    s0 = await post(client, agent, API, {"kind": "suggestion", "text": "S0", "site": "demo"})
    await post(client, agent, f"{API}/{s0['id']}/answer", {"via": "phone", "summary": "ok"})
    clock.set(t0)
    s1 = await post(client, agent, API, {"kind": "suggestion", "text": "S1", "site": "demo"})
    clock.advance(timedelta(hours=1))
    await post(client, agent, f"{API}/{s1['id']}/answer", {"via": "phone", "summary": "ok"})
    await post(client, agent, API, {"kind": "suggestion", "text": "S2", "site": "demo"})
    clock.advance(timedelta(hours=1))
    p1 = await post(client, agent, API, {"kind": "praise", "text": "P1", "site": "demo"})
    await post(client, agent, f"{API}/{p1['id']}/answer", {"via": "sms", "summary": "谢谢"})
    clock.advance(timedelta(hours=1))
    day = local_today.isoformat()
    r = await client.get(
        "/api/v1/reports/kpis", params={"site": "demo", "from": day, "to": day}, headers=manager
    )
    assert r.status_code == 200, r.text
    assert r.json()["feedback"] == {
        "suggestions": 2, "praise": 1, "total": 3, "answered": 2, "answeredRate": 0.6667,
    }  # fmt: skip
