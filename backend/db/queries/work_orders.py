"""Work orders in SQL: numbering, rows, the event log, clocks, evidence reads, the dispatch ranking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.domain import sla
from backend.domain.work_orders import (
    Callback,
    ChecklistItem,
    Clock,
    Event,
    Photo,
    Signature,
    TechnicianSuggestion,
    WorkOrder,
)
from backend.errors import Conflict

_SELECT = """
    SELECT w.*,
           b.name || ' ' || u.number AS unit_label,
           a.display_name AS assignee_name,
           COALESCE((SELECT json_agg(json_build_object(
                        'clock', c.clock, 'dueAt', c.due_at, 'metAt', c.met_at, 'pausedSince', c.paused_since,
                        'breachedAt', c.breached_at, 'escalatedAt', c.escalated_at)
                        ORDER BY array_position(ARRAY['respond', 'arrive', 'resolve', 'callback'], c.clock))
                     FROM work_order_clocks c WHERE c.work_order_id = w.id), '[]'::json) AS clocks
    FROM work_orders w
    LEFT JOIN units u ON u.id = w.unit_id
    LEFT JOIN buildings b ON b.id = u.building_id
    LEFT JOIN users a ON a.id = w.assignee_id
"""

_WORK_ORDER_FIELDS = tuple(f for f in WorkOrder.__struct_fields__ if f != "clocks")


def _ts(value: Any) -> datetime | None:
    return None if value is None else msgspec.convert(value, datetime)


def _clock(raw: dict[str, Any], now: datetime) -> Clock:
    due = _ts(raw["dueAt"])
    met = _ts(raw["metAt"])
    paused = _ts(raw["pausedSince"])
    assert due is not None
    return Clock(
        clock=raw["clock"],
        due_at=due,
        met_at=met,
        paused_since=paused,
        breached_at=_ts(raw["breachedAt"]),
        escalated_at=_ts(raw["escalatedAt"]),
        state=sla.clock_state(due, met, paused, now),
    )


def _work_order(row: asyncpg.Record, now: datetime) -> WorkOrder:
    fields = {f: row[f] for f in _WORK_ORDER_FIELDS}
    return WorkOrder(**fields, clocks=[_clock(c, now) for c in row["clocks"]])


def as_fields(wo: WorkOrder) -> dict[str, Any]:
    """A WorkOrder's fields as a dict (to build the detail from it)."""
    return {f: getattr(wo, f) for f in WorkOrder.__struct_fields__}


