"""Emergency plans, the checklists they run as, and the register of drills and training."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries.rows import insert_once, insert_returning, one_page


async def site_plans(conn: asyncpg.Connection, site_id: UUID) -> dict[str, asyncpg.Record]:
    """The site's own plans, by scenario."""
    rows = await conn.fetch(
        "SELECT scenario, steps, phones, updated_at FROM emergency_plans WHERE site_id = $1", site_id
    )
    return {r["scenario"]: r for r in rows}


async def save_plan(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    scenario: str,
    steps: list[dict[str, Any]],
    phones: list[dict[str, Any]],
    by: UUID,
    now: datetime,
) -> None:
    """Replace the site's plan for the scenario."""
    await conn.execute(
        """INSERT INTO emergency_plans (site_id, scenario, steps, phones, updated_by, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (site_id, scenario) DO UPDATE
           SET steps = EXCLUDED.steps, phones = EXCLUDED.phones,
               updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at""",
        site_id,
        scenario,
        steps,
        phones,
        by,
        now,
    )


async def add_checklist(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    work_order_id: UUID,
    alarm_id: UUID | None,
    scenario: str,
    opened_at: datetime,
    steps: Sequence[tuple[str, str, str, datetime | None]],
    phones: list[dict[str, Any]],
    welfare_visits: bool,
) -> None:
    """Copy a plan onto the work order (a second copy for the same work order changes nothing)."""
    await conn.executemany(
        """INSERT INTO emergency_steps (site_id, work_order_id, alarm_id, scenario, position, label_zh,
                                        label_en, role, opened_at, due_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (work_order_id, position) DO NOTHING""",
        [
            (site_id, work_order_id, alarm_id, scenario, i, zh, en, role, opened_at, due)
            for i, (zh, en, role, due) in enumerate(steps, start=1)
        ],
    )
    await conn.execute(
        """INSERT INTO emergency_phones (work_order_id, phones, welfare_visits) VALUES ($1, $2, $3)
           ON CONFLICT (work_order_id) DO NOTHING""",
        work_order_id,
        phones,
        welfare_visits,
    )


_STEPS = """
    SELECT st.*, u.display_name AS done_by_name, p.phones, p.welfare_visits
    FROM emergency_steps st
    LEFT JOIN users u ON u.id = st.done_by
    LEFT JOIN emergency_phones p ON p.work_order_id = st.work_order_id
"""


async def checklist_of_work_order(conn: asyncpg.Connection, work_order_id: UUID) -> list[asyncpg.Record]:
    """The work order's steps in order (empty: it runs no plan)."""
    return await conn.fetch(f"{_STEPS} WHERE st.work_order_id = $1 ORDER BY st.position", work_order_id)


