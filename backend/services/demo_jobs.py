"""A morning's worth of work for the demo estate, so every screen of `caretaker up` has something on it."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from backend.db.queries.users import get_login
from backend.domain.models import CurrentUser
from backend.domain.work_orders import WorkOrderCreate
from backend.services import intake, work_order_actions, work_orders

# (intake, who it goes to, whether they have accepted it): repairs in homes, a complaint, jobs for the board.
_JOBS: list[tuple[WorkOrderCreate, str | None, bool]] = [
    (
        WorkOrderCreate(
            kind="repair",
            category="water",
            channel="phone",
            title="厨房水龙头漏水",
            description="业主来电:厨房水龙头根部持续滴水,台面下柜子已受潮。",
            site="demo",
            building="A",
            unit_number="302",
            in_home=True,
        ),
        "tech1",
        False,
    ),
    (
        WorkOrderCreate(
            kind="repair",
            category="electrical",
            channel="app",
            title="卧室插座不通电",
            description="主卧两个插座无电,空开未跳闸。",
            site="demo",
            building="B",
            unit_number="1003",
            in_home=True,
        ),
        "tech1",
        True,
    ),
    (
        WorkOrderCreate(
            kind="repair",
            category="doors_windows",
            channel="counter",
            title="入户门锁芯损坏",
            description="钥匙插入后无法转动,业主暂住亲戚家,希望今天处理。",
            site="demo",
            building="C",
            unit_number="501",
            in_home=True,
        ),
        None,
        False,
    ),
    (
        WorkOrderCreate(
            kind="complaint",
            category="facilities",
            channel="phone",
            title="电梯夜间运行噪音扰民",
            description="业主反映2栋1号梯夜间运行有明显异响,影响休息,已是第二次反映。",
            site="demo",
            building="B",
            unit_number="902",
        ),
        None,
        False,
    ),
]


async def _staff(conn: asyncpg.Connection, username: str) -> CurrentUser:
    found = await get_login(conn, username)
    if found is None:
        raise LookupError(f"the demo user {username} is missing; seed the demo estate first")
    return found[0]


async def seed_demo_work_orders(conn: asyncpg.Connection, *, now: datetime) -> int:
    """Record the demo jobs as the agent would (and assign or accept some); only on a site with none yet."""
    agent = await _staff(conn, "agent")
    existing = await work_orders.list_work_orders(conn, viewer=agent, now=now, site="demo", limit=1)
    if existing.total:
        return 0
    for data, assignee, accepted in _JOBS:
        order = await intake.intake_work_order(conn, actor=agent, data=data, now=now)
        if assignee is None:
            continue
        technician = await _staff(conn, assignee)
        await work_order_actions.perform_action(
            conn,
            work_order_id=order.id,
            action="assign",
            actor=agent,
            now=now,
            payload={"assigneeId": str(technician.id)},
        )
        if accepted:
            await work_order_actions.perform_action(
                conn, work_order_id=order.id, action="accept", actor=technician, now=now, payload={}
            )
    return len(_JOBS)
