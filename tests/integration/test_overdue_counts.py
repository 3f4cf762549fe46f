"""Every screen counts "overdue" the same way: the dashboard's tile, its overdue list and the dispatch board's
overdue column are open work orders with a running clock past due (docs/REPORTS.md `now.overdue`)."""

from __future__ import annotations

import asyncpg

from tests.integration import report_rows as rows
from tests.integration.report_rows import at

NOW = at("03-14 21:00")


async def test_the_board_and_the_dashboard_agree_on_what_is_overdue(
    db: asyncpg.Connection, client, clock, login_as
):
    site = await rows.make_site(db, "kpi", ("manager", "tech1"))
    late = await rows.work_order(
        db, site, "L1", "repair", "assigned", "water", "03-14 08:00", assignee="tech1"
    )
    await rows.clock(db, late, "arrive", "03-14 10:00")
    paused = await rows.work_order(
        db, site, "P1", "repair", "paused", "water", "03-14 08:00", assignee="tech1"
    )
    await rows.clock(db, paused, "resolve", "03-14 12:00", paused_since="03-14 11:00")
    # closed with a clock nobody stopped (an import, a hand correction): finished work is not overdue work
    done = await rows.work_order(
        db, site, "D1", "repair", "closed", "water", "03-13 08:00", assignee="tech1", closed="03-13 18:00"
    )  # fmt: skip
    await rows.clock(db, done, "resolve", "03-13 12:00")
    clock.set(NOW)
    manager = await login_as("manager")

    report = (await client.get("/api/v1/reports/kpis", params={"site": "kpi"}, headers=manager)).json()
    board = (
        await client.get("/api/v1/work-orders", params={"site": "kpi", "overdue": "true"}, headers=manager)
    ).json()
    assert report["now"]["overdue"] == 1
    assert [j["number"] for j in report["now"]["overdueList"]] == ["L1"]
    assert board["total"] == report["now"]["overdue"]
    assert [j["number"] for j in board["items"]] == ["L1"]
