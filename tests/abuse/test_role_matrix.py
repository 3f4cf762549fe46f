"""Every role against every endpoint of the OpenAPI schema, on real objects of the demo estate.

The expected answers are a table written from DESIGN.md and docs/ (WORK_ORDERS.md, EVIDENCE.md, REALTIME.md,
REPORTS.md), not from the code. "deny" must be 403; "allow" must be neither 401, 403 nor 404 (the ids are
real and of the caller's own site) and never a 5xx. An endpoint missing from the table fails the test.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.domain.clock import ManualClock
from backend.settings import Settings
from tests.abuse.conftest import bearer_for, user_ids
from tests.abuse.estate import (
    A_REPAIR,
    DEMO_USER,
    ROLES,
    jpeg_bytes,
    make_work_order,
    raise_alarm,
    upload_photo,
)
from tests.conftest import DEMO_PASSWORD, TEST_SECRET

ALL = frozenset(ROLES)
PUBLIC = ALL  # reachable without a token, so no role is refused
DESK = frozenset({"admin", "manager", "supervisor", "agent"})  # take calls, dispatch, call back
OVERSIGHT = frozenset({"admin", "manager", "supervisor"})  # cancel, reopen, close, plans, reports
RESPONDERS = frozenset({"admin", "manager", "supervisor", "technician", "guard"})  # REALTIME.md: ack/resolve
EVIDENCE = frozenset({"admin", "manager", "supervisor", "technician"})  # EVIDENCE.md: photos and signatures
WORKER = frozenset({"technician"})  # the assignee's own steps on a repair job
# DOMAIN.md "Complaint": the handler may be anyone but a guard; the desk may escalate what it does not handle.
HANDLER = ALL - {"guard"}
ADMIN = frozenset({"admin"})  # DESIGN.md: registry CRUD for admins
# docs/SAFETY.md: guards walk rounds, and so may the people above them; supervisors and up lay them out.
WALKERS = frozenset({"admin", "manager", "supervisor", "guard"})
# Going on or off duty: oneself (the technician here changes their own) or a supervisor and up.
DUTY = frozenset({"admin", "manager", "supervisor", "technician"})

WO = "/api/v1/work-orders/{work_order_id}"
EXPECTED: dict[str, frozenset[str]] = {
    "GET /health": PUBLIC,
    "GET /ready": PUBLIC,
    "POST /api/v1/auth/login": PUBLIC,
    "POST /api/v1/auth/logout": ALL,
    "POST /api/v1/auth/logout-all": ALL,
    "GET /api/v1/me": ALL,
    "GET /api/v1/catalogue": PUBLIC,
    "POST /api/v1/me/password": ALL,
    "GET /api/v1/alarms": ALL,
    "GET /api/v1/alarms/{alarm_id}": ALL,
    "POST /api/v1/alarms/{alarm_id}/ack": RESPONDERS,
    "POST /api/v1/alarms/{alarm_id}/resolve": RESPONDERS,
    "POST /api/v1/push/subscriptions": ALL,
    "DELETE /api/v1/push/subscriptions": ALL,
    "GET /api/v1/push/vapid-public-key": PUBLIC,
    "GET /api/v1/stream": ALL,
    "POST /api/v1/stream/tickets": ALL,
    "GET /api/v1/work-orders": ALL,
    "POST /api/v1/work-orders": DESK,
    f"GET {WO}": ALL,
    f"GET {WO}/suggestions": DESK,
    f"POST {WO}/assign": DESK,
    f"POST {WO}/accept": WORKER,
    f"POST {WO}/decline": WORKER,
    f"POST {WO}/depart": WORKER,
    f"POST {WO}/arrive": WORKER,
    f"POST {WO}/pause": WORKER,
    f"POST {WO}/resume": WORKER,
    f"POST {WO}/complete": WORKER,
    f"POST {WO}/investigate": HANDLER,
    f"POST {WO}/reply": HANDLER,
    f"POST {WO}/solve": HANDLER,
    f"POST {WO}/inform": HANDLER,
    f"POST {WO}/escalate": HANDLER,
    f"POST {WO}/callback": DESK,
    f"POST {WO}/reopen": OVERSIGHT,
    f"POST {WO}/cancel": OVERSIGHT,
    f"POST {WO}/close": OVERSIGHT,
    # DOMAIN.md "Complaint": the manager's apology call; a supervisor records it when not major
    f"POST {WO}/apology_call_done": OVERSIGHT,
    "GET /api/v1/callbacks": DESK,
    # suggestions and praise (建议/表扬) are taken and answered at the desk
    "GET /api/v1/feedback": DESK,
    "POST /api/v1/feedback": DESK,
    "POST /api/v1/feedback/{feedback_id}/answer": DESK,
    # docs/WORK_ORDERS.md "Promises": staff who speak with owners make and keep them; admins read them too
    f"GET {WO}/promises": HANDLER,
    f"POST {WO}/promises": HANDLER - ADMIN,
    "POST /api/v1/promises/{promise_id}/keep": HANDLER - ADMIN,
    # docs/WORK_ORDERS.md "Callback campaigns": the desk works them
    "GET /api/v1/campaign-calls": DESK,
    "POST /api/v1/campaign-calls/{call_id}/outcome": DESK,
    "GET /api/v1/maintenance-plans": OVERSIGHT,
    "POST /api/v1/maintenance-plans": OVERSIGHT,
    f"GET {WO}/photos": ALL,
    f"POST {WO}/photos": EVIDENCE,
    "GET /api/v1/photos/{photo_id}": ALL,
    "GET /api/v1/photos/{photo_id}/thumb": ALL,
    f"GET {WO}/receipt": ALL,
    f"POST {WO}/sign": EVIDENCE,
    f"GET {WO}/verify": PUBLIC,
    # the owner's page: no staff role; an owner token (tests/owners/test_owner_portal.py) or nothing
    "GET /api/v1/owner/units/{link}": PUBLIC,
    "POST /api/v1/owner/codes": PUBLIC,
    "POST /api/v1/owner/sessions": PUBLIC,
    "GET /api/v1/owner/cases": frozenset(),
    "POST /api/v1/owner/cases/{case_id}/confirmation": frozenset(),
    "POST /api/v1/owner/cases": frozenset(),
    "GET /api/v1/owner/cases/{case_id}": frozenset(),
    "POST /api/v1/owner/cases/{case_id}/photos": frozenset(),
    "POST /api/v1/owner/cases/{case_id}/rating": frozenset(),
    "GET /api/v1/owner/feedback": frozenset(),
    "POST /api/v1/owner/feedback": frozenset(),
    "GET /api/v1/owner/cases/{case_id}/messages": frozenset(),
    "POST /api/v1/owner/cases/{case_id}/messages": frozenset(),
    "GET /api/v1/reports/kpis": OVERSIGHT,
    "GET /api/v1/reports/work-orders.csv": OVERSIGHT,
    "GET /api/v1/sites": ALL,
    "POST /api/v1/sites": ADMIN,
    "GET /api/v1/sites/{site_id}": ALL,
    "PATCH /api/v1/sites/{site_id}": ADMIN,
    "GET /api/v1/buildings": ALL,
    "POST /api/v1/buildings": ADMIN,
    "GET /api/v1/buildings/{building_id}": ALL,
    "PATCH /api/v1/buildings/{building_id}": ADMIN,
    "DELETE /api/v1/buildings/{building_id}": ADMIN,
    "GET /api/v1/units": ALL,
    "POST /api/v1/units": ADMIN,
    "GET /api/v1/units/lookup": ALL,
    "GET /api/v1/units/{unit_id}": ALL,
    "PATCH /api/v1/units/{unit_id}": ADMIN,
    "DELETE /api/v1/units/{unit_id}": ADMIN,
    "GET /api/v1/units/{unit_id}/residents": ALL,
    "POST /api/v1/units/{unit_id}/residents": ADMIN,
    "GET /api/v1/residents/{resident_id}": ALL,
    "PATCH /api/v1/residents/{resident_id}": ADMIN,
    "DELETE /api/v1/residents/{resident_id}": ADMIN,
    # docs/PRIVACY.md: anyone may ask (outside an emergency a guard gets an empty list);
    # the read log is for oversight
    "GET /api/v1/residents/vulnerable": ALL,
    "GET /api/v1/personal-data/reads": OVERSIGHT,
    "GET /api/v1/assets": ALL,
    "POST /api/v1/assets": ADMIN,
    "GET /api/v1/assets/{asset_id}": ALL,
    "PATCH /api/v1/assets/{asset_id}": ADMIN,
    "DELETE /api/v1/assets/{asset_id}": ADMIN,
    "GET /api/v1/devices": ALL,
    "POST /api/v1/devices": ADMIN,
    "GET /api/v1/devices/{device_id}": ALL,
    "PATCH /api/v1/devices/{device_id}": ADMIN,
    "DELETE /api/v1/devices/{device_id}": ADMIN,
    "GET /api/v1/users": DESK,
    "POST /api/v1/users": ADMIN,
    "GET /api/v1/users/{user_id}": DESK,
    "PATCH /api/v1/users/{user_id}": ADMIN,
    "DELETE /api/v1/users/{user_id}": ADMIN,
    "POST /api/v1/users/{user_id}/duty": DUTY,
    "GET /api/v1/check-points": OVERSIGHT,
    "POST /api/v1/check-points": OVERSIGHT,
    "GET /api/v1/check-points/qr-sheet": OVERSIGHT,
    "PATCH /api/v1/check-points/{point_id}": OVERSIGHT,
    "PATCH /api/v1/round-routes/{route_id}": OVERSIGHT,
    "PATCH /api/v1/round-schedules/{schedule_id}": OVERSIGHT,
    "GET /api/v1/round-routes": WALKERS,
    "POST /api/v1/round-routes": OVERSIGHT,
    "GET /api/v1/round-routes/{route_id}/qr-sheet": OVERSIGHT,
    "POST /api/v1/round-routes/{route_id}/schedules": OVERSIGHT,
    "GET /api/v1/round-schedules": OVERSIGHT,
    "GET /api/v1/rounds": WALKERS,
    "POST /api/v1/rounds": WALKERS,
    "GET /api/v1/rounds/report": OVERSIGHT,
    "GET /api/v1/rounds/{round_id}": WALKERS,
    "POST /api/v1/rounds/{round_id}/start": WALKERS,
    "POST /api/v1/rounds/{round_id}/scans": WALKERS,
    # a finding's photo, like a job's: for staff of the site
    "GET /api/v1/round-scans/{scan_id}/photo": ALL,
    # docs/SAFETY.md: anyone may register a hazard and read the ledger; the moves by the ledger's table
    "GET /api/v1/hazards": ALL,
    "POST /api/v1/hazards": ALL,
    "GET /api/v1/hazards/counts": ALL,
    "GET /api/v1/hazards/export.csv": OVERSIGHT,
    "GET /api/v1/hazards/print": OVERSIGHT,
    "GET /api/v1/hazards/{hazard_id}": ALL,
    "GET /api/v1/hazards/{hazard_id}/photo": ALL,
    "POST /api/v1/hazards/{hazard_id}/analyse": OVERSIGHT,
    "POST /api/v1/hazards/{hazard_id}/control": OVERSIGHT | {"technician", "guard"},
    "POST /api/v1/hazards/{hazard_id}/rectify": OVERSIGHT,
    "POST /api/v1/hazards/{hazard_id}/recheck": OVERSIGHT | {"technician"},
    "POST /api/v1/hazards/{hazard_id}/recheck-failed": OVERSIGHT | {"technician"},
    "POST /api/v1/hazards/{hazard_id}/close": frozenset({"supervisor", "manager"}),
    # who registered the hazard adds its photo, or a supervisor and up (the matrix's hazard is nobody's)
    "POST /api/v1/hazards/{hazard_id}/photo": OVERSIGHT,
    # docs/SAFETY.md: everyone of the site reads the plans and the running checklists; whoever did a step
    # ticks it; managers edit the plans; supervisors and up keep the drill and training register.
    "GET /api/v1/emergency-plans": ALL,
    "PUT /api/v1/emergency-plans/{scenario}": frozenset({"admin", "manager"}),
    "GET /api/v1/alarms/{alarm_id}/checklist": ALL,
    "GET /api/v1/work-orders/{work_order_id}/checklist": ALL,
    "POST /api/v1/emergency-steps/{step_id}/done": RESPONDERS,
    "GET /api/v1/alarms/{alarm_id}/welfare-visits": ALL,
    "GET /api/v1/drills": OVERSIGHT,
    "POST /api/v1/drills": OVERSIGHT,
    "GET /api/v1/drills/due": OVERSIGHT,
    # a fire (or a call-in) is reported by hand by the guards and the desk; everyone who runs or reports
    # plans sees the hand-reported ones still open
    "POST /api/v1/emergencies": frozenset({"admin", "manager", "supervisor", "agent", "guard"}),
    "GET /api/v1/emergencies": ALL,
    "GET /api/v1/trainings": OVERSIGHT,
    "POST /api/v1/trainings": OVERSIGHT,
    # docs/SAFETY.md: supervisors, managers and admins carry out the quarterly safety check
    "GET /api/v1/safety-checks": OVERSIGHT,
    "GET /api/v1/safety-checks/{safety_check_id}": OVERSIGHT,
    # the photo is read before the answer below replaces the arranged one
    "GET /api/v1/safety-checks/{safety_check_id}/points/{code}/photo": OVERSIGHT,
    "POST /api/v1/safety-checks/{safety_check_id}/points/{code}": OVERSIGHT,
    # docs/OWNERS.md "Staff side": the desk reads and answers a case's owner messages and resends failed ones;
    # managers and admins print the unit-link QR sheets; supervisors and up announce planned cuts, and the
    # guard joins them in visiting the vulnerable residents
    f"GET {WO}/owner-messages": DESK,
    f"POST {WO}/owner-messages": DESK,
    f"POST {WO}/owner-messages/read": DESK,
    "GET /api/v1/owner-messages/waiting": DESK,
    "GET /api/v1/owner-messages/failed": DESK,
    "POST /api/v1/owner-messages/{message_id}/retry": DESK,
    "GET /api/v1/buildings/{building_id}/owner-link-sheet": frozenset({"admin", "manager"}),
    "GET /api/v1/planned-outages": OVERSIGHT,
    "POST /api/v1/planned-outages": OVERSIGHT,
    "POST /api/v1/planned-outages/{outage_id}/restore": OVERSIGHT,
    "GET /api/v1/outage-visits": WALKERS,
    # docs/OWNERS.md "Notices from maintenance work": the desk and up tell a job's building; everyone of the
    # site reads the notice; those who plan maintenance say what a plan's work interrupts
    f"POST {WO}/resident-notice": DESK,
    f"GET {WO}/resident-notice": ALL,
    "PUT /api/v1/maintenance-plans/{plan_id}/resident-notice": OVERSIGHT,
    "POST /api/v1/outage-visits": WALKERS,
    # the caller's own open jobs in the list's lean shape: anyone may ask, each sees their own
    "GET /api/v1/work-orders/mine": ALL,
}
# Endpoints about an emergency look at the entrapment's alarm and job (the plain alarm runs no plan).
EMERGENCY_IDS: dict[str, dict[str, str]] = {
    "GET /api/v1/alarms/{alarm_id}/checklist": {"alarm_id": "emergency_alarm_id"},
    "GET /api/v1/alarms/{alarm_id}/welfare-visits": {"alarm_id": "emergency_alarm_id"},
    "GET /api/v1/work-orders/{work_order_id}/checklist": {"work_order_id": "emergency_work_order_id"},
    # the entrapment's job (on a lift of a building) has told its residents
    f"GET {WO}/resident-notice": {"work_order_id": "emergency_work_order_id"},
    f"POST {WO}/resident-notice": {"work_order_id": "emergency_work_order_id"},
}
# The live stream never ends; its role rule (every role, filtered by site) is tested in test_stream.py.
# The stream needs a ticket; the owner's endpoints take owner tokens, not staff ones, and have their tests.
NOT_CALLED = {"GET /api/v1/stream"} | {op for op in EXPECTED if " /api/v1/owner/" in op}
# Called last, each with a session of its own: they end the caller's sessions (test_sessions.py says how).
ENDS_SESSIONS = ("POST /api/v1/me/password", "POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all")

# The state each work-order endpoint's job must be in for the action to be possible (tech1 assigned).
WORK_ORDER_STATE: dict[str, tuple[str, bool] | tuple[str, bool, str]] = {  # -> (status, in a home[, kind])
    "assign": ("new", True),
    "investigate": ("assigned", False, "complaint"),
    "reply": ("assigned", False, "complaint"),
    "solve": ("investigating", False, "complaint"),
    "inform": ("solved", False, "complaint"),
    "escalate": ("assigned", False, "complaint"),
    "apology_call_done": ("assigned", False, "complaint"),
    "accept": ("assigned", True),
    "decline": ("assigned", True),
    "depart": ("accepted", True),
    "arrive": ("en_route", True),
    "pause": ("on_site", True),
    "resume": ("paused", True),
    "complete": ("on_site", True),
    "callback": ("completed", False),
    "reopen": ("completed", True),
    "cancel": ("new", True),
    "close": ("completed", False),
    "sign": ("completed", True),
    "photos": ("on_site", True),
}


def _operations() -> list[str]:
    app = create_app(Settings(database_url="postgresql://schema-only/none", secret_key=TEST_SECRET))
    schema = app.openapi_schema.to_schema()
    methods = {"get", "post", "patch", "put", "delete"}
    return [f"{m.upper()} {p}" for p, ops in schema["paths"].items() for m in ops if m in methods]


def test_the_table_names_every_endpoint_of_the_schema() -> None:
    operations = set(_operations())
    missing = sorted(operations - EXPECTED.keys())
    gone = sorted(EXPECTED.keys() - operations)
    assert not missing, f"add these endpoints to EXPECTED with the roles that may call them: {missing}"
    assert not gone, f"these endpoints left the schema; drop them from EXPECTED: {gone}"


@dataclass
class Estate:
    """Real ids of the demo site, and a way to get a fresh work order in a given state."""

    db: asyncpg.Connection
    ids: dict[str, Any]
    users: dict[str, UUID]
    fresh: dict[str, UUID] = field(default_factory=dict)

    async def work_order_for(self, action: str) -> UUID:
        status, in_home, *kind = WORK_ORDER_STATE[action]
        assignee = None if status == "new" else self.users["tech1"]
        return await make_work_order(
            self.db,
            site_id=self.ids["site_id"],
            status=status,
            assignee_id=assignee,
            in_home=in_home,
            kind=kind[0] if kind else "repair",
        )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 120), (255, 255, 255)).save(out, "PNG")
    return out.getvalue()


def _body(op: str, estate: Estate) -> dict[str, Any]:
    """Request arguments that would succeed for an allowed role (so a refusal is about the role)."""
    tech1 = str(estate.users["tech1"])
    point = str(estate.ids["point_id"])
    # a public address (a private one is refused); storing a subscription makes no request to it
    push_endpoint = f"https://8.8.8.8/push/{estate.ids['work_order_id']}"
    bodies: dict[str, dict[str, Any]] = {
        "POST /api/v1/auth/login": {"json": {"username": "agent", "password": DEMO_PASSWORD}},
        "POST /api/v1/me/password": {
            "json": {"currentPassword": DEMO_PASSWORD, "newPassword": "pump room 7 at dawn"}
        },
        "POST /api/v1/alarms/{alarm_id}/resolve": {"json": {"note": "checked"}},
        "POST /api/v1/push/subscriptions": {
            "json": {"endpoint": push_endpoint, "keys": {"p256dh": "BOr" + "A" * 84, "auth": "x" * 22}}
        },
        "DELETE /api/v1/push/subscriptions": {"json": {"endpoint": push_endpoint}},
        "POST /api/v1/work-orders": {"json": A_REPAIR},
        f"POST {WO}/assign": {"json": {"assigneeId": tech1}},
        f"POST {WO}/decline": {"json": {"reason": "not my skill"}},
        f"POST {WO}/pause": {"json": {"reason": "waiting for a part"}},
        f"POST {WO}/complete": {"json": {"workDone": "fixed", "checklist": {}}},
        f"POST {WO}/callback": {"json": {"reached": True, "satisfaction": 5}},
        f"POST {WO}/investigate": {"json": {"findings": "checked with the neighbour"}},
        f"POST {WO}/reply": {"json": {"via": "phone", "summary": "called back"}},
        f"POST {WO}/solve": {"json": {"solution": "apology and a fee waiver"}},
        f"POST {WO}/inform": {"json": {"via": "sms", "summary": "told the result"}},
        f"POST {WO}/escalate": {"json": {"reason": "agitated", "to": "supervisor"}},
        f"POST {WO}/apology_call_done": {"json": {"via": "phone", "summary": "apologised"}},
        "POST /api/v1/feedback": {"json": {"kind": "suggestion", "text": "多种些树", "site": "demo"}},
        "POST /api/v1/feedback/{feedback_id}/answer": {"json": {"via": "phone", "summary": "谢谢建议"}},
        f"POST {WO}/close": {"json": {"reason": "checked"}},
        f"POST {WO}/reopen": {"json": {"reason": "still leaking"}},
        f"POST {WO}/cancel": {"json": {"reason": "duplicate"}},
        f"POST {WO}/promises": {
            "json": {"text": "下午 3 点前回复", "dueAt": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}
        },
        "POST /api/v1/promises/{promise_id}/keep": {"json": {"note": "已回复"}},
        "POST /api/v1/campaign-calls/{call_id}/outcome": {"json": {"outcome": "no_answer"}},
        f"POST {WO}/photos": {
            "files": {"file": ("a.jpg", jpeg_bytes(3), "image/jpeg")},
            "data": {"stage": "before"},
        },
        f"POST {WO}/sign": {
            "files": {"file": ("sig.png", _png(), "image/png")},
            "data": {"signerName": "张三", "relation": "owner"},
        },
        "POST /api/v1/maintenance-plans": {"json": {}},
        "GET /api/v1/units/lookup": {"params": {"building": "A", "number": "101"}},
        "GET /api/v1/reports/kpis": {"params": {"site": "demo"}},
        "POST /api/v1/users/{user_id}/duty": {"json": {"onDuty": True}},
        "POST /api/v1/check-points": {"json": {"site": "demo", "name": f"点 {uuid.uuid4().hex[:8]}"}},
        "POST /api/v1/round-routes": {
            "json": {"name": f"路线 {uuid.uuid4().hex[:8]}", "expectedMinutes": 30, "checkPointIds": [point]}
        },
        "POST /api/v1/round-routes/{route_id}/schedules": {"json": {"fixedTimes": ["09:00"]}},
        "POST /api/v1/rounds": {"json": {"id": str(uuid.uuid4()), "routeId": str(estate.ids["route_id"])}},
        "POST /api/v1/rounds/{round_id}/scans": {"data": {"qr": estate.ids["point_qr"], "result": "normal"}},
        "GET /api/v1/rounds/report": {"params": {"day": "2026-12-01"}},  # fixed-date: any day will do
        "POST /api/v1/hazards": {"json": {"place": "1栋楼梯间", "description": "灯不亮"}},
        "POST /api/v1/hazards/{hazard_id}/photo": {"files": {"file": ("h.jpg", jpeg_bytes(5), "image/jpeg")}},
        "PUT /api/v1/emergency-plans/{scenario}": {
            "json": {
                "site": "demo",
                "steps": [{"labelZh": "拨打119", "labelEn": "Call 119", "role": "guard", "dueMinutes": 2}],
            }
        },
        "POST /api/v1/drills": {
            "json": {"site": "demo", "scenario": "fire", "heldOn": estate.ids["yesterday"]}
        },
        "POST /api/v1/emergencies": {"json": {"site": "demo", "scenario": "fire", "location": "1栋3楼"}},
        "POST /api/v1/trainings": {
            "json": {"site": "demo", "topic": "灭火器使用", "heldOn": estate.ids["yesterday"]}
        },
        "POST /api/v1/safety-checks/{safety_check_id}/points/{code}": {"data": {"outcome": "ok"}},
        "PATCH /api/v1/round-schedules/{schedule_id}": {"json": {"active": True}},
        "POST /api/v1/planned-outages": {
            "json": {
                "buildingId": str(estate.ids["building_id"]),
                "kind": "water",
                "startsAt": estate.ids["outage_starts"],
                "endsAt": estate.ids["outage_ends"],
            }
        },
        f"POST {WO}/resident-notice": {
            "json": {
                "kind": "lift",
                "startsAt": estate.ids["outage_starts"],
                "endsAt": estate.ids["outage_ends"],
            }
        },
        "PUT /api/v1/maintenance-plans/{plan_id}/resident-notice": {"json": {"kind": "lift"}},
        "POST /api/v1/outage-visits": {
            "json": {
                "source": "planned",
                "outageId": str(estate.ids["visit_outage_id"]),
                "residentId": str(estate.ids["resident_id"]),
            }
        },
    }
    if op in bodies:
        return bodies[op]
    method = op.split()[0]
    if method in {"POST", "PATCH"}:
        # Registry writes: an empty body; the guard decides before the body is read.
        return {"json": {}}
    return {}


async def _url(op: str, estate: Estate) -> str:
    path = op.split(" ", 1)[1]
    action = path.rsplit("/", 1)[-1]
    ids = dict(estate.ids)
    for name, key in EMERGENCY_IDS.get(op, {}).items():
        ids[name] = ids[key]
    if "{work_order_id}" in path and action in WORK_ORDER_STATE and op.startswith("POST"):
        ids["work_order_id"] = await estate.work_order_for(action)
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


async def _arrange(client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock) -> Estate:
    users = await user_ids(db)
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    building_id = await db.fetchval("SELECT id FROM buildings WHERE site_id = $1 AND code = 'A'", site_id)
    unit_id = await db.fetchval("SELECT id FROM units WHERE building_id = $1 AND number = '101'", building_id)
    ids: dict[str, Any] = {
        "site_id": site_id,
        "building_id": building_id,
        "unit_id": unit_id,
        "resident_id": await db.fetchval("SELECT id FROM residents WHERE unit_id = $1 LIMIT 1", unit_id),
        "asset_id": await db.fetchval("SELECT id FROM assets WHERE site_id = $1 LIMIT 1", site_id),
        "device_id": "elev-a1",
        "user_id": users["tech1"],
        "alarm_id": await raise_alarm(db, "elev-a2", "ELEVATOR_STOPPED", clock.now()),
    }
    ids["feedback_id"] = await db.fetchval(
        """INSERT INTO feedback (site_id, kind, text, channel, created_at)
           VALUES ($1, 'suggestion', '路灯太暗', 'phone', $2) RETURNING id""",
        site_id,
        clock.now(),
    )
    estate = Estate(db=db, ids=ids, users=users)
    # An entrapment runs its plan on an emergency job: one of its steps to tick.
    ids["emergency_alarm_id"] = await raise_alarm(db, "elev-b1", "ELEVATOR_ENTRAPMENT", clock.now())
    ids["emergency_work_order_id"] = await db.fetchval(
        "SELECT id FROM work_orders WHERE alarm_id = $1", ids["emergency_alarm_id"]
    )
    ids["step_id"] = await db.fetchval(
        "SELECT id FROM emergency_steps WHERE work_order_id = $1 ORDER BY position LIMIT 1",
        ids["emergency_work_order_id"],
    )
    ids["scenario"] = "fire"
    # a failed owner message to resend, a planned cut to restore and another whose vulnerable are visited
    ids["message_id"] = str(
        await db.fetchval(
            "INSERT INTO owner_messages"
            " (site_id, event_key, kind, channel, recipient, body, status, failed_at)"
            " VALUES ($1, 'matrix:failed', 'case_received', 'sms', '13800000000', 'x', 'failed', now())"
            " RETURNING id",
            site_id,
        )
    )
    starts, ends = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=3)
    ids["outage_starts"], ids["outage_ends"] = starts.isoformat(), ends.isoformat()
    for key in ("outage_id", "visit_outage_id"):
        ids[key] = await db.fetchval(
            "INSERT INTO planned_outages (site_id, building_id, kind, starts_at, ends_at, created_at)"
            " VALUES ($1, $2, 'water', $3, $4, $3) RETURNING id",
            site_id,
            building_id,
            starts,
            ends,
        )
    await db.execute(
        "INSERT INTO planned_outages"
        " (site_id, building_id, work_order_id, kind, starts_at, ends_at, created_at)"
        " SELECT $1, a.building_id, w.id, 'lift', $3, $4, $3"
        " FROM work_orders w JOIN assets a ON a.id = w.asset_id WHERE w.id = $2",
        site_id,
        ids["emergency_work_order_id"],
        starts,
        ends,
    )
    ids["plan_id"] = await db.fetchval(
        "INSERT INTO maintenance_plans (site_id, asset_id, title, interval_days, lead_days, next_due_on)"
        " VALUES ($1, $2, '矩阵保养', 30, 2, $3::date) RETURNING id",
        site_id,
        ids["asset_id"],
        (clock.now() + timedelta(days=30)).date(),
    )
    ids["resident_id"] = await db.fetchval("SELECT id FROM residents WHERE unit_id = $1 LIMIT 1", unit_id)
    ids["yesterday"] = (clock.now() - timedelta(days=1)).date().isoformat()
    # A round of the seeded night route, started by guard1, with one scan whose photo is the job's photo.
    route = await db.fetchrow("SELECT id FROM round_routes WHERE name = '夜间巡逻'")
    points = await db.fetch(
        """SELECT c.id, c.token FROM round_route_points rp JOIN check_points c ON c.id = rp.check_point_id
           WHERE rp.route_id = $1 ORDER BY rp.position""",
        route["id"],
    )
    ids["route_id"] = route["id"]
    ids["schedule_id"] = await db.fetchval("SELECT id FROM round_schedules WHERE route_id = $1", route["id"])
    ids["point_id"] = points[0]["id"]
    ids["point_qr"] = f"caretaker:cp:{points[1]['token']}"
    ids["hazard_id"] = await db.fetchval(
        """INSERT INTO hazards (number, site_id, source, place, description, risk_level, reported_at)
           VALUES ('YH-M00001', $1, 'manual', '1栋楼梯间', '灯不亮', 'low', $2) RETURNING id""",
        site_id,
        clock.now(),
    )
    ids["round_id"] = await db.fetchval(
        """INSERT INTO rounds (site_id, route_id, slot_start, slot_end, status)
           VALUES ($1, $2, $3::timestamptz, $3::timestamptz + interval '1 hour', 'scheduled') RETURNING id""",
        site_id,
        route["id"],
        clock.now(),
    )
    # The job every read endpoint looks at: tech1's, with a real uploaded photo, completed and signed.
    job = await make_work_order(db, site_id=site_id, status="on_site", assignee_id=users["tech1"])
    ids["work_order_id"] = job
    ids["promise_id"] = await db.fetchval(
        """INSERT INTO promises (work_order_id, site_id, text, due_at, made_by, made_at)
           VALUES ($1, $2, '今天回复', $3::timestamptz + interval '1 hour', $4, $3) RETURNING id""",
        job,
        site_id,
        clock.now(),
        users["agent"],
    )
    ids["call_id"] = await db.fetchval(
        """INSERT INTO campaign_calls (site_id, campaign, period, unit_id, due_at, created_at)
           VALUES ($1, 'routine_sample', '2000-01', $2, $3, $3) RETURNING id""",
        site_id,
        unit_id,
        clock.now(),
    )
    ids["photo_id"] = await upload_photo(client, await bearer_for(db, users["tech1"]), job)
    await db.execute("UPDATE work_orders SET status = 'completed' WHERE id = $1", job)
    ids["scan_id"] = await db.fetchval(
        """INSERT INTO round_scans (round_id, check_point_id, position, scanned_by, scanned_at, received_at,
                                    result, photo_sha256, thumb_sha256)
           SELECT $1, $2, 1, $3, $4, $4, 'abnormal', sha256, thumb_sha256 FROM photos WHERE id = $5
           RETURNING id""",
        ids["round_id"],
        points[0]["id"],
        users["guard1"],
        clock.now(),
        ids["photo_id"],
    )
    await db.execute(
        """UPDATE hazards SET (photo_sha256, thumb_sha256) =
               (SELECT sha256, thumb_sha256 FROM photos WHERE id = $2) WHERE id = $1""",
        ids["hazard_id"],
        ids["photo_id"],
    )
    # this quarter's safety check of the site, its lifts point carrying the job's photo
    ids["safety_check_id"] = await db.fetchval(
        """INSERT INTO safety_checks (site_id, quarter, period_start, due_on, created_at)
           VALUES ($1, '2026Q4', $2::date, $2::date + 90, $2) RETURNING id""",  # fixed-date: a label only
        site_id,
        clock.now(),
    )
    ids["code"] = "lifts"
    await db.execute(
        """INSERT INTO safety_check_points (check_id, code, position, photo_sha256, thumb_sha256)
           SELECT $1, 'lifts', 3, sha256, thumb_sha256 FROM photos WHERE id = $2""",
        ids["safety_check_id"],
        ids["photo_id"],
    )
    r = await client.post(
        f"/api/v1/work-orders/{job}/sign",
        json={"noSignReason": "owner_absent"},
        headers={**await bearer_for(db, users["tech1"]), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    return estate


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_gets_exactly_what_the_table_allows(
    role: str, client: AsyncTestClient, db: asyncpg.Connection, clock: ManualClock
) -> None:
    estate = await _arrange(client, db, clock)
    headers = await bearer_for(db, estate.users[DEMO_USER[role]])
    wrong: list[str] = []
    # Deletions late, so that what they remove is not needed by later calls; ending sessions last.
    called = (op for op in EXPECTED if op not in NOT_CALLED)
    operations = sorted(
        called,
        key=lambda op: (ENDS_SESSIONS.index(op) + 1 if op in ENDS_SESSIONS else 0, op.startswith("DELETE")),
    )
    for op in operations:
        method = op.split()[0]
        url = await _url(op, estate)
        if op in ENDS_SESSIONS:
            headers = await bearer_for(db, estate.users[DEMO_USER[role]])
        r = await client.request(
            method, url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}, **_body(op, estate)
        )
        allowed = role in EXPECTED[op]
        if r.status_code >= 500:
            wrong.append(f"{op}: {r.status_code} {r.text[:200]}")
        elif allowed and r.status_code in {401, 403, 404}:
            wrong.append(f"{op}: expected allowed, got {r.status_code} {r.text[:200]}")
        elif not allowed and r.status_code != 403:
            wrong.append(f"{op}: expected 403, got {r.status_code} {r.text[:200]}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
