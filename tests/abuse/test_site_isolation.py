"""Two sites, each with its own staff and things: nobody but an admin sees or touches the other site.

Every list endpoint is read by every non-admin role of one site and must not mention any id of the other;
every endpoint with an id in its path is called (GET and the mutations) with the other site's real ids and
must answer 404, exactly as for an id that does not exist — or the 403 the role gets on its own site, which
says nothing about the id. Admins look after every site by design (DESIGN.md registry, REALTIME.md).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from tests.abuse.conftest import bearer_for
from tests.abuse.estate import DEMO_USER, add_user, jpeg_bytes, make_work_order, raise_alarm, upload_photo
from tests.abuse.test_role_matrix import EXPECTED

NON_ADMIN_ROLES = ("manager", "supervisor", "agent", "technician", "guard")
# Not about one site: public by design (the signed record's QR check), never-ending (the stream is
# filtered by site in test_stream.py), or the owner's page, which takes owner tokens and keeps each owner to
# their own unit (tests/owners/test_owner_portal.py).
# A plan is edited by scenario name for the caller's own site (named in the body), never by another's id.
SKIPPED = {
    "GET /api/v1/stream",
    "GET /api/v1/work-orders/{work_order_id}/verify",
    "PUT /api/v1/emergency-plans/{scenario}",
} | {op for op in EXPECTED if op.split(" ", 1)[1].startswith("/api/v1/owner/")}
# Roles allowed only on their own record: another person's id is refused (403) whatever site it is on.
OWN_RECORD_ONLY = {"POST /api/v1/users/{user_id}/duty": {"technician"}}


@dataclass
class SiteThings:
    """One site's real ids, its code, and its staff by role."""

    code: str
    ids: dict[str, Any]
    staff: dict[str, UUID]
    work_order_number: str

    def secrets(self) -> list[str]:
        """Strings that must never appear in the other site's answers."""
        # a quarterly check's point code is the same template word on every site; a message id is a small
        # serial number that any answer may contain by chance
        values = [str(v) for k, v in self.ids.items() if k not in ("device_id", "code", "message_id")]
        values.append(self.work_order_number)
        return [*values, f'"{self.ids["device_id"]}"', *(str(u) for u in self.staff.values())]


async def _site(db: asyncpg.Connection, client: AsyncTestClient, code: str, clock: ManualClock) -> SiteThings:
    """A site with its registry, a user per role, a job with a photo, and an alarm."""
    site_id = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ($1, $1, 'Asia/Shanghai') RETURNING id", code
    )
    building_id = await db.fetchval(
        "INSERT INTO buildings (site_id, code, name) VALUES ($1, 'N1', '北1栋') RETURNING id", site_id
    )
    unit_id = await db.fetchval(
        "INSERT INTO units (site_id, building_id, number, floor) VALUES ($1, $2, '101', 1) RETURNING id",
        site_id,
        building_id,
    )
    resident_id = await db.fetchval(
        "INSERT INTO residents (site_id, unit_id, name, phone) VALUES ($1, $2, '北苑业主', '13611112222')"
        " RETURNING id",
        site_id,
        unit_id,
    )
    asset_id = await db.fetchval(
        "INSERT INTO assets (site_id, building_id, code, name, kind)"
        " VALUES ($1, $2, 'N-EL', '北梯', 'elevator') RETURNING id",
        site_id,
        building_id,
    )
    device_id = f"{code}-elev-1"
    await db.execute(
        "INSERT INTO devices (id, site_id, asset_id, kind, name) VALUES ($1, $2, $3, 'elevator', '北梯')",
        device_id,
        site_id,
        asset_id,
    )
    staff = {role: await add_user(db, f"{code}_{role}", role, site_id) for role in (*NON_ADMIN_ROLES,)}
    job = await make_work_order(db, site_id=site_id, status="on_site", assignee_id=staff["technician"])
    photo_id = await upload_photo(client, await bearer_for(db, staff["technician"]), job)
    alarm_id = await raise_alarm(db, device_id, "ELEVATOR_STOPPED", clock.now())
    ids = {
        "site_id": site_id,
        "building_id": building_id,
        "unit_id": unit_id,
        "resident_id": resident_id,
        "asset_id": asset_id,
        "device_id": device_id,
        "work_order_id": job,
        "photo_id": photo_id,
        "alarm_id": alarm_id,
        "user_id": staff["technician"],
    }
    ids |= await _round_things(db, site_id, staff["guard"], photo_id, clock.now())
    ids |= await _desk_things(db, site_id, job, unit_id, staff["agent"], clock.now())
    ids["step_id"] = await _emergency_step(db, site_id, job, clock.now())
    ids["plan_id"] = await _plan(db, site_id, ids["asset_id"], clock.now())
    number = await db.fetchval("SELECT number FROM work_orders WHERE id = $1", job)
    return SiteThings(code=code, ids=ids, staff=staff, work_order_number=number)


