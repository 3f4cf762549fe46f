"""The hazard ledger: the closed loop with its roles and its separation of duties, overdue escalation once
with two schedulers, the counts for the dashboard and the CSV with a BOM."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.domain.hazards import MOVES, HazardAction, allowed_actions
from backend.scheduling import JOBS, JobContext, escalate_overdue_hazards
from tests.integration.work_order_evidence import COMMON_CHECKLIST, act, add_photo, completion, user_id

API = "/api/v1/hazards"


async def move(
    client: AsyncTestClient, headers: dict[str, str], hazard_id: str, action: str, **body: Any
) -> Any:
    return await client.post(
        f"{API}/{hazard_id}/{action}", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )


async def register(client: AsyncTestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"place": "2栋地下室", "description": "配电箱门未关，有积水", "riskLevel": "high", **fields}
    r = await client.post(API, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_rules_are_one_table() -> None:
    # every state but the last has a way on, and only supervisors and managers close
    assert allowed_actions("registered", "guard") == []
    assert allowed_actions("registered", "supervisor") == ["analyse"]
    assert set(allowed_actions("rectifying", "technician")) == {"recheck", "recheck_failed"}
    assert MOVES[HazardAction.CLOSE].roles == {"supervisor", "manager"}


async def test_the_closed_loop(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    guard, supervisor = await login_as("guard1"), await login_as("supervisor")
    tech1, tech3, manager = await login_as("tech1"), await login_as("tech3"), await login_as("manager")
    hazard = await register(client, guard)
    hid = hazard["id"]
    assert hazard["status"] == "registered" and hazard["number"].startswith("YH-")
    assert hazard["allowedActions"] == []  # a guard registers; the analysis is the supervisor's
    # the guard may not analyse: refused before the body is read
    assert (await move(client, guard, hid, "analyse")).status_code == 403
    # analysis needs all four: the field missing is named
    r = await move(client, supervisor, hid, "analyse", cause="门锁损坏")
    assert r.status_code == 422 and r.json()["field"] == "responsibleId"
    deadline = (clock.now() + timedelta(days=3)).date().isoformat()
    r = await move(
        client,
        supervisor,
        hid,
        "analyse",
        cause="门锁损坏",
        responsibleId=await user_id(db, "tech1"),
        deadline=deadline,
        standard="门可上锁，无积水",
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "analysed" and r.json()["responsibleName"] == "刘师傅"
    # a move out of order is a 409 with the current state
    r = await move(client, supervisor, hid, "close", evidence="x")
    assert r.status_code == 409 and r.json()["code"] == "hazard_invalid_move"
    r = await move(client, guard, hid, "control", measure="设置警示牌，拉警戒线")
    assert r.status_code == 200 and r.json()["controlMeasure"] == "设置警示牌，拉警戒线"
    r = await move(client, supervisor, hid, "rectify", assigneeId=await user_id(db, "tech1"))
    assert r.status_code == 200, r.text
    order_id = r.json()["rectificationWorkOrderId"]
    order = await db.fetchrow("SELECT * FROM work_orders WHERE id = $1", uuid.UUID(order_id))
    assert order["status"] == "assigned" and order["assignee_id"] == uuid.UUID(await user_id(db, "tech1"))
    # the re-check waits for the work order to be done
    r = await move(client, tech3, hid, "recheck", note="已修好")
    assert r.status_code == 409 and r.json()["code"] == "rectification_not_done"
    for action in ("accept", "arrive"):
        assert (await act(client, tech1, order_id, action)).status_code == 200
    await add_photo(db, order_id, "after")
    r = await act(client, tech1, order_id, "complete", completion(COMMON_CHECKLIST))
    assert r.status_code == 200, r.text
    # who fixed it may not re-check it
    r = await move(client, tech1, hid, "recheck", note="已修好")
    assert r.status_code == 403 and r.json()["code"] == "own_work"
    r = await move(client, tech3, hid, "recheck", note="门已可上锁，积水已清")
    assert r.status_code == 200 and r.json()["recheckedByName"] == "赵师傅"
    # a technician may not close; the supervisor closes with the evidence
    assert (await move(client, tech3, hid, "close", evidence="x")).status_code == 403
    r = await move(client, supervisor, hid, "close", evidence="复查合格，现场照片见整改工单")
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (
        closed["status"] == "closed" and closed["closedByName"] == "李主管" and closed["allowedActions"] == []
    )
    assert [e["action"] for e in closed["events"]] == [
        "register",
        "analyse",
        "control",
        "rectify",
        "recheck",
        "close",
    ]
    assert closed["events"][-1]["payload"] == {"evidence": "复查合格，现场照片见整改工单"}
    # each step's payload is kept as a JSON object, so the ledger can be queried by its fields
    stored = await db.fetch("SELECT jsonb_typeof(payload) AS t FROM hazard_events WHERE hazard_id = $1", hid)
    assert {row["t"] for row in stored} == {"object"}
    counts = (await client.get(f"{API}/counts", headers=manager)).json()
    assert counts["byRisk"]["high"] == {"open": 0, "overdue": 0, "closed": 1}


async def test_a_failed_recheck_goes_back_to_control(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock, login_as
) -> None:
    supervisor, tech1 = await login_as("supervisor"), await login_as("tech1")
    hid = (await register(client, supervisor))["id"]
    deadline = (clock.now() + timedelta(days=1)).date().isoformat()
    await move(
        client,
        supervisor,
        hid,
        "analyse",
        cause="c",
        responsibleId=await user_id(db, "tech1"),
        deadline=deadline,
        standard="s",
    )
    await move(client, supervisor, hid, "control", measure="m")
    order_id = (await move(client, supervisor, hid, "rectify", assigneeId=await user_id(db, "tech1"))).json()[
        "rectificationWorkOrderId"
    ]
    for action in ("accept", "arrive"):
        await act(client, tech1, order_id, action)
    await add_photo(db, order_id, "after")
    await act(client, tech1, order_id, "complete", completion(COMMON_CHECKLIST))
    r = await move(client, supervisor, hid, "recheck-failed", note="仍有积水")
    assert r.status_code == 200 and r.json()["status"] == "controlled"


async def test_overdue_hazards_escalate_once_with_two_schedulers(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    assert (escalate_overdue_hazards, 60.0) in JOBS
    supervisor = await login_as("supervisor")
    hid = (await register(client, supervisor, riskLevel="major"))["id"]
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    r = await move(
        client,
        supervisor,
        hid,
        "analyse",
        cause="c",
        responsibleId=await user_id(db, "tech3"),
        deadline=tomorrow,
        standard="s",
    )
    due_at = r.json()["dueAt"]
    pools = [await create_pool(db_url, min_size=1, max_size=2) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]
    try:
        assert sum(await asyncio.gather(*(escalate_overdue_hazards(c) for c in contexts))) == 0
        clock.advance(timedelta(days=3))
        assert sum(await asyncio.gather(*(escalate_overdue_hazards(c) for c in contexts))) == 1
        assert sum(await asyncio.gather(*(escalate_overdue_hazards(c) for c in contexts))) == 0
    finally:
        for p in pools:
            await p.close()
    told = await db.fetch(
        """SELECT u.username FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'hazard_overdue' ORDER BY u.username"""
    )
    assert [t["username"] for t in told] == ["manager", "supervisor", "tech3"]
    assert due_at is not None
    counts = (await client.get(f"{API}/counts", headers=supervisor)).json()
    assert counts["byRisk"]["major"] == {"open": 1, "overdue": 1, "closed": 0}
    overdue = (await client.get(f"{API}?overdue=true", headers=supervisor)).json()
    assert [h["id"] for h in overdue["items"]] == [hid] and overdue["items"][0]["overdue"] is True


async def test_the_ledger_exports_as_csv_with_a_bom(client: AsyncTestClient, login_as) -> None:
    supervisor = await login_as("supervisor")
    await register(client, supervisor, place="=HYPERLINK(1)", description="楼梯间灯不亮")
    r = await client.get(f"{API}/export.csv", headers=supervisor)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "状态", "风险等级"]
    assert rows[1][1] == "登记" and rows[1][4] == "'=HYPERLINK(1)" and rows[1][5] == "楼梯间灯不亮"
    assert (await client.get(f"{API}/export.csv", headers=await login_as("guard1"))).status_code == 403
