"""The owner's page: sign-in by one-time SMS code, the unit's cases, reporting, confirming and rating;
suggestions and praise (建议/表扬).

An owner session is bound to one resident and one unit: every case read goes through the unit, so a
case of another unit is "not found" whatever its id. Owners see the technician's name and badge number,
never a staff phone number or another resident.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from uuid import UUID

import asyncpg

from backend.db.queries import evidence as evidence_q
from backend.db.queries import feedback as feedback_q
from backend.db.queries import owners as q
from backend.domain.clock import Clock
from backend.domain.intake import COMPLAINT_CATEGORIES, REPAIR_CATEGORIES
from backend.domain.owner_messages import mask_phone, owner_may_confirm
from backend.domain.workflow import Action
from backend.errors import Conflict, NotFound, TooManyRequests, Unauthorized, ValidationFailed
from backend.services.feedback import file_feedback
from backend.services.intake import create_work_order
from backend.services.messages import queue_message
from backend.services.photos import inspect_photo, store_photo
from backend.services.work_order_actions import apply_action
from backend.storage import Storage

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
CODE_DIGITS = 6
SESSION_TTL = timedelta(days=30)
# Codes sent per number and per address in an hour; wrong guesses per code, per number, per address.
CODES_PER_PHONE_HOUR = 5
CODES_PER_ADDRESS_HOUR = 20
WRONG_PER_CODE = 5
FAILURES_PER_PHONE_HOUR = 10
FAILURES_PER_ADDRESS_HOUR = 30
OwnerKind = Literal["repair", "complaint"]
OWNER_KINDS: tuple[str, ...] = get_args(OwnerKind)
# The longest Idempotency-Key an owner's page may send.
MAX_REQUEST_KEY = 200
# Photos an owner may attach to one case (the fault as they see it).
MAX_OWNER_PHOTOS = 4


def _hash_code(salt: bytes, code: str) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=2**12, r=8, p=1, dklen=32)


def _hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _normal_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not 7 <= len(digits) <= 15:
        raise ValidationFailed("not a phone number", field="phone", code="owner_bad_phone")
    return digits


async def unit_page(conn: asyncpg.Connection, link: str) -> dict[str, Any]:
    unit = await q.unit_by_link(conn, link)
    if unit is None:
        raise NotFound("no such unit link", code="owner_unit_not_found")
    return {"site": unit["site"], "building": unit["building"], "unit": unit["number"]}


async def send_code(conn: asyncpg.Connection, *, link: str, phone: str, address: str, now: datetime) -> None:
    """Send a sign-in code when the number is registered for the unit. The answer is the same either way
    (the page must not tell who lives where); the attempt counts against the limits either way."""
    unit = await q.unit_by_link(conn, link)
    if unit is None:
        raise NotFound("no such unit link", code="owner_unit_not_found")
    phone = _normal_phone(phone)
    hour_ago = now - timedelta(hours=1)
    if await q.codes_since(conn, phone=phone, address=None, since=hour_ago) >= CODES_PER_PHONE_HOUR:
        raise TooManyRequests("too many codes for this number; try again later", retry_after=3600)
    if await q.codes_since(conn, phone=None, address=address, since=hour_ago) >= CODES_PER_ADDRESS_HOUR:
        raise TooManyRequests("too many codes from this address; try again later", retry_after=3600)
    resident = await q.resident_by_phone(conn, unit["id"], phone)
    salt = secrets.token_bytes(16)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    code_id = await q.add_code(
        conn,
        unit_id=unit["id"],
        resident_id=resident["id"] if resident else None,
        phone=phone,
        address=address,
        salt=salt,
        code_hash=_hash_code(salt, code) if resident else None,
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    if resident is None:
        log.info("owner code asked for %s, not registered for unit %s", mask_phone(phone), unit["number"])
        return
    recipients = [r for r in await q.residents_of_unit(conn, unit["id"]) if r.resident_id == resident["id"]]
    await queue_message(
        conn,
        now=now,
        site_id=unit["site_id"],
        kind="sign_in_code",
        event_key=f"code:{code_id}",
        recipients=recipients,
        params={"code": code, "minutes": str(int(CODE_TTL.total_seconds() // 60))},
        channels=("sms",),
    )


async def sign_in(
    conn: asyncpg.Connection, *, link: str, phone: str, code: str, address: str, now: datetime
) -> dict[str, Any]:
    """Exchange a code for an owner session token; wrong codes are counted, logged and throttled."""
    unit = await q.unit_by_link(conn, link)
    if unit is None:
        raise NotFound("no such unit link", code="owner_unit_not_found")
    phone = _normal_phone(phone)
    hour_ago = now - timedelta(hours=1)
    if (
        await q.failures_since(conn, phone=phone, address=None, since=hour_ago) >= FAILURES_PER_PHONE_HOUR
        or await q.failures_since(conn, phone=None, address=address, since=hour_ago)
        >= FAILURES_PER_ADDRESS_HOUR
    ):
        log.warning("owner sign-in throttled for %s from %s", mask_phone(phone), address)
        raise TooManyRequests("too many wrong codes; try again later", retry_after=3600)
    async with conn.transaction():
        row = await q.live_code(conn, unit["id"], phone, now)
        ok = (
            row is not None
            and row["wrong"] < WRONG_PER_CODE
            and hmac.compare_digest(row["code_hash"], _hash_code(row["salt"], code.strip()))
        )
        if not ok:
            if row is not None:
                await q.count_wrong(conn, row["id"])
            reason = "no_code" if row is None else "wrong_code"
            await q.add_failure(conn, phone, address, reason, now)
            log.warning("owner sign-in failed (%s) for %s from %s", reason, mask_phone(phone), address)
        if ok:
            await q.use_code(conn, row["id"], now)
            token = secrets.token_urlsafe(32)
            await q.add_session(
                conn,
                token_hash=_hash_token(token),
                resident_id=row["resident_id"],
                unit_id=unit["id"],
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
    if not ok:
        raise Unauthorized("wrong or expired code", code="owner_wrong_code")
    return {"token": token, "expiresIn": int(SESSION_TTL.total_seconds())}


async def owner_of(conn: asyncpg.Connection, token: str | None, now: datetime) -> asyncpg.Record:
    """The signed-in owner (resident, unit, site) a token names."""
    if not token:
        raise Unauthorized("sign in with your phone number first", code="owner_signed_out")
    row = await q.session_by_token(conn, _hash_token(token), now)
    if row is None:
        raise Unauthorized("sign in with your phone number first", code="owner_signed_out")
    return row


def _window(case: asyncpg.Record) -> dict[str, str] | None:
    """The arrival window shown to the owner: the appointment hour, else by the arrival deadline."""
    if case["appointment_at"] is not None:
        start = case["appointment_at"]
        return {"from": start.isoformat(), "to": (start + timedelta(hours=1)).isoformat()}
    if case["arrive_by"] is not None and case["technician"] is not None:
        return {"from": None, "to": case["arrive_by"].isoformat()}
    return None


def case_view(
    case: asyncpg.Record,
    callbacks: list[asyncpg.Record] | None = None,
    confirmation: asyncpg.Record | None = None,
) -> dict[str, Any]:
    """What an owner may see of a case: no staff phone numbers, no other residents."""
    resolution = case["resolution"] or {}
    technician = None
    if case["technician"] is not None and case["status"] not in ("new",):
        technician = {"name": case["technician"], "badge": case["badge"]}
    view: dict[str, Any] = {
        "id": str(case["id"]),
        "number": case["number"],
        "kind": case["kind"],
        "status": case["status"],
        "category": case["category"],
        "title": case["title"],
        "description": case["description"],
        "createdAt": case["created_at"].isoformat(),
        "technician": technician,
        "arrivalWindow": _window(case) if case["status"] in ("assigned", "accepted", "en_route") else None,
        "completedAt": case["completed_at"].isoformat() if case["completed_at"] else None,
        "workDone": resolution.get("workDone") or resolution.get("solution") or None,
        "canRate": False,
        "rating": None,
        "photos": case["photos"],
        "confirmedAt": confirmation["created_at"].isoformat() if confirmation else None,
        "canConfirm": owner_may_confirm(
            status=case["status"], kind=case["kind"], confirmed=confirmation is not None
        ),
    }
    if callbacks is not None:
        reached = [c for c in callbacks if c["reached"]]
        if reached:
            last = reached[-1]
            view["rating"] = {
                k: last[k] for k in ("satisfaction", "speed", "attitude", "quality", "recommend")
            }
        view["canRate"] = not reached and case["status"] in ("completed", "signed")
    return view


async def list_cases(
    conn: asyncpg.Connection, owner: asyncpg.Record, limit: int, offset: int
) -> dict[str, Any]:
    rows, total = await q.unit_cases(conn, owner["unit_id"], limit, offset)
    items = [
        case_view(r, await q.case_callbacks(conn, r["id"]), await q.case_confirmation(conn, r["id"]))
        for r in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


async def get_case(conn: asyncpg.Connection, owner: asyncpg.Record, work_order_id: UUID) -> dict[str, Any]:
    case = await q.unit_case(conn, owner["unit_id"], work_order_id)
    if case is None:
        raise NotFound("no such case", code="owner_case_not_found")
    return case_view(
        case, await q.case_callbacks(conn, work_order_id), await q.case_confirmation(conn, work_order_id)
    )


async def report(
    conn: asyncpg.Connection,
    owner: asyncpg.Record,
    *,
    kind: str,
    category: str,
    description: str,
    preferred_at: datetime | None,
    clock: Clock,
    link_base: str,
) -> dict[str, Any]:
    """An owner's report: lands on the dispatch board like phone intake, with channel `app`."""
    if kind not in OWNER_KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(OWNER_KINDS)}", field="kind")
    allowed = REPAIR_CATEGORIES if kind == "repair" else COMPLAINT_CATEGORIES
    if category not in allowed:
        raise ValidationFailed("unknown category", field="category")
    now = clock.now()
    phone = await conn.fetchval("SELECT phone FROM residents WHERE id = $1", owner["resident_id"])
    async with conn.transaction():
        order = await create_work_order(
            conn,
            actor=None,
            site_id=owner["site_id"],
            kind=kind,
            category=category,
            priority=None,
            title=description.strip().splitlines()[0][:80] if description.strip() else category,
            description=description,
            channel="app",
            now=now,
            unit_id=owner["unit_id"],
            in_home=kind == "repair",
            reporter_name=owner["name"],
            reporter_phone=phone,
            appointment_at=preferred_at,
        )
        await queue_message(
            conn,
            now=now,
            site_id=owner["site_id"],
            kind="case_received",
            event_key=f"wo:{order.id}:received",
            recipients=await q.residents_of_unit(conn, owner["unit_id"]),
            params={"number": order.number, "link": f"{link_base}/owner.html#case/{order.id}"},
            work_order_id=order.id,
        )
    return await get_case(conn, owner, order.id)