async def _emergency_step(db: asyncpg.Connection, site_id: UUID, job: UUID, now: Any) -> UUID:
    """A step of an emergency plan running on the site's job."""
    return await db.fetchval(
        """INSERT INTO emergency_steps (site_id, work_order_id, scenario, position, label_zh, label_en, role,
                                        opened_at)
           VALUES ($1, $2, 'fire', 1, '拨打119', 'Call 119', 'guard', $3) RETURNING id""",
        site_id,
        job,
        now,
    )


async def _plan(db: asyncpg.Connection, site_id: UUID, asset_id: UUID, now: Any) -> UUID:
    """A maintenance plan of the site's asset (its notice to residents is set by plan id)."""
    return await db.fetchval(
        "INSERT INTO maintenance_plans (site_id, asset_id, title, interval_days, lead_days, next_due_on)"
        " VALUES ($1, $2, '隔离保养', 30, 2, $3::date) RETURNING id",
        site_id,
        asset_id,
        (now + timedelta(days=30)).date(),
    )


async def _round_things(db: asyncpg.Connection, site_id: UUID, guard: UUID, photo_id: UUID, now: Any) -> dict:
    """A check point, a route over it, a round and a scan with a photo, all of the site."""
    point = await db.fetchval(
        "INSERT INTO check_points (site_id, name, token) VALUES ($1, '隔离测试点', $2) RETURNING id",
        site_id,
        uuid.uuid4().hex,
    )
    route = await db.fetchval(
        "INSERT INTO round_routes (site_id, name, expected_minutes) VALUES ($1, '隔离路线', 30) RETURNING id",
        site_id,
    )
    await db.execute("INSERT INTO round_route_points VALUES ($1, 1, $2)", route, point)
    schedule = await db.fetchval(
        """INSERT INTO round_schedules (route_id, fixed_times, next_slot_at)
           VALUES ($1, ARRAY['09:00'::time], $2::timestamptz + interval '1 day') RETURNING id""",
        route,
        now,
    )
    round_id = await db.fetchval(
        """INSERT INTO rounds (site_id, route_id, slot_start, slot_end, status, started_by, started_at)
           VALUES ($1, $2, $3::timestamptz, $3::timestamptz + interval '30 minutes', 'in_progress', $4, $3)
           RETURNING id""",
        site_id,
        route,
        now,
        guard,
    )
    scan = await db.fetchval(
        """INSERT INTO round_scans (round_id, check_point_id, position, scanned_by, scanned_at, received_at,
                                    result, photo_sha256, thumb_sha256)
           SELECT $1, $2, 1, $3, $4, $4, 'abnormal', sha256, thumb_sha256 FROM photos WHERE id = $5
           RETURNING id""",
        round_id,
        point,
        guard,
        now,
        photo_id,
    )
    hazard = await db.fetchval(
        """INSERT INTO hazards (number, site_id, source, place, description, risk_level, reported_at,
                                photo_sha256, thumb_sha256)
           SELECT 'YH-I' || left($1::uuid::text, 8), $1::uuid, 'manual', '隔离', '隔离', 'low', $2,
                  sha256, thumb_sha256
           FROM photos WHERE id = $3
           RETURNING id""",
        site_id,
        now,
        photo_id,
    )
    check = await db.fetchval(
        """INSERT INTO safety_checks (site_id, quarter, period_start, due_on, created_at)
           VALUES ($1, '2026Q4', $2::date, $2::date + 90, $2) RETURNING id""",  # fixed-date: a label only
        site_id,
        now,
    )
    await db.execute(
        """INSERT INTO safety_check_points (check_id, code, position, photo_sha256, thumb_sha256)
           SELECT $1, 'lifts', 3, sha256, thumb_sha256 FROM photos WHERE id = $2""",
        check,
        photo_id,
    )
    return {
        "route_id": route,
        "point_id": point,
        "schedule_id": schedule,
        "round_id": round_id,
        "scan_id": scan,
        "hazard_id": hazard,
        "safety_check_id": check,
        "code": "lifts",
    }


