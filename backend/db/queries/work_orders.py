"""Work orders in SQL: numbering, rows, the event log, lists, and the history around a job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.domain import sla
from backend.domain.work_orders import Callback, Clock, Event, HistoryItem, WorkOrder
from backend.domain.workflow import AWAITING_ARRIVAL, CLOSED_STATUSES, OPEN_STATUSES, priority_code
from backend.errors import Conflict


class StoredWorkOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A work-order row as read, with what deciding on it needs beyond the row itself."""

    facts: dict[str, Any]  # the wire fields of WorkOrder, as read
    clocks: list[Clock]
    after_photos_taken: int  # 'after' photos of the current visit
    asset_kind: str | None = None  # the kind of the job's asset (what a maintenance visit checks)

    @property
    def callback_due(self) -> bool:
        """An unmet follow-up clock is open."""
        return any(c.clock == sla.ClockName.CALLBACK and c.met_at is None for c in self.clocks)


OPEN = {s.value for s in OPEN_STATUSES}

_SELECT = """
    SELECT w.*,
           b.name || ' ' || u.number AS unit_label,
           s.name AS asset_name,
           s.kind AS asset_kind,
           a.display_name AS assignee_name,
           ca.display_name AS complained_about_name,
           (SELECT count(*) FROM photos p
             WHERE p.work_order_id = w.id AND p.stage = 'after' AND p.visit = w.reopen_count + 1
           ) AS after_photos_taken
    FROM work_orders w
    LEFT JOIN units u ON u.id = w.unit_id
    LEFT JOIN buildings b ON b.id = u.building_id
    LEFT JOIN assets s ON s.id = w.asset_id
    LEFT JOIN users a ON a.id = w.assignee_id
    LEFT JOIN users ca ON ca.id = w.complained_about_id
"""

# The clocks of a page of work orders in one statement, as typed columns: a per-row JSON aggregate cost a
# subquery per row in PostgreSQL and a text-to-datetime conversion per field in Python.
_CLOCKS = """
    SELECT work_order_id, clock, due_at, met_at, paused_since, breached_at, escalated_at
    FROM work_order_clocks WHERE work_order_id = ANY($1::uuid[])
"""
_CLOCK_RANK = {name: i for i, name in enumerate(sla.CLOCK_ORDER)}
# One work order: its clocks ride along as an array of typed records (one statement, no JSON).
_SELECT_ONE = _SELECT.replace(
    "    FROM work_orders w\n",
    """    , ARRAY(SELECT ROW(c.clock, c.due_at, c.met_at, c.paused_since, c.breached_at, c.escalated_at)
             FROM work_order_clocks c WHERE c.work_order_id = w.id) AS clock_rows
    FROM work_orders w
""",
    1,
)

# Row columns that are wire fields as they are; priority, visit and the decisions are added per reader.
_ROW_FIELDS = tuple(
    f
    for f in WorkOrder.__struct_fields__
    if f not in {"clocks", "priority", "visit", "allowed_actions", "requirements"}
)


def _clock(values: Sequence[Any], now: datetime) -> Clock:
    """A clock from (clock, due_at, met_at, paused_since, breached_at, escalated_at)."""
    name, due, met, paused, breached, escalated = values
    state = sla.clock_state(due, met, paused, now)
    late = sla.late_minutes(due, met, now) if state != sla.ClockState.PAUSED else None
    return Clock(
        clock=name,
        due_at=due,
        met_at=met,
        paused_since=paused,
        breached_at=breached,
        escalated_at=escalated,
        state=state,
        late_minutes=late,
    )


def _in_order(clocks: list[Sequence[Any]], now: datetime) -> list[Clock]:
    last = len(_CLOCK_RANK)
    return [_clock(c, now) for c in sorted(clocks, key=lambda c: _CLOCK_RANK.get(c[0], last))]


async def _clocks_of(conn: asyncpg.Connection, ids: list[UUID], now: datetime) -> dict[UUID, list[Clock]]:
    """Each work order's clocks in the order of sla.CLOCK_ORDER."""
    found: dict[UUID, list[Sequence[Any]]] = {}
    if ids:
        for r in await conn.fetch(_CLOCKS, ids):
            found.setdefault(r["work_order_id"], []).append(tuple(r)[1:])
    return {wo: _in_order(rows, now) for wo, rows in found.items()}


