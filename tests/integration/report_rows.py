"""Rows written straight into the tables the reports read, so report tests control every number.

Times are given as site-local wall times in Asia/Shanghai ("03-02 09:20" in 2026). The year is fixed on
purpose: every expected number of the report tests is worked out by hand for this one stretch of days
(month lengths, the previous and the default period), and the tests read it through an injected clock set
inside it, so the real calendar never reaches these rows. Relative dates would make those sums change with
the day the tests run (a leap year moves the default period's start).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2026  # fixed-date: the hand-checked report world, always read through an injected clock


def day(local: str) -> str:
    """'03-14' as the ISO date of that day in YEAR, the way the reports spell days."""
    return f"{YEAR}-{local}"


def at(local: str) -> datetime:
    """'03-02 09:20' (or '03-02 09:20:30') in Shanghai, 2026, as an aware datetime."""
    fmt = "%Y-%m-%d %H:%M:%S" if local.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(f"{YEAR}-{local}", fmt).replace(tzinfo=SHANGHAI)


async def make_site(db: asyncpg.Connection, code: str, members: tuple[str, ...]) -> UUID:
    """A site in Asia/Shanghai with one building and unit, and these demo users as members."""
    site_id = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ($1, $2, 'Asia/Shanghai') RETURNING id",
        code,
        f"{code}花园",
    )
    building = await db.fetchval(
        "INSERT INTO buildings (site_id, code, name, floors) VALUES ($1, 'A', '1栋', 10) RETURNING id",
        site_id,
    )
    await db.execute(
        "INSERT INTO units (site_id, building_id, number, floor) VALUES ($1, $2, '101', 1)", site_id, building
    )
    await db.execute(
        """INSERT INTO user_sites (user_id, site_id)
           SELECT id, $1 FROM users WHERE username = ANY($2::text[])""",
        site_id,
        list(members),
    )
    return site_id


async def user_id(db: asyncpg.Connection, username: str) -> UUID:
    """A demo user's id."""
    return await db.fetchval("SELECT id FROM users WHERE username = $1", username)


async def work_order(
    db: asyncpg.Connection,
    site_id: UUID,
    number: str,
    kind: str,
    status: str,
    category: str,
    created: str,
    *,
    priority: int = 2,
    assignee: str | None = None,
    responded: str | None = None,
    arrived: str | None = None,
    completed: str | None = None,
    closed: str | None = None,
    reopen_count: int = 0,
    title: str = "",
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    in_unit: bool = False,
) -> UUID:
    """Insert a work order as the workflow would have left it."""
    assignee_id = await user_id(db, assignee) if assignee else None
    unit_id = (
        await db.fetchval("SELECT id FROM units WHERE site_id = $1 AND number = '101'", site_id)
        if in_unit
        else None
    )

    def ts(local: str | None) -> datetime | None:
        return at(local) if local else None

    return await db.fetchval(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                    assignee_id, created_at, responded_at, arrived_at, completed_at,
                                    closed_at, reopen_count, reporter_name, reporter_phone, unit_id)
           VALUES ($1, $2, $3, $4, $5, $6, 'phone', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
           RETURNING id""",
        site_id,
        number,
        kind,
        status,
        priority,
        category,
        title or f"{kind} {number}",
        assignee_id,
        at(created),
        ts(responded),
        ts(arrived),
        ts(completed),
        ts(closed),
        reopen_count,
        reporter_name,
        reporter_phone,
        unit_id,
    )


async def clock(
    db: asyncpg.Connection,
    work_order_id: UUID,
    name: str,
    due: str,
    met: str | None = None,
    *,
    paused_since: str | None = None,
) -> None:
    """Insert one SLA clock of a work order."""
    starts = await db.fetchval("SELECT created_at FROM work_orders WHERE id = $1", work_order_id)
    has_starts = await db.fetchval(
        """SELECT EXISTS (SELECT 1 FROM information_schema.columns
                          WHERE table_name = 'work_order_clocks' AND column_name = 'starts_at')"""
    )
    # later migrations add when each clock started; fill it when the column exists
    columns = "work_order_id, clock, due_at, met_at, paused_since" + (", starts_at" if has_starts else "")
    values = "$1, $2, $3, $4, $5" + (", $6" if has_starts else "")
    args: list[object] = [
        work_order_id,
        name,
        at(due),
        at(met) if met else None,
        at(paused_since) if paused_since else None,
    ]
    if has_starts:
        args.append(starts)
    await db.execute(f"INSERT INTO work_order_clocks ({columns}) VALUES ({values})", *args)


async def callback(
    db: asyncpg.Connection,
    work_order_id: UUID,
    attempt: int,
    called: str,
    *,
    reached: bool = True,
    satisfaction: int | None = None,
) -> None:
    """Insert a follow-up call."""
    await db.execute(
        """INSERT INTO callbacks (work_order_id, attempt, reached, satisfaction, called_at)
           VALUES ($1, $2, $3, $4, $5)""",
        work_order_id,
        attempt,
        reached,
        satisfaction,
        at(called),
    )


async def device(db: asyncpg.Connection, site_id: UUID, device_id: str, kind: str) -> str:
    """Insert a device of the site."""
    await db.execute(
        "INSERT INTO devices (id, site_id, kind, name) VALUES ($1, $2, $3, $1)", device_id, site_id, kind
    )
    return device_id


async def alarm(
    db: asyncpg.Connection,
    site_id: UUID,
    device_id: str,
    code: str,
    severity: str,
    raised: str,
    *,
    ack_after_seconds: float | None = None,
    open: bool = False,
) -> None:
    """Insert an alarm raised at a local time, acknowledged after some seconds (or not)."""
    raised_at = at(raised)
    acked_at = raised_at + timedelta(seconds=ack_after_seconds) if ack_after_seconds is not None else None
    await db.execute(
        """INSERT INTO alarms (site_id, device_id, code, severity, active, open,
                               raised_at, last_seen_at, acked_at)
           VALUES ($1, $2, $3, $4, $5, $5, $6, $6, $7)""",
        site_id,
        device_id,
        code,
        severity,
        open,
        raised_at,
        acked_at,
    )