async def _desk_things(
    db: asyncpg.Connection, site_id: UUID, job: UUID, unit_id: UUID, agent: UUID, now: Any
) -> dict:
    """A promise made on the site's job, a routine-sample call owed to one of its homes, a suggestion, a
    failed message to an owner, an owner's message waiting for an answer and a planned water cut."""
    promise = await db.fetchval(
        """INSERT INTO promises (work_order_id, site_id, text, due_at, made_by, made_at)
           VALUES ($1, $2, '隔离承诺', $3::timestamptz + interval '1 hour', $4, $3) RETURNING id""",
        job,
        site_id,
        now,
        agent,
    )
    call = await db.fetchval(
        """INSERT INTO campaign_calls (site_id, campaign, period, unit_id, due_at, created_at)
           VALUES ($1, 'routine_sample', '2000-01', $2, $3, $3) RETURNING id""",
        site_id,
        unit_id,
        now,
    )
    feedback = await db.fetchval(
        """INSERT INTO feedback (site_id, kind, text, channel, created_at)
           VALUES ($1, 'suggestion', '隔离建议', 'phone', $2) RETURNING id""",
        site_id,
        now,
    )
    message = await db.fetchval(
        """INSERT INTO owner_messages
               (site_id, work_order_id, event_key, kind, channel, recipient, body, status, failed_at)
           VALUES ($1, $2, $3, 'case_received', 'sms', '13900000000', 'x', 'failed', $4) RETURNING id""",
        site_id,
        job,
        f"isolation:{job}",
        now,
    )
    await db.execute(
        """WITH r AS (INSERT INTO residents (site_id, unit_id, name) VALUES ($1, $3, '隔离业主') RETURNING id)
           INSERT INTO owner_case_notes (work_order_id, resident_id, kind, body, created_at)
           SELECT $2, r.id, 'message', '隔离留言', $4 FROM r""",
        site_id,
        job,
        unit_id,
        now,
    )
    outage = await db.fetchval(
        """INSERT INTO planned_outages (site_id, building_id, kind, starts_at, ends_at, created_at)
           SELECT $1, building_id, 'water', $2::timestamptz + interval '1 hour',
                  $2::timestamptz + interval '3 hours', $2
           FROM units WHERE id = $3 RETURNING id""",
        site_id,
        now,
        unit_id,
    )
    return {
        "promise_id": promise,
        "call_id": call,
        "feedback_id": feedback,
        "message_id": str(message),
        "outage_id": outage,
    }


async def _demo_site(db: asyncpg.Connection, client: AsyncTestClient, clock: ManualClock) -> SiteThings:
    """The demo site's things, with a job, photo and alarm of its own."""
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    staff = {
        role: await db.fetchval("SELECT id FROM users WHERE username = $1", DEMO_USER[role])
        for role in NON_ADMIN_ROLES
    }
    unit_id = await db.fetchval("SELECT id FROM units WHERE site_id = $1 LIMIT 1", site_id)
    job = await make_work_order(db, site_id=site_id, status="on_site", assignee_id=staff["technician"])
    ids = {
        "site_id": site_id,
        "building_id": await db.fetchval("SELECT building_id FROM units WHERE id = $1", unit_id),
        "unit_id": unit_id,
        "resident_id": await db.fetchval("SELECT id FROM residents WHERE unit_id = $1 LIMIT 1", unit_id),
        "asset_id": await db.fetchval("SELECT id FROM assets WHERE site_id = $1 LIMIT 1", site_id),
        "device_id": "elev-a1",
        "work_order_id": job,
        "photo_id": await upload_photo(client, await bearer_for(db, staff["technician"]), job),
        "alarm_id": await raise_alarm(db, "elev-b1", "ELEVATOR_STOPPED", clock.now()),
        "user_id": staff["technician"],
    }
    ids |= await _round_things(db, site_id, staff["guard"], ids["photo_id"], clock.now())
    ids |= await _desk_things(db, site_id, job, unit_id, staff["agent"], clock.now())
    ids["step_id"] = await _emergency_step(db, site_id, job, clock.now())
    ids["plan_id"] = await _plan(db, site_id, ids["asset_id"], clock.now())
    number = await db.fetchval("SELECT number FROM work_orders WHERE id = $1", job)
    return SiteThings(code="demo", ids=ids, staff=staff, work_order_number=number)