async def add_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    owner: asyncpg.Record,
    work_order_id: UUID,
    *,
    data: bytes,
    content_type: str | None,
    filename: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An owner's photo of the fault: checked and cleaned like staff photos, kept as a `before` photo of
    the case with no uploader (staff see it with the job; it never counts toward completion's `after`)."""
    case = await q.unit_case(conn, owner["unit_id"], work_order_id)
    if case is None:
        raise NotFound("no such case", code="owner_case_not_found")
    if case["status"] in ("closed", "cancelled"):
        raise Conflict("this case is finished", code="photo_not_allowed")
    if await q.owner_photo_count(conn, work_order_id) >= MAX_OWNER_PHOTOS:
        raise ValidationFailed(
            f"at most {MAX_OWNER_PHOTOS} photos", field="file", code="owner_too_many_photos"
        )
    image = await inspect_photo(conn, data, content_type, filename, case["timezone"])
    photo, _ = await evidence_q.add_photo(
        conn,
        work_order_id=work_order_id,
        stage="before",
        sha256=image.sha256,
        thumb_sha256=image.thumbnail_sha256,
        width=image.width,
        height=image.height,
        taken_at=image.taken_at,
        client_at=None,
        uploaded_by=None,
        uploaded_at=now,
    )
    await q.mark_owner_photo(conn, photo.id)
    await store_photo(storage, image)
    return await get_case(conn, owner, work_order_id)


async def rate(
    conn: asyncpg.Connection,
    owner: asyncpg.Record,
    work_order_id: UUID,
    answers: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The owner's rating, recorded as the job's follow-up call (reached, by nobody on the staff)."""
    case = await q.unit_case(conn, owner["unit_id"], work_order_id)
    if case is None:
        raise NotFound("no such case", code="owner_case_not_found")
    async with conn.transaction():
        await apply_action(
            conn,
            work_order_id=work_order_id,
            action=Action.CALLBACK,
            actor=None,
            now=now,
            payload={"reached": True, **answers, "comment": answers.get("comment") or "业主在线评价"},
        )
    return await get_case(conn, owner, work_order_id)


async def confirm(
    conn: asyncpg.Connection, owner: asyncpg.Record, work_order_id: UUID, now: datetime
) -> dict[str, Any]:
    """The owner confirms the work is done (apart from any rating): recorded once on the case, shown to
    staff with its messages. Confirming again changes nothing."""
    case = await q.unit_case(conn, owner["unit_id"], work_order_id)
    if case is None:
        raise NotFound("no such case", code="owner_case_not_found")
    already = await q.case_confirmation(conn, work_order_id) is not None
    if not already and not owner_may_confirm(status=case["status"], kind=case["kind"], confirmed=False):
        raise Conflict("the work is not finished yet", code="owner_confirm_not_done")
    await q.add_case_note(conn, work_order_id, owner["resident_id"], "confirm", "", now)
    return await get_case(conn, owner, work_order_id)


def check_request_key(request_key: str | None) -> None:
    """An owner's Idempotency-Key, when sent, is 1-200 characters."""
    if request_key is not None and not 1 <= len(request_key) <= MAX_REQUEST_KEY:
        raise ValidationFailed(
            f"Idempotency-Key must be 1-{MAX_REQUEST_KEY} characters", field="Idempotency-Key"
        )


def feedback_view(row: asyncpg.Record) -> dict[str, Any]:
    """What an owner sees of a suggestion or praise: the words and the staff's answer, no staff names."""
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "text": row["text"],
        "createdAt": row["created_at"].isoformat(),
        "answered": row["answered_at"] is not None,
        "answeredAt": row["answered_at"].isoformat() if row["answered_at"] else None,
        "answer": row["answer"],
    }


async def _one_feedback(conn: asyncpg.Connection, feedback_id: UUID) -> dict[str, Any]:
    row = await feedback_q.get(conn, feedback_id)
    assert row is not None
    return feedback_view(row)


async def file_owner_feedback(
    conn: asyncpg.Connection,
    owner: asyncpg.Record,
    *,
    kind: str,
    text: str,
    request_key: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A suggestion or praise from the owner's page: the unit, site, name and number are the session's;
    channel `app`, filed by nobody on the staff. The same Idempotency-Key files it once per unit."""
    check_request_key(request_key)
    if request_key is not None:
        earlier = await feedback_q.by_owner_request(conn, owner["unit_id"], request_key)
        if earlier is not None:
            return await _one_feedback(conn, earlier)
    phone = await conn.fetchval("SELECT phone FROM residents WHERE id = $1", owner["resident_id"])
    filed = await file_feedback(
        conn,
        owner["site_id"],
        owner["unit_id"],
        kind,
        text,
        "app",
        now=now,
        reporter_name=owner["name"],
        reporter_phone=phone,
    )
    if request_key is not None:
        await feedback_q.mark_owner_request(conn, filed.id, request_key)
    return await _one_feedback(conn, filed.id)


async def list_owner_feedback(
    conn: asyncpg.Connection, owner: asyncpg.Record, limit: int, offset: int
) -> dict[str, Any]:
    """The unit's suggestions and praise, newest first, each with the staff's answer if any."""
    rows, total = await feedback_q.of_unit(conn, owner["unit_id"], limit, offset)
    return {"items": [feedback_view(r) for r in rows], "total": total, "limit": limit, "offset": offset}
