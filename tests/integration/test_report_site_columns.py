"""Clocks and follow-up calls carry their work order's site (migration 0010), whoever inserts them.

The KPI queries filter clocks and callbacks by that column alone, so a wrong or missing value would move
numbers between sites: these tests pin that every writer gets the work order's site.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from backend.domain.clock import ManualClock
from tests.integration import report_rows as rows
from tests.integration.report_rows import at
from tests.integration.work_order_evidence import (
    act,
    complete_repair,
    create,
    user_id,
)


async def test_rows_written_directly_take_the_work_orders_site(db: asyncpg.Connection) -> None:
    site = await rows.make_site(db, "other", ("manager",))
    wo = await rows.work_order(db, site, "X1", "repair", "closed", "water", "03-02 09:00")
    await rows.clock(db, wo, "respond", "03-02 09:30", "03-02 09:20")
    await rows.callback(db, wo, 1, "03-03 10:00", satisfaction=4)
    # a writer naming another site is overruled: the work order decides
    demo = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    await db.execute(
        """INSERT INTO work_order_clocks (work_order_id, clock, due_at, starts_at, site_id)
           VALUES ($1, 'resolve', $2, $3, $4)""",
        wo,
        at("03-03 09:00"),
        at("03-02 09:00"),
        demo,
    )
    assert await db.fetch("SELECT DISTINCT site_id FROM work_order_clocks WHERE work_order_id = $1", wo) == [
        (site,)
    ]
    assert await db.fetchval("SELECT site_id FROM callbacks WHERE work_order_id = $1", wo) == site


async def test_the_workflow_files_clocks_and_calls_under_the_jobs_site(
    client, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, category="water", inHome=False)
    tech1_id = await user_id(db, "tech1")
    assert (await act(client, agent, wo["id"], "assign", {"assigneeId": tech1_id})).status_code == 200
    for action in ("accept", "depart", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    assert (await complete_repair(client, db, tech1, wo["id"])).status_code == 200
    clock.advance(timedelta(hours=2))
    r = await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 5})
    assert r.status_code == 200, r.text

    demo = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    clocks = await db.fetch("SELECT clock, site_id FROM work_order_clocks WHERE work_order_id = $1", wo["id"])
    assert {c["clock"] for c in clocks} == {"respond", "arrive", "resolve", "callback"}
    assert {c["site_id"] for c in clocks} == {demo}
    assert await db.fetchval("SELECT site_id FROM callbacks WHERE work_order_id = $1", wo["id"]) == demo


async def test_clocks_and_calls_follow_the_jobs_technician(
    client, db: asyncpg.Connection, login_as, clock: ManualClock
) -> None:
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    tech1, tech2 = await user_id(db, "tech1"), await user_id(db, "tech2")
    wo = await create(client, agent, category="water", inHome=False)

    async def technicians() -> set:
        rows = await db.fetch(
            """SELECT technician_id FROM work_order_clocks WHERE work_order_id = $1
               UNION SELECT technician_id FROM callbacks WHERE work_order_id = $1""",
            uuid.UUID(wo["id"]),
        )
        return {None if r["technician_id"] is None else str(r["technician_id"]) for r in rows}

    assert await technicians() == {None}  # nobody holds a new job
    assert (await act(client, agent, wo["id"], "assign", {"assigneeId": tech1})).status_code == 200
    assert await technicians() == {tech1}
    assert (await act(client, supervisor, wo["id"], "assign", {"assigneeId": tech2})).status_code == 200
    assert await technicians() == {tech2}
    # back to the pool: the job still counts for the last one who held it
    assert (await act(client, supervisor, wo["id"], "assign", {"assigneeId": None})).status_code == 200
    assert await technicians() == {tech2}

    tech1_headers = await login_as("tech1")
    for action in ("accept", "depart", "arrive"):
        assert (await act(client, tech1_headers, wo["id"], action)).status_code == 200
    done = await complete_repair(client, db, tech1_headers, wo["id"])
    assert done.status_code == 200
    clock.advance(timedelta(hours=1))
    assert (
        await act(client, agent, wo["id"], "callback", {"reached": True, "satisfaction": 4})
    ).status_code == 200
    # the self-assigned technician holds every clock (the new callback clock included) and the rating
    assert await technicians() == {tech1}


async def _copies(db: asyncpg.Connection, work_order_id) -> set:
    rows = await db.fetch(
        """SELECT technician_id FROM work_order_clocks WHERE work_order_id = $1
           UNION SELECT technician_id FROM callbacks WHERE work_order_id = $1""",
        work_order_id,
    )
    return {r["technician_id"] for r in rows}


async def test_directly_written_rows_take_the_assignee_or_the_last_one(db: asyncpg.Connection) -> None:
    site = await rows.make_site(db, "third", ("tech1", "tech2"))
    held = await rows.work_order(db, site, "H1", "repair", "closed", "water", "03-02 09:00", assignee="tech1")
    await rows.clock(db, held, "resolve", "03-03 09:00", "03-02 14:00")
    await rows.callback(db, held, 1, "03-03 10:00", satisfaction=5)
    tech1 = await rows.user_id(db, "tech1")
    tech2 = await rows.user_id(db, "tech2")
    assert await _copies(db, held) == {tech1}
    # handing the job back keeps it counted for tech1, now its last assignee
    await db.execute(
        "UPDATE work_orders SET assignee_id = NULL, last_assignee_id = $2 WHERE id = $1", held, tech1
    )
    assert await _copies(db, held) == {tech1}
    await db.execute("UPDATE work_orders SET last_assignee_id = $2 WHERE id = $1", held, tech2)
    assert await _copies(db, held) == {tech2}