def _body(op: str, own: SiteThings) -> dict[str, Any]:
    """A body that would be acted on for the caller's own site, so only the id decides."""
    action = op.rsplit("/", 1)[-1]
    if action == "scans" and op.startswith("POST"):
        return {"data": {"qr": "caretaker:cp:x", "result": "normal"}}
    if action == "photo" and op.startswith("POST"):
        return {"files": {"file": ("h.jpg", jpeg_bytes(9), "image/jpeg")}}
    if "/safety-checks/" in op and op.startswith("POST"):
        return {"data": {"outcome": "ok"}}
    if action == "resident-notice":
        # a job's notice has a window; a plan's says only what its work interrupts
        starts = datetime.now(UTC) + timedelta(hours=1)
        window = {"startsAt": starts.isoformat(), "endsAt": (starts + timedelta(hours=2)).isoformat()}
        return {"json": {"kind": "lift", **(window if op.startswith("POST") else {})}}
    if action == "photos" and op.startswith("POST"):
        return {"files": {"file": ("a.jpg", jpeg_bytes(7), "image/jpeg")}, "data": {"stage": "after"}}
    json_bodies: dict[str, dict[str, Any]] = {
        "assign": {"assigneeId": str(own.staff["technician"])},
        "decline": {"reason": "x"},
        "pause": {"reason": "x"},
        "reopen": {"reason": "x"},
        "cancel": {"reason": "x"},
        "complete": {"workDone": "x", "checklist": {}},
        "callback": {"reached": True, "satisfaction": 5},
        "investigate": {"findings": "x"},
        "reply": {"via": "phone", "summary": "x"},
        "solve": {"solution": "x"},
        "inform": {"via": "phone", "summary": "x"},
        "escalate": {"reason": "agitated"},
        "sign": {"noSignReason": "owner_absent"},
        "duty": {"onDuty": False},
        "resolve": {"note": "x"},
        "promises": {"text": "x", "dueAt": (datetime.now(UTC) + timedelta(hours=2)).isoformat()},
        "keep": {"note": "x"},
        "outcome": {"outcome": "no_answer"},
        "{schedule_id}": {"active": True},
        "apology_call_done": {"via": "phone", "summary": "x"},
        "answer": {"via": "phone", "summary": "x"},
        "owner-messages": {"text": "x"},
    }
    return {"json": json_bodies.get(action, {})} if op.split()[0] != "GET" else {}


async def _look(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    viewer: UUID,
    role: str,
    own: SiteThings,
    other: SiteThings,
) -> list[str]:
    headers = await bearer_for(db, viewer)
    leaks: list[str] = []
    for op, allowed in EXPECTED.items():
        if op in SKIPPED:
            continue
        method, path = op.split(" ", 1)
        params = re.findall(r"\{(\w+)\}", path)
        if not params and method == "GET":
            for query in ({}, {"site": other.code}, {"site": str(other.ids["site_id"])}):
                r = await client.get(path, params=query, headers=headers)
                if r.status_code >= 500:
                    leaks.append(f"{op} {query}: {r.status_code}")
                # A refusal may quote the site asked for; anything else of the other site is a leak.
                asked = set(query.values())
                found = [s for s in other.secrets() if s in r.text and s not in asked]
                if found:
                    leaks.append(f"{op} {query}: shows {found[:3]}")
        elif params:
            url = re.sub(r"\{(\w+)\}", lambda m: str(other.ids[m.group(1)]), path)
            r = await client.request(
                method, url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}, **_body(op, own)
            )
            hidden_only = role in allowed and role not in OWN_RECORD_ONLY.get(op, set())
            expected = {404} if hidden_only else {403, 404}
            if r.status_code not in expected:
                leaks.append(f"{op} with the other site's id: {r.status_code} {r.text[:150]}")
    return leaks


@pytest.mark.parametrize("role", NON_ADMIN_ROLES)
async def test_a_user_of_one_site_sees_and_touches_nothing_of_the_other(
    role: str, client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock
) -> None:
    demo = await _demo_site(db, client, clock)
    north = await _site(db, client, "north", clock)
    leaks = await _look(client, db, demo.staff[role], role, demo, north)
    leaks += [f"(north user) {x}" for x in await _look(client, db, north.staff[role], role, north, demo)]
    assert not leaks, f"{role}:\n" + "\n".join(leaks)


async def test_reports_of_the_other_site_are_not_found(
    client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock
) -> None:
    demo = await _demo_site(db, client, clock)
    north = await _site(db, client, "north", clock)
    for own, other in ((demo, north), (north, demo)):
        headers = await bearer_for(db, own.staff["manager"])
        for path in ("/api/v1/reports/kpis", "/api/v1/reports/work-orders.csv"):
            r = await client.get(path, params={"site": other.code}, headers=headers)
            assert r.status_code == 404, (own.code, path, r.text)
        r = await client.get("/api/v1/reports/work-orders.csv", headers=headers)
        assert r.status_code == 200, r.text
        assert own.work_order_number in r.text
        assert other.work_order_number not in r.text