async def find_site(conn: asyncpg.Connection, ref: str) -> asyncpg.Record | None:
    """A site by code or id: (id, code, timezone)."""
    try:
        site_id: UUID | None = UUID(ref)
    except ValueError:
        site_id = None
    return await conn.fetchrow(
        "SELECT id, code, timezone FROM sites WHERE code = $1 OR id = $2", ref, site_id
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


async def sla_policy(conn: asyncpg.Connection, site_id: UUID, kind: str, priority: int) -> sla.Policy:
    """The SLA policy for a site, kind and priority: the site's own row wins over the default."""
    row = await conn.fetchrow(
        """SELECT respond_minutes, arrive_minutes, resolve_minutes, callback_minutes FROM sla_policies
           WHERE (site_id = $1 OR site_id IS NULL) AND kind = $2 AND priority = $3
           ORDER BY site_id NULLS LAST LIMIT 1""",
        site_id,
        kind,
        priority,
    )
    if row is None:
        return sla.Policy(None, None, None, None)
    return sla.Policy(
        row["respond_minutes"], row["arrive_minutes"], row["resolve_minutes"], row["callback_minutes"]
    )


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
        raise Conflict("a work order for this plan and period already exists", code="duplicate") from e


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
    return await conn.fetchrow("SELECT * FROM work_orders WHERE id = $1 FOR UPDATE", work_order_id)


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


async def start_clocks(
    conn: asyncpg.Connection, work_order_id: UUID, starts_at: datetime, due: dict[str, datetime]
) -> None:
    """Start clocks (or restart one that exists, as the callback clock after a reopen)."""
    for name, due_at in due.items():
        await conn.execute(
            """INSERT INTO work_order_clocks (work_order_id, clock, due_at, starts_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (work_order_id, clock) DO UPDATE
               SET due_at = EXCLUDED.due_at, starts_at = EXCLUDED.starts_at,
                   met_at = NULL, paused_since = NULL, breached_at = NULL, escalated_at = NULL""",
            work_order_id,
            name,
            due_at,
            starts_at,
        )


async def meet_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Mark a clock met (the first time only)."""
    await conn.execute(
        """UPDATE work_order_clocks SET met_at = $3, paused_since = NULL
           WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL""",
        work_order_id,
        clock,
        at,
    )


async def reset_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str) -> None:
    """Make a met clock run again, keeping its due time (a declined job must be accepted again)."""
    await conn.execute(
        "UPDATE work_order_clocks SET met_at = NULL WHERE work_order_id = $1 AND clock = $2",
        work_order_id,
        clock,
    )


async def pause_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Stop a running clock."""
    await conn.execute(
        """UPDATE work_order_clocks SET paused_since = $3
           WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL AND paused_since IS NULL""",
        work_order_id,
        clock,
        at,
    )


async def resume_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str, at: datetime) -> None:
    """Restart a paused clock: due (and start) move later by the paused time, keeping the clock's length."""
    await conn.execute(
        """UPDATE work_order_clocks
           SET due_at = due_at + GREATEST($3 - paused_since, interval '0'),
               starts_at = starts_at + GREATEST($3 - paused_since, interval '0'),
               paused_since = NULL
           WHERE work_order_id = $1 AND clock = $2 AND paused_since IS NOT NULL""",
        work_order_id,
        clock,
        at,
    )


async def open_clock(conn: asyncpg.Connection, work_order_id: UUID, clock: str) -> asyncpg.Record | None:
    """An unmet clock of the work order, if any."""
    return await conn.fetchrow(
        "SELECT * FROM work_order_clocks WHERE work_order_id = $1 AND clock = $2 AND met_at IS NULL",
        work_order_id,
        clock,
    )


async def get_work_order(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> WorkOrder | None:
    """One work order with its clocks."""
    row = await conn.fetchrow(_SELECT + " WHERE w.id = $1", work_order_id)
    return _work_order(row, now) if row else None


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
    text: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[WorkOrder], int]:
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
    if kind is not None:
        where.append(f"w.kind = {param(kind)}")
    if assignee_id is not None:
        where.append(f"w.assignee_id = {param(assignee_id)}")
    if unassigned:
        where.append("w.assignee_id IS NULL")
    if overdue:
        # a running clock past its due time
        where.append(
            f"""EXISTS (SELECT 1 FROM work_order_clocks c WHERE c.work_order_id = w.id
                 AND c.met_at IS NULL AND c.paused_since IS NULL AND c.due_at < {param(now)})
               AND w.status <> 'cancelled'"""
        )
    if text is not None:
        pattern = param(text)
        where.append(f"(w.number ILIKE '%' || {pattern} || '%' OR w.title ILIKE '%' || {pattern} || '%')")
    condition = " AND ".join(where)
    total = await conn.fetchval(f"SELECT count(*) FROM work_orders w WHERE {condition}", *args)
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
    return [_work_order(r, now) for r in rows], total


async def list_events(conn: asyncpg.Connection, work_order_id: UUID) -> list[Event]:
    """The work order's log in order."""
    rows = await conn.fetch(
        """SELECT e.*, u.display_name AS actor_name FROM work_order_events e
           LEFT JOIN users u ON u.id = e.actor_id WHERE e.work_order_id = $1 ORDER BY e.seq""",
        work_order_id,
    )
    return [
        Event(
            seq=r["seq"],
            action=r["action"],
            from_status=r["from_status"],
            to_status=r["to_status"],
            actor_id=r["actor_id"],
            actor_name=r["actor_name"],
            at=r["at"],
            client_at=r["client_at"],
            geo=r["geo"],
            payload=r["payload"],
        )
        for r in rows
    ]