async def reported_emergencies(
    conn: asyncpg.Connection, site_ids: Sequence[UUID], closed: Sequence[str], limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Open work orders running a plan that no alarm opened (reported by a person), newest first."""
    where = """w.site_id = ANY($1::uuid[]) AND w.status <> ALL($2::text[]) AND EXISTS (
                 SELECT 1 FROM emergency_steps st WHERE st.work_order_id = w.id AND st.alarm_id IS NULL)"""
    total = await conn.fetchval(
        f"SELECT count(*) FROM work_orders w WHERE {where}", list(site_ids), list(closed)
    )
    rows = await conn.fetch(
        f"""SELECT w.id, w.number, w.status, w.location, u.display_name AS reported_by_name
            FROM work_orders w LEFT JOIN users u ON u.id = w.created_by
            WHERE {where} ORDER BY w.created_at DESC, w.id LIMIT $3 OFFSET $4""",
        list(site_ids),
        list(closed),
        limit,
        offset,
    )
    return rows, total


async def latest_work_order_of_alarm(conn: asyncpg.Connection, alarm_id: UUID) -> UUID | None:
    """The newest work order the alarm's plan runs on."""
    return await conn.fetchval(
        """SELECT work_order_id FROM emergency_steps WHERE alarm_id = $1
           ORDER BY opened_at DESC, work_order_id LIMIT 1""",
        alarm_id,
    )


async def lock_step(conn: asyncpg.Connection, step_id: UUID) -> asyncpg.Record | None:
    """A step, locked while it is ticked off."""
    return await conn.fetchrow("SELECT * FROM emergency_steps WHERE id = $1 FOR UPDATE", step_id)


async def mark_step_done(conn: asyncpg.Connection, step_id: UUID, *, by: UUID, at: datetime) -> None:
    """Record who did the step and when (only the first time)."""
    await conn.execute(
        "UPDATE emergency_steps SET done_at = $2, done_by = $3 WHERE id = $1 AND done_at IS NULL",
        step_id,
        at,
        by,
    )


async def alarm_place(conn: asyncpg.Connection, alarm_id: UUID) -> asyncpg.Record | None:
    """The alarm's site, code and the building of its plant (None: plant of the whole estate)."""
    return await conn.fetchrow(
        """SELECT a.site_id, a.code, ast.building_id
           FROM alarms a JOIN devices d ON d.id = a.device_id LEFT JOIN assets ast ON ast.id = d.asset_id
           WHERE a.id = $1""",
        alarm_id,
    )


# --- drills and training -----------------------------------------------------------------------------------

_DRILL_SELECT = "d.*, u.display_name AS recorded_by_name"
_DRILLS = "drills d LEFT JOIN users u ON u.id = d.recorded_by"
_TRAINING_SELECT = "t.*, u.display_name AS recorded_by_name"
_TRAININGS = "trainings t LEFT JOIN users u ON u.id = t.recorded_by"


async def add_drill(conn: asyncpg.Connection, *, site_id: UUID, by: UUID, now: datetime, **f: Any) -> UUID:
    """Register a drill (`f`: scenario, held_on, participants, timings, evaluation, actions)."""
    return await insert_returning(conn, "drills", dict(site_id=site_id, **f, recorded_by=by, recorded_at=now))


async def list_drills(
    conn: asyncpg.Connection, site_ids: Sequence[UUID], *, scenario: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Drills of these sites, newest first."""
    return await one_page(
        conn,
        _DRILL_SELECT,
        _DRILLS,
        "d.site_id = ANY($1::uuid[]) AND ($2::text IS NULL OR d.scenario = $2)",
        "d.held_on DESC, d.recorded_at DESC, d.id",
        (list(site_ids), scenario),
        limit,
        offset,
        count_from="drills d",
    )


async def get_drill(conn: asyncpg.Connection, drill_id: UUID) -> asyncpg.Record | None:
    """One drill."""
    return await conn.fetchrow(f"SELECT {_DRILL_SELECT} FROM {_DRILLS} WHERE d.id = $1", drill_id)


async def add_training(conn: asyncpg.Connection, *, site_id: UUID, by: UUID, now: datetime, **f: Any) -> UUID:
    """Register a training session (`f`: topic, held_on, attendees, note, trainer)."""
    return await insert_returning(
        conn, "trainings", dict(site_id=site_id, **f, recorded_by=by, recorded_at=now)
    )


async def list_trainings(
    conn: asyncpg.Connection, site_ids: Sequence[UUID], *, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """Training sessions of these sites, newest first."""
    return await one_page(
        conn,
        _TRAINING_SELECT,
        _TRAININGS,
        "t.site_id = ANY($1::uuid[])",
        "t.held_on DESC, t.recorded_at DESC, t.id",
        (list(site_ids),),
        limit,
        offset,
        count_from="trainings t",
    )


async def get_training(conn: asyncpg.Connection, training_id: UUID) -> asyncpg.Record | None:
    """One training session."""
    return await conn.fetchrow(f"SELECT {_TRAINING_SELECT} FROM {_TRAININGS} WHERE t.id = $1", training_id)


async def last_drills(conn: asyncpg.Connection, scenarios: Sequence[str]) -> list[asyncpg.Record]:
    """Every site with, per scenario, the day of its last drill (NULL: none)."""
    return await conn.fetch(
        """SELECT s.id AS site_id, s.timezone, sc.scenario, max(d.held_on) AS last_held_on
           FROM sites s
           CROSS JOIN unnest($1::text[]) AS sc(scenario)
           LEFT JOIN drills d ON d.site_id = s.id AND d.scenario = sc.scenario
           GROUP BY s.id, s.timezone, sc.scenario ORDER BY s.id, sc.scenario""",
        list(scenarios),
    )


async def last_drills_of_site(
    conn: asyncpg.Connection, site_id: UUID, scenarios: Sequence[str]
) -> list[asyncpg.Record]:
    """Per scenario, the day of the site's last drill (NULL: none)."""
    return await conn.fetch(
        """SELECT sc.scenario, max(d.held_on) AS last_held_on
           FROM unnest($2::text[]) WITH ORDINALITY AS sc(scenario, n)
           LEFT JOIN drills d ON d.site_id = $1 AND d.scenario = sc.scenario
           GROUP BY sc.scenario, sc.n ORDER BY sc.n""",
        site_id,
        list(scenarios),
    )


async def claim_drill_reminder(
    conn: asyncpg.Connection, *, site_id: UUID, scenario: str, due_from: date, now: datetime
) -> bool:
    """Record the reminder for this period; False if it was already sent (by this or another scheduler)."""
    values = dict(site_id=site_id, scenario=scenario, due_from=due_from, sent_at=now)
    return await insert_once(conn, "drill_reminders", values)
