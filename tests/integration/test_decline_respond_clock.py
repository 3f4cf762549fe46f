"""A declined job is back in the pool unanswered: its respond clock runs again against the original due
time."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.services.escalation import escalate_due
from tests.integration.work_order_evidence import API, act, create, user_id


def _respond(detail: dict) -> dict:
    return next(c for c in detail["clocks"] if c["clock"] == "respond")


async def test_declining_an_accepted_job_unmeets_its_respond_clock_which_then_breaches(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, tech1, tech2 = await login_as("agent"), await login_as("tech1"), await login_as("tech2")
    wo = await create(client, agent, category="water")  # repair P2: respond within 30 minutes
    due = _respond(wo)["dueAt"]
    assert (
        await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    ).status_code == 200

    clock.advance(timedelta(minutes=10))
    accepted = (await act(client, tech1, wo["id"], "accept")).json()
    assert _respond(accepted)["state"] == "met" and accepted["respondedAt"] is not None

    clock.advance(timedelta(minutes=5))
    r = await act(client, tech1, wo["id"], "decline", {"reason": "需要电工"})
    assert r.status_code == 200, r.text
    declined = r.json()
    assert (declined["status"], declined["assigneeId"]) == ("new", None)
    assert declined["respondedAt"] == accepted["respondedAt"]  # the first answer the owner got
    # the owner's wait did not restart: same due time, running again
    assert _respond(declined) | {"state": None} == {
        "clock": "respond",
        "dueAt": due,
        "metAt": None,
        "pausedSince": None,
        "breachedAt": None,
        "escalatedAt": None,
        "lateMinutes": None,
        "state": None,
    }
    assert _respond(declined)["state"] == "running"

    # nobody picks it up before the original due time: it breaches like any unanswered job
    clock.advance(timedelta(minutes=16))
    async with db.transaction():
        assert await escalate_due(db, clock.now()) == 1
    detail = (await client.get(f"{API}/{wo['id']}", headers=agent)).json()
    assert _respond(detail)["state"] == "breached" and _respond(detail)["breachedAt"] is not None
    breach = await db.fetchrow(
        """SELECT payload FROM work_order_events WHERE work_order_id = $1 AND action = 'sla_breached'""",
        uuid.UUID(wo["id"]),
    )
    assert breach["payload"]["clock"] == "respond"

    # the next acceptance meets the clock, late against the original due time
    clock.advance(timedelta(minutes=4))
    again = (await act(client, tech2, wo["id"], "accept")).json()
    respond = _respond(again)
    assert respond["metAt"] > due and respond["state"] == "met_late" and respond["lateMinutes"] >= 1
    assert again["respondedAt"] == accepted["respondedAt"]


async def test_declining_before_accepting_leaves_the_running_clock_alone(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, category="water")
    assert (
        await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    ).status_code == 200
    clock.advance(timedelta(minutes=3))
    declined = (await act(client, tech1, wo["id"], "decline", {"reason": "在别的工单上"})).json()
    assert _respond(declined) == _respond(wo)
    assert _respond(declined)["state"] == "running"