async def list_callbacks(conn: asyncpg.Connection, work_order_id: UUID) -> list[Callback]:
    """The follow-up calls made, in order."""
    rows = await conn.fetch(
        "SELECT * FROM callbacks WHERE work_order_id = $1 ORDER BY attempt", work_order_id
    )
    return [
        Callback(
            id=r["id"],
            attempt=r["attempt"],
            reached=r["reached"],
            satisfaction=r["satisfaction"],
            comment=r["comment"],
            called_by=r["called_by"],
            called_at=r["called_at"],
        )
        for r in rows
    ]


async def list_photos(conn: asyncpg.Connection, work_order_id: UUID) -> list[Photo]:
    """The job's photos, oldest first."""
    rows = await conn.fetch(
        """SELECT id, stage, sha256, width, height, taken_at FROM photos WHERE work_order_id = $1
           ORDER BY uploaded_at, id""",
        work_order_id,
    )
    return [
        Photo(
            id=r["id"],
            stage=r["stage"],
            sha256=r["sha256"],
            width=r["width"],
            height=r["height"],
            taken_at=r["taken_at"],
            url=f"/api/v1/photos/{r['id']}",
        )
        for r in rows
    ]


async def get_signature(conn: asyncpg.Connection, work_order_id: UUID) -> Signature | None:
    """The signature row, if the job was signed (or a no-signature reason recorded)."""
    r = await conn.fetchrow("SELECT * FROM signatures WHERE work_order_id = $1", work_order_id)
    if r is None:
        return None
    return Signature(
        record_hash=r["record_hash"],
        signed_at=r["signed_at"],
        sha256=r["sha256"],
        signer_name=r["signer_name"],
        relation=r["relation"],
        no_sign_reason=r["no_sign_reason"],
    )


async def after_photo_count(conn: asyncpg.Connection, work_order_id: UUID) -> int:
    """How many 'after' photos the job has."""
    return await conn.fetchval(
        "SELECT count(*) FROM photos WHERE work_order_id = $1 AND stage = 'after'", work_order_id
    )


async def checklist(conn: asyncpg.Connection, site_id: UUID, kind: str) -> list[ChecklistItem]:
    """The on-site checklist for a kind at a site, in order: the defaults, each replaced by the site's own
    item with the same code, plus the site's extra items."""
    rows = await conn.fetch(
        """SELECT * FROM (
               SELECT DISTINCT ON (code) code, label_zh, label_en, required, position
               FROM checklist_items
               WHERE kind = $2 AND (site_id = $1 OR site_id IS NULL)
               ORDER BY code, site_id NULLS LAST    -- the site's row first
           ) items
           ORDER BY position, code""",
        site_id,
        kind,
    )
    return [ChecklistItem(**dict(r)) for r in rows]


async def required_checklist_codes(conn: asyncpg.Connection, site_id: UUID, kind: str) -> list[str]:
    """The codes a completion must confirm: the required items of the site's checklist for the kind."""
    return [item.code for item in await checklist(conn, site_id, kind) if item.required]


# First key of the two-key advisory locks that serialise auto-assignment per site ("DSPT").
DISPATCH_LOCK_CLASS = 0x44535054


