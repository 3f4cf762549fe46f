"""Rounds: laying out points, routes and schedules; making one round per slot; scans; judging a slot's end.

Two jobs run in every scheduler process: `generate_rounds` claims due schedules (SKIP LOCKED) and the unique
(schedule, slot) refuses a second round; `judge_ended_rounds` claims rounds whose slot has ended and tells
the supervisor of missed points once (judged_at). Both are safe to run anywhere at once.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import segno

from backend.db.queries import rounds as q
from backend.db.queries.rows import struct_of
from backend.domain import rounds as rules
from backend.domain.models import CurrentUser
from backend.domain.rounds import (
    CheckPoint,
    CheckPointCreate,
    CheckPointUpdate,
    PriorScan,
    Round,
    RoundPage,
    RoundReport,
    RoundReportLine,
    RoundSchedule,
    RoundStart,
    Route,
    RouteCreate,
    RouteUpdate,
    ScanForm,
    ScheduleCreate,
    ScheduleUpdate,
)
from backend.domain.sla import credited_time
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services import hazards
from backend.services.job_health import savepoint_skipped_on_failure
from backend.services.notifications import notify, publish
from backend.services.photos import keep_photo
from backend.services.sites import site_for, site_ids_for
from backend.storage import Storage

# A schedule that fell far behind (the service was down) does not make a round for every slot it missed.
CATCH_UP = timedelta(days=1)
TOKEN_BYTES = 16
# The QR sheet's one stylesheet: inline, so the page prints on its own; its CSP admits it by hash.
QR_SHEET_STYLE = """
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 12mm; }
.sheet { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8mm; }
.point { margin: 0; padding: 4mm; border: 1px dashed #888; text-align: center; break-inside: avoid; }
.point svg { width: 45mm; height: 45mm; }
figcaption { font-size: 12pt; }
"""
# The sheet's style as a hash-source: its own policy, and the app's (a sheet opened from the app keeps it).
QR_SHEET_STYLE_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(QR_SHEET_STYLE.encode()).digest()).decode() + "'"
)
QR_SHEET_POLICY = (
    f"default-src 'none'; style-src {QR_SHEET_STYLE_SOURCE}; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _must_plan(actor: CurrentUser) -> None:
    if actor.role not in rules.PLANNER_ROLES:
        raise Forbidden("only supervisors and up lay out rounds", code="role_forbidden")


def _must_walk(actor: CurrentUser) -> None:
    if actor.role not in rules.WALKER_ROLES:
        raise Forbidden("only guards and their supervisors walk rounds", code="role_forbidden")


# ---- points, routes, schedules ----


async def create_check_point(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: CheckPointCreate
) -> CheckPoint:
    """A new point of the actor's site, with a random token for its QR code."""
    _must_plan(actor)
    site = await site_for(conn, actor, data.site)
    if data.asset_id is not None and await q.asset_site(conn, data.asset_id) != site.id:
        raise ValidationFailed("no such asset at this site", field="assetId")
    point = await q.insert_check_point(
        conn,
        site_id=site.id,
        name=data.name,
        place=data.place,
        asset_id=data.asset_id,
        token=secrets.token_urlsafe(TOKEN_BYTES),
    )
    if point is None:
        raise Conflict("the site already has a point of that name", code="name_taken")
    return point


async def list_check_points(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None
) -> list[CheckPoint]:
    """Points of the viewer's sites (QR payloads included: planners print them)."""
    _must_plan(viewer)
    return await q.list_check_points(conn, await site_ids_for(conn, viewer, site))


async def create_route(
    conn: asyncpg.Connection, *, actor: CurrentUser, site: str | None, data: RouteCreate
) -> Route:
    """A route over points of one site, in the order given."""
    _must_plan(actor)
    found = await site_for(conn, actor, site)
    if len(set(data.check_point_ids)) != len(data.check_point_ids):
        raise ValidationFailed("a point appears twice", field="checkPointIds")
    points = await q.check_points_by_id(conn, data.check_point_ids)
    if len(points) != len(data.check_point_ids) or any(p["site_id"] != found.id for p in points):
        raise ValidationFailed("no such check point at this site", field="checkPointIds")
    route_id = await q.insert_route(
        conn,
        site_id=found.id,
        name=data.name,
        expected_minutes=data.expected_minutes,
        point_ids=data.check_point_ids,
    )
    if route_id is None:
        raise Conflict("the site already has a route of that name", code="name_taken")
    return next(r for r in await q.list_routes(conn, [found.id]) if r.id == route_id)


async def list_routes(conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None) -> list[Route]:
    """Routes of the viewer's sites with their points."""
    _must_walk(viewer)
    return await q.list_routes(conn, await site_ids_for(conn, viewer, site))


async def _visible_route(conn: asyncpg.Connection, viewer: CurrentUser, route_id: UUID) -> asyncpg.Record:
    route = await q.get_route_row(conn, route_id)
    if route is None or not viewer.may_see_site(route["site_id"]):
        raise NotFound("no such route", code="route_not_found")
    return route


async def create_schedule(
    conn: asyncpg.Connection, *, actor: CurrentUser, route_id: UUID, data: ScheduleCreate, now: datetime
) -> RoundSchedule:
    """A schedule for a route; its first round is the first slot from now."""
    _must_plan(actor)
    route = await _visible_route(conn, actor, route_id)
    schedule = data.schedule()
    wrong = rules.check_schedule(schedule)
    if wrong is not None:
        raise ValidationFailed("give everyHours with windowStart and windowEnd, or fixedTimes", field=wrong)
    first = rules.next_slot(schedule, ZoneInfo(route["timezone"]), now)
    return await q.insert_schedule(
        conn,
        route_id=route_id,
        every_hours=schedule.every_hours,
        window_start=schedule.window_start,
        window_end=schedule.window_end,
        fixed_times=schedule.fixed_times,
        next_slot_at=first,
    )


async def list_schedules(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None
) -> list[RoundSchedule]:
    """Schedules of the viewer's sites, next slot first."""
    _must_plan(viewer)
    return await q.list_schedules(conn, await site_ids_for(conn, viewer, site))


async def update_check_point(
    conn: asyncpg.Connection, *, actor: CurrentUser, point_id: UUID, data: CheckPointUpdate
) -> CheckPoint:
    """Rename, move or switch off a point of the actor's sites (its QR code stays the same)."""
    _must_plan(actor)
    row = await q.get_check_point(conn, point_id)
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such check point", code="check_point_not_found")
    point = await q.update_check_point(conn, point_id, name=data.name, place=data.place, active=data.active)
    if point is None:
        raise Conflict("the site already has a point of that name", code="name_taken")
    return point


async def update_route(
    conn: asyncpg.Connection, *, actor: CurrentUser, route_id: UUID, data: RouteUpdate
) -> Route:
    """Rename a route, change its expected minutes, or switch it off (its schedules then make no rounds)."""
    _must_plan(actor)
    route = await _visible_route(conn, actor, route_id)
    if not await q.update_route(
        conn, route_id, name=data.name, expected_minutes=data.expected_minutes, active=data.active
    ):
        raise Conflict("the site already has a route of that name", code="name_taken")
    return next(r for r in await q.list_routes(conn, [route["site_id"]]) if r.id == route_id)


async def update_schedule(
    conn: asyncpg.Connection, *, actor: CurrentUser, schedule_id: UUID, data: ScheduleUpdate, now: datetime
) -> RoundSchedule:
    """Switch a schedule off, or on again from the first slot after now (no catching up on the gap)."""
    _must_plan(actor)
    row = await q.get_schedule_row(conn, schedule_id)
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such schedule", code="schedule_not_found")
    following = row["next_slot_at"]
    if data.active and not row["active"]:
        following = rules.next_slot(_schedule_of(row), ZoneInfo(row["timezone"]), now)
    return await q.set_schedule_active(conn, schedule_id, data.active, following)


# ---- the scheduler's two jobs ----


def _schedule_of(row: asyncpg.Record) -> rules.Schedule:
    return rules.Schedule(
        every_hours=row["every_hours"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        fixed_times=tuple(row["fixed_times"]) if row["fixed_times"] is not None else None,
    )


async def generate_rounds(conn: asyncpg.Connection, now: datetime) -> int:
    """Make the round of every schedule slot starting within GENERATE_AHEAD; returns how many were made."""
    made = 0
    for row in await q.claim_due_schedules(conn, now + rules.GENERATE_AHEAD):
        async with savepoint_skipped_on_failure(
            conn, site=row["site_code"], subject=f"round schedule {row['id']}"
        ):
            made += await _generate_for(conn, row, now)
    return made


async def _generate_for(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> int:
    tz = ZoneInfo(row["timezone"])
    schedule = _schedule_of(row)
    slot = row["next_slot_at"]
    if slot < now - CATCH_UP:
        slot = rules.next_slot(schedule, tz, now - CATCH_UP)
    made = 0
    while slot <= now + rules.GENERATE_AHEAD:
        if row["route_active"] and await q.insert_scheduled_round(
            conn,
            site_id=row["site_id"],
            route_id=row["route_id"],
            schedule_id=row["id"],
            start=slot,
            end=slot + timedelta(minutes=row["expected_minutes"]),
        ):
            made += 1
        slot = rules.next_slot(schedule, tz, slot + timedelta(seconds=1))
    await q.set_next_slot(conn, row["id"], slot)
    return made


async def judge_ended_rounds(conn: asyncpg.Connection, now: datetime) -> int:
    """Judge every round whose slot has ended: done, incomplete or missed; the supervisor is told of the
    points not scanned in time (once: the round is marked judged). Returns how many rounds were told about."""
    told = 0
    for row in await q.claim_rounds_to_judge(conn, now):
        async with savepoint_skipped_on_failure(conn, site=row["site_code"], subject=f"round {row['id']}"):
            told += await _judge(conn, row, now)
    return told


async def _judge(conn: asyncpg.Connection, row: asyncpg.Record, now: datetime) -> int:
    found = await q.get_round(conn, row["id"])
    assert found is not None  # locked by this transaction
    on_time = {s.check_point_id for s in found.scans if "late" not in s.flags}
    missing = [p for p in found.points if p.check_point_id not in on_time]
    status = "done" if not missing else ("missed" if not found.scans else "incomplete")
    if found.status == "done":
        status = "done"
    await q.mark_judged(conn, found.id, status, now)
    if not missing:
        return 0
    scanned = {s.check_point_id for s in found.scans}
    late = [p.name for p in missing if p.check_point_id in scanned]
    never = [p.name for p in missing if p.check_point_id not in scanned]
    for locale, recipients in (await q.site_supervisors_by_locale(conn, found.site_id)).items():
        title, body = rules.judged_notice(found.route_name, missed=never, late=late, locale=locale)
        await notify(
            conn,
            site_id=found.site_id,
            recipient_ids=recipients,
            kind="round_missed" if never else "round_late",
            title=title,
            body=body,
            data={"roundId": str(found.id), "missed": [str(p.check_point_id) for p in missing]},
            urgency="high" if never else "normal",
            dedupe_key=f"round_missed:{found.id}",
        )
    await publish(
        conn,
        site_id=found.site_id,
        type="round.judged",
        data={"roundId": str(found.id), "status": status, "missed": len(missing)},
        roles=("supervisor", "manager", "admin"),
    )
    return 1


# ---- walking a round ----


async def _visible_round(conn: asyncpg.Connection, viewer: CurrentUser, round_id: UUID) -> asyncpg.Record:
    row = await q.lock_round(conn, round_id)
    # another site's round answers like a missing one
    if row is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such round", code="round_not_found")
    return row


async def get_round(conn: asyncpg.Connection, *, viewer: CurrentUser, round_id: UUID) -> Round:
    """One round with its points and scans."""
    _must_walk(viewer)
    found = await q.get_round(conn, round_id)
    if found is None or not viewer.may_see_site(found.site_id):
        raise NotFound("no such round", code="round_not_found")
    return found


async def list_rounds(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None,
    now: datetime,
    status: str | None,
    limit: int,
    offset: int,
) -> RoundPage:
    """Rounds of the last and the next twelve hours, soonest first."""
    _must_walk(viewer)
    statuses = [s for s in (status or "").split(",") if s]
    if any(s not in rules.STATUSES for s in statuses):
        raise ValidationFailed(f"status must be among {', '.join(rules.STATUSES)}", field="status")
    items, total = await q.list_rounds(
        conn,
        await site_ids_for(conn, viewer, site),
        start=now - timedelta(hours=12),
        end=now + timedelta(hours=12),
        statuses=statuses or None,
        limit=limit,
        offset=offset,
    )
    return RoundPage(items=items, total=total, limit=limit, offset=offset)


async def start_round(
    conn: asyncpg.Connection, *, actor: CurrentUser, round_id: UUID, client_at: datetime | None, now: datetime
) -> Round:
    """Start a scheduled round (a second start by the same walker changes nothing)."""
    _must_walk(actor)
    row = await _visible_round(conn, actor, round_id)
    if row["started_by"] is not None and row["started_by"] != actor.id:
        raise Conflict("someone else is walking this round", code="round_taken")
    if row["started_at"] is None:
        # the phone's time counts from the round's appearance on the phone, never before
        at = credited_time(client_at, row["slot_start"] - rules.GENERATE_AHEAD, now)
        await q.mark_started(conn, round_id, actor.id, at)
    return await get_round(conn, viewer=actor, round_id=round_id)


async def start_walk(
    conn: asyncpg.Connection, *, actor: CurrentUser, data: RoundStart, now: datetime
) -> Round:
    """Start an unscheduled round of a route now, under the id the phone made."""
    _must_walk(actor)
    if data.id is None or data.route_id is None:
        raise ValidationFailed("give the round's id and its routeId", field="routeId" if data.id else "id")
    route = await _visible_route(conn, actor, data.route_id)
    start = credited_time(data.client_at, now - CATCH_UP, now)
    made = await q.insert_walk(
        conn,
        round_id=data.id,
        site_id=route["site_id"],
        route_id=route["id"],
        start=start,
        end=start + timedelta(minutes=route["expected_minutes"]),
        started_by=actor.id,
    )
    if not made:
        raise Conflict("a round with this id exists", code="duplicate")
    return await get_round(conn, viewer=actor, round_id=data.id)


async def record_scan(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    actor: CurrentUser,
    round_id: UUID,
    form: ScanForm,
    photo: tuple[bytes, str | None, str | None] | None,
    now: datetime,
) -> Round:
    """Record a point scanned on the round at the phone's time; out of order, too fast or late is flagged,
    never refused. A second scan of the same point is a 409; the round is done when every point is."""
    _must_walk(actor)
    row = await _visible_round(conn, actor, round_id)
    token = rules.token_of(form.qr)
    current = await q.get_round(conn, round_id)
    assert current is not None
    points = await q.route_points(conn, [row["route_id"]])
    point = next((p for p in points[row["route_id"]] if p["token"] == token), None)
    if point is None:
        raise ValidationFailed(
            "this code is not a point of this round's route", field="qr", code="point_not_on_route"
        )
    if row["started_at"] is None:
        await q.mark_started(
            conn,
            round_id,
            actor.id,
            credited_time(form.client_at, row["slot_start"] - rules.GENERATE_AHEAD, now),
        )
        row = await _visible_round(conn, actor, round_id)
    scanned_at = credited_time(form.client_at, row["started_at"], now)
    flags = rules.scan_flags(
        position=point["position"],
        scanned_at=scanned_at,
        prior=[PriorScan(position=s.position, scanned_at=s.scanned_at) for s in current.scans],
        positions=[p.position for p in current.points],
        expected_minutes=row["expected_minutes"],
        slot_end=row["slot_end"],
    )
    site_zone = await conn.fetchval("SELECT timezone FROM sites WHERE id = $1", row["site_id"])
    hashes = await keep_photo(conn, storage, photo, site_zone) if photo is not None else (None, None)
    scan_id = await q.insert_scan(
        conn,
        round_id=round_id,
        check_point_id=point["check_point_id"],
        position=point["position"],
        scanned_by=actor.id,
        scanned_at=scanned_at,
        received_at=now,
        result=form.result,
        note=form.note,
        photo_sha256=hashes[0],
        thumb_sha256=hashes[1],
        flags=flags,
    )
    if scan_id is None:
        raise Conflict("this point is already scanned on this round", code="point_already_scanned")
    if len(current.scans) + 1 == len(current.points):
        await q.set_status(conn, round_id, "done", finished_at=scanned_at)
    elif row["status"] in ("scheduled", "missed"):
        await q.set_status(conn, round_id, "in_progress" if row["judged_at"] is None else "incomplete")
    if form.result == "abnormal":
        # an abnormal finding goes into the hazard ledger at once (登记), with its photo
        await hazards.register_hazard(
            conn,
            site_id=row["site_id"],
            source="round",
            place=f"{point['name']}（{point['place']}）" if point["place"] else point["name"],
            description=form.note or "巡逻发现异常",
            risk_level="medium",
            reported_by=actor.id,
            at=scanned_at,
            now=now,
            round_scan_id=scan_id,
            photo=hashes,
        )
    updated = await get_round(conn, viewer=actor, round_id=round_id)
    await publish(
        conn,
        site_id=row["site_id"],
        type="round.updated",
        data={"roundId": str(round_id), "status": updated.status, "scans": len(updated.scans)},
        roles=("guard", "supervisor", "manager", "admin"),
    )
    return updated


async def scan_photo(
    conn: asyncpg.Connection, storage: Storage, *, viewer: CurrentUser, scan_id: UUID, thumbnail: bool
) -> tuple[bytes, str, str]:
    """A scan's photo (bytes, media type, sha256), for staff of its site."""
    row = await q.scan_photo(conn, scan_id)
    if row is None or row["photo_sha256"] is None or not viewer.may_see_site(row["site_id"]):
        raise NotFound("no such photo", code="photo_not_found")
    if thumbnail:
        return await storage.get(row["thumb_sha256"]), "image/webp", row["thumb_sha256"]
    return await storage.get(row["photo_sha256"]), row["media_type"], row["photo_sha256"]


# ---- the shift report and the QR sheet ----


async def round_report(
    conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None, day: date, shift: str
) -> RoundReport:
    """Every round of a shift: points done, late, missed and abnormal, with totals."""
    _must_plan(viewer)
    if shift not in rules.SHIFTS:
        raise ValidationFailed(f"shift must be one of {', '.join(rules.SHIFTS)}", field="shift")
    found = await site_for(conn, viewer, site)
    start, end = rules.shift_bounds(day, shift, ZoneInfo(found.timezone))
    lines = [
        struct_of(
            RoundReportLine,
            r,
            round_id=r["id"],
            done=r["done"] - r["late"],
            missed=r["points"] - r["done"],
        )
        for r in await q.report_rows(conn, found.id, start, end)
    ]
    totals = {
        "rounds": len(lines),
        **{
            k: sum(getattr(line, k) for line in lines)
            for k in ("points", "done", "late", "missed", "abnormal")
        },
    }
    return RoundReport(
        site=found.code, day=day, shift=shift, start=start, end=end, rounds=lines, totals=totals
    )


def _qr_svg(token: str) -> str:
    return segno.make(rules.qr_payload(token), error="m").svg_inline(scale=5, border=2)


async def qr_sheet(conn: asyncpg.Connection, *, viewer: CurrentUser, route_id: UUID) -> str:
    """A printable page of the route's points, one QR code each, in walking order."""
    _must_plan(viewer)
    route = await _visible_route(conn, viewer, route_id)
    points = (await q.route_points(conn, [route_id]))[route_id]
    cells = "\n".join(
        f'<figure class="point">{_qr_svg(p["token"])}<figcaption><b>{p["position"]}. '
        f"{html.escape(p['name'])}</b><br>{html.escape(p['place'])}</figcaption></figure>"
        for p in points
    )
    title = f"{html.escape(route['site_name'])} · {html.escape(route['name'])} · 巡逻点二维码"
    return _sheet(title, cells)


async def site_qr_sheet(conn: asyncpg.Connection, *, viewer: CurrentUser, site: str | None) -> str:
    """A printable page of every active check point of a site, one QR code each, by name: to stick up new
    points or replace a worn code (the code of a point never changes)."""
    _must_plan(viewer)
    found = await site_for(conn, viewer, site)
    points = [p for p in await q.list_check_points(conn, [found.id]) if p.active]
    cells = "\n".join(
        f'<figure class="point">{_qr_svg(p.qr.removeprefix(rules.QR_PREFIX))}<figcaption><b>'
        f"{html.escape(p.name)}</b><br>{html.escape(p.place)}</figcaption></figure>"
        for p in points
    )
    return _sheet(f"{html.escape(found.name)} · 巡逻点二维码", cells)


def _sheet(title: str, cells: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>{QR_SHEET_STYLE}</style></head>
<body><h1>{title}</h1><div class="sheet">
{cells}
</div></body></html>"""


# ---- the demo estate's rounds ----

# (name, place, asset code or None): the demo site's points, in the night round's walking order.
DEMO_POINTS = (
    ("南门岗亭", "南门", None),
    ("1栋大堂", "1栋一层", None),
    ("1号泵房", "1号泵房门口", "PUMP-1"),
    ("2栋大堂", "2栋一层", None),
    ("1号配电房", "1号配电房门口", "SWG-1"),
    ("3栋大堂", "3栋一层", None),
    ("地下车库入口", "车库坡道", None),
)
# (route, expected minutes, schedule): guards' night rounds every 2 h, the manager's two daily walks.
DEMO_ROUTES = (
    ("夜间巡逻", 60, rules.Schedule(every_hours=2, window_start=time(20, 0), window_end=time(6, 0))),
    ("经理巡视", 45, rules.Schedule(fixed_times=(time(9, 0), time(15, 0)))),
)


async def seed_demo_rounds(
    conn: asyncpg.Connection, site_id: UUID, timezone: str, asset_ids: dict[str, UUID]
) -> None:
    """The demo site's points, routes and schedules; nothing when they exist already."""
    point_ids = []
    for name, place, asset in DEMO_POINTS:
        point = await q.insert_check_point(
            conn,
            site_id=site_id,
            name=name,
            place=place,
            asset_id=asset_ids.get(asset) if asset else None,
            token=secrets.token_urlsafe(TOKEN_BYTES),
        )
        point_ids.append(point.id if point else await q.check_point_id(conn, site_id, name))
    now = await conn.fetchval("SELECT now()")
    for name, minutes, schedule in DEMO_ROUTES:
        route_id = await q.insert_route(
            conn, site_id=site_id, name=name, expected_minutes=minutes, point_ids=point_ids
        )
        if route_id is None:
            continue
        await q.insert_schedule(
            conn,
            route_id=route_id,
            every_hours=schedule.every_hours,
            window_start=schedule.window_start,
            window_end=schedule.window_end,
            fixed_times=schedule.fixed_times,
            next_slot_at=rules.next_slot(schedule, ZoneInfo(timezone), now),
        )
