"""Rounds: check points, routes, schedules, rounds and their scans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from uuid import UUID

import asyncpg

from backend.db.queries.rows import insert_once, struct_of
from backend.domain.rounds import (
    CheckPoint,
    Round,
    RoundSchedule,
    Route,
    RoutePoint,
    Scan,
    qr_hash,
    qr_payload,
    time_of_day,
)


def _point(r: asyncpg.Record) -> CheckPoint:
    return struct_of(CheckPoint, r, qr=qr_payload(r["token"]))


async def insert_check_point(
    conn: asyncpg.Connection, *, site_id: UUID, name: str, place: str, asset_id: UUID | None, token: str
) -> CheckPoint | None:
    """Store a point; None when the site already has one of that name."""
    row = await conn.fetchrow(
        """INSERT INTO check_points (site_id, name, place, asset_id, token) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (site_id, name) DO NOTHING RETURNING *""",
        site_id,
        name,
        place,
        asset_id,
        token,
    )
    return _point(row) if row else None


async def check_point_id(conn: asyncpg.Connection, site_id: UUID, name: str) -> UUID:
    """The id of the site's point of that name."""
    return await conn.fetchval("SELECT id FROM check_points WHERE site_id = $1 AND name = $2", site_id, name)


async def list_check_points(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> list[CheckPoint]:
    """The points of these sites by name."""
    rows = await conn.fetch(
        "SELECT * FROM check_points WHERE site_id = ANY($1::uuid[]) ORDER BY name", list(site_ids)
    )
    return [_point(r) for r in rows]


async def check_points_by_id(conn: asyncpg.Connection, ids: Sequence[UUID]) -> list[asyncpg.Record]:
    """Points by id (any site; the caller checks)."""
    return list(await conn.fetch("SELECT * FROM check_points WHERE id = ANY($1::uuid[])", list(ids)))


async def asset_site(conn: asyncpg.Connection, asset_id: UUID) -> UUID | None:
    """The site of an asset."""
    return await conn.fetchval("SELECT site_id FROM assets WHERE id = $1", asset_id)


async def insert_route(
    conn: asyncpg.Connection, *, site_id: UUID, name: str, expected_minutes: int, point_ids: Sequence[UUID]
) -> UUID | None:
    """Store a route and its points in order; None when the site already has a route of that name."""
    route_id = await conn.fetchval(
        """INSERT INTO round_routes (site_id, name, expected_minutes) VALUES ($1, $2, $3)
           ON CONFLICT (site_id, name) DO NOTHING RETURNING id""",
        site_id,
        name,
        expected_minutes,
    )
    if route_id is None:
        return None
    await conn.executemany(
        "INSERT INTO round_route_points (route_id, position, check_point_id) VALUES ($1, $2, $3)",
        [(route_id, i, p) for i, p in enumerate(point_ids, start=1)],
    )
    return route_id


_ROUTE_POINTS = """
    SELECT rp.route_id, rp.position, rp.check_point_id, c.name, c.place, c.token
    FROM round_route_points rp JOIN check_points c ON c.id = rp.check_point_id
    WHERE rp.route_id = ANY($1::uuid[]) ORDER BY rp.route_id, rp.position
"""


async def route_points(
    conn: asyncpg.Connection, route_ids: Sequence[UUID]
) -> dict[UUID, list[asyncpg.Record]]:
    """Each route's points in walking order (with their tokens)."""
    points: dict[UUID, list[asyncpg.Record]] = {r: [] for r in route_ids}
    for row in await conn.fetch(_ROUTE_POINTS, list(route_ids)):
        points[row["route_id"]].append(row)
    return points


def _route_point(r: asyncpg.Record) -> RoutePoint:
    return struct_of(RoutePoint, r, qr_hash=qr_hash(r["token"]))


async def get_route_row(conn: asyncpg.Connection, route_id: UUID) -> asyncpg.Record | None:
    """A route with its site's code and time zone."""
    return await conn.fetchrow(
        """SELECT r.*, s.timezone, s.code AS site_code, s.name AS site_name
           FROM round_routes r JOIN sites s ON s.id = r.site_id WHERE r.id = $1""",
        route_id,
    )


async def list_routes(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> list[Route]:
    """The routes of these sites by name, each with its points."""
    rows = await conn.fetch(
        "SELECT * FROM round_routes WHERE site_id = ANY($1::uuid[]) ORDER BY name", list(site_ids)
    )
    points = await route_points(conn, [r["id"] for r in rows])
    return [struct_of(Route, r, points=[_route_point(p) for p in points[r["id"]]]) for r in rows]


def _schedule(r: asyncpg.Record) -> RoundSchedule:
    return struct_of(
        RoundSchedule,
        r,
        window_start=time_of_day(r["window_start"]),
        window_end=time_of_day(r["window_end"]),
        fixed_times=[time_of_day(t) for t in r["fixed_times"]] if r["fixed_times"] is not None else None,
    )


async def insert_schedule(
    conn: asyncpg.Connection,
    *,
    route_id: UUID,
    every_hours: int | None,
    window_start: time | None,
    window_end: time | None,
    fixed_times: Sequence[time] | None,
    next_slot_at: datetime,
) -> RoundSchedule:
    """Store a schedule."""
    row = await conn.fetchrow(
        """INSERT INTO round_schedules
               (route_id, every_hours, window_start, window_end, fixed_times, next_slot_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        route_id,
        every_hours,
        window_start,
        window_end,
        list(fixed_times) if fixed_times is not None else None,
        next_slot_at,
    )
    return _schedule(row)


async def list_schedules(conn: asyncpg.Connection, site_ids: Sequence[UUID]) -> list[RoundSchedule]:
    """The schedules of these sites' routes."""
    rows = await conn.fetch(
        """SELECT s.* FROM round_schedules s JOIN round_routes r ON r.id = s.route_id
           WHERE r.site_id = ANY($1::uuid[]) ORDER BY s.next_slot_at""",
        list(site_ids),
    )
    return [_schedule(r) for r in rows]


async def claim_due_schedules(
    conn: asyncpg.Connection, until: datetime, limit: int = 100
) -> list[asyncpg.Record]:
    """Active schedules whose next slot starts by `until`, locked (another scheduler skips them)."""
    return list(
        await conn.fetch(
            """SELECT sc.*, r.site_id, r.expected_minutes, r.active AS route_active, s.timezone,
                      s.code AS site_code
               FROM round_schedules sc
               JOIN round_routes r ON r.id = sc.route_id
               JOIN sites s ON s.id = r.site_id
               WHERE sc.active AND sc.next_slot_at <= $1
               ORDER BY sc.next_slot_at LIMIT $2
               FOR UPDATE OF sc SKIP LOCKED""",
            until,
            limit,
        )
    )


async def insert_scheduled_round(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    route_id: UUID,
    schedule_id: UUID,
    start: datetime,
    end: datetime,
) -> bool:
    """The round of a schedule's slot; False when it exists already (the unique slot refuses a second)."""
    values = dict(site_id=site_id, route_id=route_id, schedule_id=schedule_id, slot_start=start, slot_end=end)
    return await insert_once(conn, "rounds", values, "(schedule_id, slot_start)")


async def set_next_slot(conn: asyncpg.Connection, schedule_id: UUID, at: datetime) -> None:
    """Move a schedule on to its next slot."""
    await conn.execute("UPDATE round_schedules SET next_slot_at = $2 WHERE id = $1", schedule_id, at)


async def insert_walk(
    conn: asyncpg.Connection,
    *,
    round_id: UUID,
    site_id: UUID,
    route_id: UUID,
    start: datetime,
    end: datetime,
    started_by: UUID,
) -> bool:
    """An unscheduled round, started as it is made; False when that id exists already."""
    made = await conn.fetchval(
        """INSERT INTO rounds (id, site_id, route_id, slot_start, slot_end, status, started_by, started_at)
           VALUES ($1, $2, $3, $4, $5, 'in_progress', $6, $4) ON CONFLICT (id) DO NOTHING RETURNING true""",
        round_id,
        site_id,
        route_id,
        start,
        end,
        started_by,
    )
    return bool(made)


async def lock_round(conn: asyncpg.Connection, round_id: UUID) -> asyncpg.Record | None:
    """A round locked for a change, with its route's expected time."""
    return await conn.fetchrow(
        """SELECT ro.*, r.expected_minutes FROM rounds ro JOIN round_routes r ON r.id = ro.route_id
           WHERE ro.id = $1 FOR UPDATE OF ro""",
        round_id,
    )


async def mark_started(conn: asyncpg.Connection, round_id: UUID, user_id: UUID, at: datetime) -> None:
    """Record who started the round and when."""
    await conn.execute(
        """UPDATE rounds SET started_by = $2, started_at = $3,
                  status = CASE WHEN status = 'scheduled' THEN 'in_progress' ELSE status END
           WHERE id = $1""",
        round_id,
        user_id,
        at,
    )


async def set_status(
    conn: asyncpg.Connection, round_id: UUID, status: str, *, finished_at: datetime | None = None
) -> None:
    """Change a round's status (and when it was finished)."""
    await conn.execute(
        "UPDATE rounds SET status = $2, finished_at = COALESCE($3, finished_at) WHERE id = $1",
        round_id,
        status,
        finished_at,
    )


async def scans_of(conn: asyncpg.Connection, round_ids: Sequence[UUID]) -> dict[UUID, list[Scan]]:
    """Each round's scans in the order they were made."""
    rows = await conn.fetch(
        """SELECT sc.*, c.name FROM round_scans sc JOIN check_points c ON c.id = sc.check_point_id
           WHERE sc.round_id = ANY($1::uuid[]) ORDER BY sc.scanned_at, sc.received_at""",
        list(round_ids),
    )
    scans: dict[UUID, list[Scan]] = {r: [] for r in round_ids}
    for r in rows:
        scans[r["round_id"]].append(_scan(r))
    return scans


def _scan(r: asyncpg.Record) -> Scan:
    return struct_of(Scan, r, has_photo=r["photo_sha256"] is not None, flags=list(r["flags"]))


async def insert_scan(
    conn: asyncpg.Connection,
    *,
    round_id: UUID,
    check_point_id: UUID,
    position: int,
    scanned_by: UUID,
    scanned_at: datetime,
    received_at: datetime,
    result: str,
    note: str,
    photo_sha256: str | None,
    thumb_sha256: str | None,
    flags: Sequence[str],
) -> UUID | None:
    """Store a scan; None when the point was scanned on this round already."""
    return await conn.fetchval(
        """INSERT INTO round_scans (round_id, check_point_id, position, scanned_by, scanned_at, received_at,
                                    result, note, photo_sha256, thumb_sha256, flags)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (round_id, check_point_id) DO NOTHING RETURNING id""",
        round_id,
        check_point_id,
        position,
        scanned_by,
        scanned_at,
        received_at,
        result,
        note,
        photo_sha256,
        thumb_sha256,
        list(flags),
    )


async def scan_photo(conn: asyncpg.Connection, scan_id: UUID) -> asyncpg.Record | None:
    """A scan's photo hashes and its round's site."""
    return await conn.fetchrow(
        """SELECT sc.photo_sha256, sc.thumb_sha256, ro.site_id, b.media_type
           FROM round_scans sc JOIN rounds ro ON ro.id = sc.round_id
           LEFT JOIN blobs b ON b.sha256 = sc.photo_sha256 WHERE sc.id = $1""",
        scan_id,
    )


_ROUND = """
    SELECT ro.*, r.name AS route_name FROM rounds ro JOIN round_routes r ON r.id = ro.route_id
"""


async def rounds_by_rows(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[Round]:
    """Rounds with their points and scans."""
    points = await route_points(conn, list({r["route_id"] for r in rows}))
    scans = await scans_of(conn, [r["id"] for r in rows])
    return [
        struct_of(Round, r, points=[_route_point(p) for p in points[r["route_id"]]], scans=scans[r["id"]])
        for r in rows
    ]


async def get_round(conn: asyncpg.Connection, round_id: UUID) -> Round | None:
    """One round with points and scans."""
    row = await conn.fetchrow(_ROUND + " WHERE ro.id = $1", round_id)
    return (await rounds_by_rows(conn, [row]))[0] if row else None


async def list_rounds(
    conn: asyncpg.Connection,
    site_ids: Sequence[UUID],
    *,
    start: datetime,
    end: datetime,
    statuses: Sequence[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[Round], int]:
    """Rounds whose slot starts in [start, end), soonest first, and how many there are."""
    where = """WHERE ro.site_id = ANY($1::uuid[]) AND ro.slot_start >= $2 AND ro.slot_start < $3
               AND ($4::text[] IS NULL OR ro.status = ANY($4::text[]))"""
    args = (list(site_ids), start, end, list(statuses) if statuses else None)
    total = await conn.fetchval("SELECT count(*) FROM rounds ro " + where, *args)
    rows = await conn.fetch(
        _ROUND + where + " ORDER BY ro.slot_start, r.name LIMIT $5 OFFSET $6", *args, limit, offset
    )
    return await rounds_by_rows(conn, rows), total


async def claim_rounds_to_judge(
    conn: asyncpg.Connection, now: datetime, limit: int = 100
) -> list[asyncpg.Record]:
    """Rounds whose slot has ended and that nobody has judged yet, locked (another scheduler skips them)."""
    return list(
        await conn.fetch(
            """SELECT ro.*, r.name AS route_name, s.code AS site_code
               FROM rounds ro JOIN round_routes r ON r.id = ro.route_id JOIN sites s ON s.id = ro.site_id
               WHERE ro.judged_at IS NULL AND ro.slot_end <= $1
               ORDER BY ro.slot_end LIMIT $2
               FOR UPDATE OF ro SKIP LOCKED""",
            now,
            limit,
        )
    )


async def mark_judged(conn: asyncpg.Connection, round_id: UUID, status: str, now: datetime) -> None:
    """Record that the round's slot end has been judged, with its status then."""
    await conn.execute("UPDATE rounds SET judged_at = $2, status = $3 WHERE id = $1", round_id, now, status)


async def report_rows(
    conn: asyncpg.Connection, site_id: UUID, start: datetime, end: datetime
) -> list[asyncpg.Record]:
    """Per round of the site whose slot starts in [start, end): counts of points, scans, late, abnormal."""
    return list(
        await conn.fetch(
            """SELECT ro.id, ro.slot_start, ro.status, r.name AS route_name, u.display_name AS walked_by,
                      (SELECT count(*) FROM round_route_points rp WHERE rp.route_id = ro.route_id) AS points,
                      count(sc.id) AS done,
                      count(sc.id) FILTER (WHERE 'late' = ANY(sc.flags)) AS late,
                      count(sc.id) FILTER (WHERE sc.result = 'abnormal') AS abnormal,
                      count(sc.id) FILTER (WHERE sc.flags <> '{}') AS flagged
               FROM rounds ro
               JOIN round_routes r ON r.id = ro.route_id
               LEFT JOIN users u ON u.id = ro.started_by
               LEFT JOIN round_scans sc ON sc.round_id = ro.id
               WHERE ro.site_id = $1 AND ro.slot_start >= $2 AND ro.slot_start < $3
               GROUP BY ro.id, r.name, u.display_name, ro.route_id
               ORDER BY ro.slot_start, r.name""",
            site_id,
            start,
            end,
        )
    )


async def site_supervisors_by_locale(conn: asyncpg.Connection, site_id: UUID) -> dict[str, list[UUID]]:
    """The site's active supervisors, grouped by the language they read."""
    grouped: dict[str, list[UUID]] = {}
    for r in await conn.fetch(
        """SELECT u.id, u.locale FROM users u JOIN user_sites us ON us.user_id = u.id
           WHERE us.site_id = $1 AND u.active AND u.role = 'supervisor' ORDER BY u.username""",
        site_id,
    ):
        grouped.setdefault(r["locale"], []).append(r["id"])
    return grouped


async def get_check_point(conn: asyncpg.Connection, point_id: UUID) -> asyncpg.Record | None:
    """A point's row (any site; the caller checks)."""
    return await conn.fetchrow("SELECT * FROM check_points WHERE id = $1", point_id)


async def update_check_point(
    conn: asyncpg.Connection, point_id: UUID, *, name: str | None, place: str | None, active: bool | None
) -> CheckPoint | None:
    """Change what is given; None when another point of the site has that name."""
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                """UPDATE check_points SET name = COALESCE($2, name), place = COALESCE($3, place),
                          active = COALESCE($4, active)
                   WHERE id = $1 RETURNING *""",
                point_id,
                name,
                place,
                active,
            )
    except asyncpg.UniqueViolationError:
        return None
    return _point(row)


async def update_route(
    conn: asyncpg.Connection,
    route_id: UUID,
    *,
    name: str | None,
    expected_minutes: int | None,
    active: bool | None,
) -> bool:
    """Change what is given; False when another route of the site has that name."""
    try:
        async with conn.transaction():
            await conn.execute(
                """UPDATE round_routes SET name = COALESCE($2, name),
                          expected_minutes = COALESCE($3, expected_minutes), active = COALESCE($4, active)
                   WHERE id = $1""",
                route_id,
                name,
                expected_minutes,
                active,
            )
    except asyncpg.UniqueViolationError:
        return False
    return True


async def get_schedule_row(conn: asyncpg.Connection, schedule_id: UUID) -> asyncpg.Record | None:
    """A schedule with its route's site and time zone (locked: the scheduler skips it meanwhile)."""
    return await conn.fetchrow(
        """SELECT sc.*, r.site_id, s.timezone FROM round_schedules sc
           JOIN round_routes r ON r.id = sc.route_id JOIN sites s ON s.id = r.site_id
           WHERE sc.id = $1 FOR UPDATE OF sc""",
        schedule_id,
    )


async def set_schedule_active(
    conn: asyncpg.Connection, schedule_id: UUID, active: bool, next_slot_at: datetime
) -> RoundSchedule:
    """Switch a schedule on or off, with the next slot it will make a round for."""
    row = await conn.fetchrow(
        "UPDATE round_schedules SET active = $2, next_slot_at = $3 WHERE id = $1 RETURNING *",
        schedule_id,
        active,
        next_slot_at,
    )
    return _schedule(row)