async def lock_site_dispatch(conn: asyncpg.Connection, site_id: UUID) -> None:
    """Hold the site's dispatch lock until the transaction ends: one automatic choice at a time per site.

    Ranking reads open-job counts without locking anything, so two emergencies created at the same moment
    would both see the same least-busy technician; with this lock the second ranks after the first commits.
    A hash collision between two sites only makes them wait for each other.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2::text))", DISPATCH_LOCK_CLASS, str(site_id)
    )


async def rank_technicians(
    conn: asyncpg.Connection, site_id: UUID, category: str, *, open_statuses: Iterable[str]
) -> list[TechnicianSuggestion]:
    """On-duty technicians of the site: those with the category's skill first, then by fewest open jobs."""
    rows = await conn.fetch(
        """SELECT u.id, u.username, u.display_name, u.skills, $2 = ANY(u.skills) AS skilled,
                  (SELECT count(*) FROM work_orders w
                    WHERE w.assignee_id = u.id AND w.status = ANY($3::text[])) AS open_jobs
           FROM users u JOIN user_sites us ON us.user_id = u.id AND us.site_id = $1
           WHERE u.role = 'technician' AND u.active AND u.on_duty
           ORDER BY skilled DESC, open_jobs, u.username""",
        site_id,
        category,
        list(open_statuses),
    )
    return [
        TechnicianSuggestion(
            user_id=r["id"],
            username=r["username"],
            display_name=r["display_name"],
            skills=list(r["skills"]),
            skilled=r["skilled"],
            open_jobs=r["open_jobs"],
        )
        for r in rows
    ]


async def assignable_user(conn: asyncpg.Connection, user_id: UUID, site_id: UUID) -> asyncpg.Record | None:
    """An active member of the site: (id, role, display_name)."""
    return await conn.fetchrow(
        """SELECT u.id, u.role, u.display_name FROM users u
           JOIN user_sites us ON us.user_id = u.id AND us.site_id = $2 WHERE u.id = $1 AND u.active""",
        user_id,
        site_id,
    )


async def bump_version(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> asyncpg.Record:
    """Take the next seq for an event that leaves the status unchanged: (version, status)."""
    return await conn.fetchrow(
        """UPDATE work_orders SET version = version + 1, updated_at = $2 WHERE id = $1
           RETURNING version, status""",
        work_order_id,
        now,
    )


async def claim_due_clocks(conn: asyncpg.Connection, now: datetime, limit: int = 100) -> list[asyncpg.Record]:
    """Lock clocks that are past due (first breach) or past a further half of their length (manager).

    SKIP LOCKED never waits, so any number of scheduler processes split the rows between them and none
    deadlocks with a user action holding a work order. Nothing is marked here: the caller marks each step
    with `mark_clock_step` together with its notifications, so a step that fails is tried again.
    """
    return list(
        await conn.fetch(
            """SELECT c.work_order_id, c.clock, c.due_at, s.code AS site_code,
                      c.breached_at IS NULL AS breach,
                      $1 >= c.due_at + (c.due_at - c.starts_at) / 2 AS escalate
               FROM work_order_clocks c JOIN work_orders w ON w.id = c.work_order_id
                    JOIN sites s ON s.id = w.site_id
               WHERE c.met_at IS NULL AND c.paused_since IS NULL AND c.escalated_at IS NULL
                 AND c.due_at <= $1 AND w.status <> 'cancelled'
                 -- already breached: only the manager step is left, at due + half the length
                 AND (c.breached_at IS NULL OR $1 >= c.due_at + (c.due_at - c.starts_at) / 2)
               ORDER BY c.due_at
               LIMIT $2
               FOR UPDATE OF c, w SKIP LOCKED""",
            now,
            limit,
        )
    )


async def mark_clock_step(
    conn: asyncpg.Connection, work_order_id: UUID, clock: str, *, now: datetime, escalate: bool
) -> None:
    """Record that a clock's breach (and, with `escalate`, its manager step) has been dealt with."""
    await conn.execute(
        """UPDATE work_order_clocks
           SET breached_at = COALESCE(breached_at, $3),
               escalated_at = CASE WHEN $4 THEN $3 ELSE escalated_at END
           WHERE work_order_id = $1 AND clock = $2""",
        work_order_id,
        clock,
        now,
        escalate,
    )


async def work_order_brief(conn: asyncpg.Connection, work_order_id: UUID) -> asyncpg.Record:
    """The fields a notification about a work order needs."""
    return await conn.fetchrow(
        """SELECT id, site_id, number, kind, priority, title, location, assignee_id, last_assignee_id
           FROM work_orders WHERE id = $1""",
        work_order_id,
    )