async def _stored_all(
    conn: asyncpg.Connection, rows: Sequence[asyncpg.Record], now: datetime
) -> list[StoredWorkOrder]:
    clocks = await _clocks_of(conn, [r["id"] for r in rows], now)
    return [_stored(r, clocks.get(r["id"], [])) for r in rows]


def _stored(row: asyncpg.Record, clocks: list[Clock]) -> StoredWorkOrder:
    facts = {f: row[f] for f in _ROW_FIELDS}
    facts["priority"] = priority_code(row["priority"])
    facts["visit"] = row["reopen_count"] + 1
    return StoredWorkOrder(
        facts=facts,
        clocks=clocks,
        after_photos_taken=row["after_photos_taken"],
        asset_kind=row["asset_kind"],
    )


async def get_unit(conn: asyncpg.Connection, unit_id: UUID) -> asyncpg.Record | None:
    """A unit: (id, site_id)."""
    return await conn.fetchrow("SELECT id, site_id FROM units WHERE id = $1", unit_id)


async def find_unit(
    conn: asyncpg.Connection, site_id: UUID, building: str, number: str
) -> asyncpg.Record | None:
    """A unit by building (code such as 'A' or name such as '1栋') and unit number."""
    return await conn.fetchrow(
        """SELECT u.id, u.site_id FROM units u JOIN buildings b ON b.id = u.building_id
           WHERE u.site_id = $1 AND (b.code = $2 OR b.name = $2) AND u.number = $3""",
        site_id,
        building,
        number,
    )


async def units_by_phone(
    conn: asyncpg.Connection, site_ids: Sequence[UUID], phone: str
) -> list[asyncpg.Record]:
    """The units whose residents have this phone, with the resident's name."""
    return list(
        await conn.fetch(
            """SELECT DISTINCT ON (r.unit_id) r.unit_id AS id, r.site_id, r.name
               FROM residents r WHERE r.phone = $2 AND r.site_id = ANY($1::uuid[])
               ORDER BY r.unit_id, r.relation = 'owner' DESC""",
            list(site_ids),
            phone,
        )
    )


async def get_asset_site(conn: asyncpg.Connection, asset_id: UUID) -> UUID | None:
    """The site of an asset."""
    return await conn.fetchval("SELECT site_id FROM assets WHERE id = $1", asset_id)


async def next_number(conn: asyncpg.Connection, site_id: UUID, now: datetime) -> str:
    """The next human number, WO-YYYYMMDD-NNNN, counted per site per day in the site's timezone."""
    row = await conn.fetchrow(
        """WITH today AS (
               SELECT ($2::timestamptz AT TIME ZONE timezone)::date AS day FROM sites WHERE id = $1)
           INSERT INTO work_order_numbers (site_id, day, last)
           SELECT $1, day, 1 FROM today
           -- the row lock taken by the upsert serialises concurrent intakes on the same day
           ON CONFLICT (site_id, day) DO UPDATE SET last = work_order_numbers.last + 1
           RETURNING day, last""",
        site_id,
        now,
    )
    return f"WO-{row['day']:%Y%m%d}-{row['last']:04d}"


async def insert_work_order(conn: asyncpg.Connection, fields: dict[str, Any]) -> UUID:
    """Insert a work-order row from column -> value; returns its id."""
    columns = list(fields)
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    try:
        return await conn.fetchval(
            f"INSERT INTO work_orders ({', '.join(columns)}) VALUES ({placeholders}) RETURNING id",
            *fields.values(),
        )
    except asyncpg.UniqueViolationError as e:
        if e.constraint_name == "work_orders_plan_period":
            raise Conflict("a work order for this plan and period already exists", code="duplicate") from e
        raise


_UPDATABLE = frozenset(
    {
        "status",
        "assignee_id",
        "last_assignee_id",
        "appointment_at",
        "responded_at",
        "arrived_at",
        "completed_at",
        "closed_at",
        "reopen_count",
        "resolution",
        "version",
        "updated_at",
    }
)


async def update_work_order(conn: asyncpg.Connection, work_order_id: UUID, changes: dict[str, Any]) -> None:
    """Set the given columns of one work order (only the ones actions may change)."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = list(changes)
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(f"UPDATE work_orders SET {sets} WHERE id = $1", work_order_id, *changes.values())


async def lock_work_order(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record | None:
    """The row, locked until the transaction ends: concurrent actions on one job queue up here."""
    return await conn.fetchrow(
        """SELECT w.*, EXISTS (SELECT 1 FROM work_order_clocks c WHERE c.work_order_id = w.id
                                  AND c.clock = 'callback' AND c.met_at IS NULL) AS callback_due
                  -- the action credits client times against the latest event: read it in the same trip
                  , (SELECT max(e.at) FROM work_order_events e WHERE e.work_order_id = w.id) AS last_event_at
           FROM work_orders w WHERE w.id = $1 FOR UPDATE OF w""",
        work_order_id,
    )


async def append_event(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    seq: int,
    action: str,
    from_status: str | None,
    to_status: str,
    actor_id: UUID | None,
    at: datetime,
    client_at: datetime | None = None,
    geo: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one event to the log (the table refuses updates and deletes)."""
    await conn.execute(
        """INSERT INTO work_order_events
               (work_order_id, seq, action, from_status, to_status, actor_id, at, client_at, geo, payload)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        work_order_id,
        seq,
        action,
        from_status,
        to_status,
        actor_id,
        at,
        client_at,
        geo,
        payload or {},
    )


async def last_event_at(conn: asyncpg.Connection, work_order_id: UUID) -> datetime | None:
    """Server time of the latest event."""
    return await conn.fetchval(
        "SELECT max(at) FROM work_order_events WHERE work_order_id = $1", work_order_id
    )


async def get_work_order(
    conn: asyncpg.Connection, work_order_id: UUID, now: datetime
) -> StoredWorkOrder | None:
    """One work order with its clocks."""
    row = await conn.fetchrow(_SELECT_ONE + " WHERE w.id = $1", work_order_id)
    return _stored(row, _in_order(list(row["clock_rows"]), now)) if row else None


async def list_work_orders(
    conn: asyncpg.Connection,
    *,
    site_ids: Sequence[UUID],
    now: datetime,
    statuses: Sequence[str] | None = None,
    kind: str | None = None,
    assignee_id: UUID | None = None,
    unassigned: bool = False,
    overdue: bool = False,
    escalated: bool = False,
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StoredWorkOrder], int]:
    """A page of work orders, most urgent first (priority, then the nearest unmet due time), and the total."""
    # Only the filters in use go into the statement: "($n IS NULL OR ...)" would hide the indexes from the
    # planner once asyncpg's prepared statement switches to a generic plan.
    args: list[Any] = [list(site_ids)]
    where = ["w.site_id = ANY($1::uuid[])"]

    def param(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if statuses:
        where.append(f"w.status = ANY({param(list(statuses))}::text[])")
        if set(statuses) == OPEN:
            # also spelled as the open-jobs index's own predicate: on a generic plan the parameter above
            # proves nothing, and a technician's open list would read their whole history through the
            # other index
            where.append("w.status NOT IN ('closed', 'cancelled')")
    if kind is not None:
        where.append(f"w.kind = {param(kind)}")
    if assignee_id is not None:
        where.append(f"w.assignee_id = {param(assignee_id)}")
    if unassigned:
        where.append("w.assignee_id IS NULL")
    if escalated:
        # management's list: complaints escalated by hand (their record says where to, services/
        # work_order_actions.py) and major complaints, which go to management at once (DOMAIN.md "Complaint")
        where.append("w.kind = 'complaint' AND (w.resolution ? 'escalatedTo' OR w.major)")
    if overdue:
        # open work with a running clock past its due time: the dashboard's `now.overdue`, job for job
        where.append(
            f"""EXISTS (SELECT 1 FROM work_order_clocks c WHERE c.work_order_id = w.id
                 AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < {param(now)})
               AND w.status <> ALL({param(sorted(CLOSED_STATUSES))}::text[])"""
        )
    if text is not None:
        pattern = param(text)
        where.append(f"(w.number ILIKE '%' || {pattern} || '%' OR w.title ILIKE '%' || {pattern} || '%')")
    condition = " AND ".join(where)
    if assignee_id is not None:
        # One person's list reads their own few rows through the assignee index whatever the values: a
        # custom plan per request cost more to plan (5-15 ms on a busy machine) than the query took to run.
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    rows = await conn.fetch(
        _SELECT
        + f""" WHERE {condition}
        ORDER BY w.status IN ('closed', 'cancelled'), w.priority,
                 (SELECT min(c.due_at) FROM work_order_clocks c
                   WHERE c.work_order_id = w.id AND c.met_at IS NULL AND c.paused_since IS NULL) NULLS LAST,
                 w.created_at, w.id
        LIMIT {param(limit)} OFFSET {param(offset)}""",
        *args,
    )
    if 0 < len(rows) < limit or (not rows and offset == 0):
        # the page is the last one: the total is known without counting (a technician's list always is)
        total = offset + len(rows)
    else:
        total = await conn.fetchval(f"SELECT count(*) FROM work_orders w WHERE {condition}", *args[:-2])
    return await _stored_all(conn, rows, now), total


async def list_events(conn: asyncpg.Connection, work_order_id: UUID) -> list[Event]:
    """The work order's log in order."""
    rows = await conn.fetch(
        """SELECT e.seq, e.action, e.from_status, e.to_status, e.actor_id, u.display_name AS actor_name,
                  e.at, e.client_at, e.geo, e.payload
           FROM work_order_events e
           LEFT JOIN users u ON u.id = e.actor_id WHERE e.work_order_id = $1 ORDER BY e.seq""",
        work_order_id,
    )
    return [Event(**dict(r)) for r in rows]


async def list_callbacks(conn: asyncpg.Connection, work_order_id: UUID) -> list[Callback]:
    """The follow-up calls made, in order, with who called."""
    rows = await conn.fetch(
        """SELECT c.id, c.attempt, c.reached, c.satisfaction, c.comment, c.called_by, c.called_at,
                  c.speed, c.attitude, c.quality, c.recommend, u.display_name AS called_by_name
           FROM callbacks c LEFT JOIN users u ON u.id = c.called_by
           WHERE c.work_order_id = $1 ORDER BY c.attempt""",
        work_order_id,
    )
    return [Callback(**dict(r)) for r in rows]


# How many earlier jobs of the same unit or asset the detail shows.
HISTORY_LIMIT = 10


async def history(
    conn: asyncpg.Connection, *, column: str, value: UUID, excluding: UUID, limit: int = HISTORY_LIMIT
) -> list[HistoryItem]:
    """The latest other work orders at the same unit (`unit_id`) or on the same asset (`asset_id`)."""
    if column not in ("unit_id", "asset_id"):
        raise ValueError(column)
    rows = await conn.fetch(
        f"""SELECT w.id, w.number, w.kind, w.status, w.category, w.title, w.created_at, w.completed_at,
                   a.display_name AS assignee_name, w.resolution ->> 'workDone' AS work_done
            FROM work_orders w LEFT JOIN users a ON a.id = COALESCE(w.assignee_id, w.last_assignee_id)
            WHERE w.{column} = $1 AND w.id <> $2
            ORDER BY w.created_at DESC LIMIT $3""",
        value,
        excluding,
        limit,
    )
    return [HistoryItem(**dict(r)) for r in rows]


async def work_order_brief(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record:
    """The fields a notification about a work order needs."""
    return await conn.fetchrow(
        """SELECT id, site_id, number, kind, priority, title, location, assignee_id, last_assignee_id
           FROM work_orders WHERE id = $1""",
        work_order_id,
    )


async def bump_version(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> asyncpg.Record:
    """Take the next seq for an event that leaves the status unchanged: (version, status)."""
    return await conn.fetchrow(
        """UPDATE work_orders SET version = version + 1, updated_at = $2 WHERE id = $1
           RETURNING version, status""",
        work_order_id,
        now,
    )


async def earlier_complaint(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    since: datetime,
    unit_id: UUID | None,
    complained_about_id: UUID | None,
    asset_id: UUID | None,
) -> asyncpg.Record | None:
    """The latest complaint since `since` from the same unit, about the same person or the same asset."""
    return await conn.fetchrow(
        """SELECT id, number, created_at FROM work_orders
           WHERE site_id = $1 AND kind = 'complaint' AND created_at >= $2
             AND (unit_id = $3 OR complained_about_id = $4 OR asset_id = $5)
           ORDER BY created_at DESC LIMIT 1""",
        site_id,
        since,
        unit_id,
        complained_about_id,
        asset_id,
    )


async def appointments_without_arrival(conn: asyncpg.Connection, *, before: datetime) -> list[asyncpg.Record]:
    """Open jobs whose appointment was before `before` and that nobody has arrived at yet."""
    return await conn.fetch(
        """SELECT id, site_id, number, title, appointment_at FROM work_orders
           WHERE appointment_at < $1 AND arrived_at IS NULL AND status = ANY($2::text[])""",
        before,
        sorted(AWAITING_ARRIVAL),
    )
