"""Completion needs evidence; the owner's signature binds a hash of the record, and tampering shows."""

from __future__ import annotations

import hashlib
import io
from typing import Any
from uuid import UUID

import asyncpg
from PIL import Image, ImageDraw

from backend.db.queries.users import get_active_user
from backend.domain.models import CurrentUser
from backend.errors import CaretakerError
from backend.services.intake import create_work_order
from backend.services.work_order_actions import perform_action


def photo(seed: int = 0) -> bytes:
    image = Image.new("RGB", (1024, 768), (40 + seed, 90, 160))
    ImageDraw.Draw(image).rectangle((100, 100, 500, 400), fill=(230, 220, 10))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def signature_png() -> bytes:
    """What the PWA's signature pad sends: strokes on a transparent canvas."""
    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(20, 150), (120, 40), (220, 160), (330, 50), (560, 120)], fill="black", width=4
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def staff(db: asyncpg.Connection, username: str) -> CurrentUser:
    user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", username)
    user = await get_active_user(db, user_id)
    assert user is not None
    return user


async def job_on_site(db: asyncpg.Connection, clock, *, in_home: bool = True, kind: str = "repair") -> UUID:
    """A repair in unit A-101 taken by tech1 up to 'on site', through the work-order service."""
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    unit_id = await db.fetchval(
        """SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id
           WHERE u.site_id = $1 AND b.code = 'A' AND u.number = '101'""",
        site_id,
    )
    supervisor, tech = await staff(db, "supervisor"), await staff(db, "tech1")
    async with db.transaction():
        wo = await create_work_order(
            db,
            actor=supervisor,
            site_id=site_id,
            kind=kind,
            category="water",
            priority=2,
            title="厨房水管漏水",
            description="Water drips from the pipe under the kitchen sink",
            channel="phone",
            now=clock.now(),
            unit_id=unit_id if in_home else None,
            location="A-101 kitchen" if in_home else "B1 pump room",
            in_home=in_home,
            reporter_name="王先生",
            reporter_phone="13900000101",
        )
        steps: list[tuple[str, CurrentUser, dict[str, Any]]] = [
            ("assign", supervisor, {"assigneeId": str(tech.id)}),
            ("accept", tech, {}),
            ("depart", tech, {}),
            ("arrive", tech, {}),
        ]
        for action, actor, payload in steps:
            await perform_action(
                db, work_order_id=wo.id, action=action, actor=actor, now=clock.now(), payload=payload
            )
    return wo.id


async def complete(db: asyncpg.Connection, clock, work_order_id: UUID) -> None:
    codes = await db.fetch(
        "SELECT code FROM checklist_items WHERE site_id IS NULL AND kind = 'repair' AND required"
    )
    async with db.transaction():
        await perform_action(
            db,
            work_order_id=work_order_id,
            action="complete",
            actor=await staff(db, "tech1"),
            now=clock.now(),
            payload={
                "workDone": "Replaced the washer",
                "cause": "worn washer",
                "checklist": {r["code"]: True for r in codes},
            },
        )


async def add_photo(client, headers, work_order_id: UUID, stage: str, seed: int = 0):
    r = await client.post(
        f"/api/v1/work-orders/{work_order_id}/photos",
        files={"file": (f"{stage}.jpg", photo(seed), "image/jpeg")},
        data={"stage": stage},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def sign(client, headers, work_order_id: UUID, **fields):
    return await client.post(
        f"/api/v1/work-orders/{work_order_id}/sign",
        files={"file": ("signature.png", signature_png(), "image/png")},
        data={"signerName": "王先生", "relation": "owner", **fields},
        headers=headers,
    )


async def signed_job(client, db, clock, login_as, idem) -> UUID:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "before", seed=1)
    await add_photo(client, {**tech, **idem()}, wo, "after", seed=2)
    await complete(db, clock, wo)
    r = await sign(client, {**tech, **idem()}, wo)
    assert r.status_code == 200, r.text
    return wo


async def test_completing_needs_an_after_photo_and_then_succeeds(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "before")

    try:
        await complete(db, clock, wo)
        raise AssertionError("completing without an after photo must fail")
    except CaretakerError as refused:
        assert "after" in refused.detail
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", wo) == "on_site"

    await add_photo(client, {**tech, **idem()}, wo, "after", seed=5)
    await complete(db, clock, wo)
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", wo) == "completed"


async def test_signing_stores_the_signature_and_the_record_hash_and_verifies(
    client, db, clock, login_as, idem
) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)

    r = await sign(client, {**tech, **idem()}, wo, clientAt=clock.now().isoformat())

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "signed"
    assert body["signerName"] == "王先生" and body["relation"] == "owner"
    row = await db.fetchrow("SELECT * FROM signatures WHERE work_order_id = $1", wo)
    assert row["record_hash"] == body["recordHash"]
    assert row["sha256"] == body["signatureSha256"]
    assert await db.fetchval("SELECT media_type FROM blobs WHERE sha256 = $1", row["sha256"]) == "image/png"
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", wo) == "signed"
    sign_event = await db.fetchrow(
        "SELECT payload FROM work_order_events WHERE work_order_id = $1 AND action = 'sign'", wo
    )
    assert sign_event["payload"]["recordHash"] == body["recordHash"]

    check = await client.get(f"/api/v1/work-orders/{wo}/verify")  # public: no token
    assert check.status_code == 200
    assert check.json()["matches"] is True
    assert check.json()["recordHash"] == check.json()["currentHash"] == body["recordHash"]
    assert set(check.json()) == {"number", "matches", "recordHash", "currentHash", "signedAt"}


async def test_nobody_to_sign_is_recorded_with_a_reason(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)

    r = await client.post(
        f"/api/v1/work-orders/{wo}/sign", json={"noSignReason": "owner_absent"}, headers={**tech, **idem()}
    )

    assert r.status_code == 200, r.text
    assert r.json()["noSignReason"] == "owner_absent" and r.json()["signed"] is False
    assert (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()["matches"] is True


async def test_a_signature_needs_a_png_a_name_and_a_relation(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)

    jpeg_signature = await client.post(
        f"/api/v1/work-orders/{wo}/sign",
        files={"file": ("signature.png", photo(), "image/png")},
        data={"signerName": "王先生", "relation": "owner"},
        headers={**tech, **idem()},
    )
    assert jpeg_signature.status_code == 415
    no_name = await sign(client, {**tech, **idem()}, wo, signerName="")
    assert no_name.status_code == 422 and no_name.json()["field"] == "signerName"
    bad_relation = await sign(client, {**tech, **idem()}, wo, relation="neighbour")
    assert bad_relation.status_code == 422 and bad_relation.json()["field"] == "relation"
    bad_reason = await client.post(
        f"/api/v1/work-orders/{wo}/sign", json={"noSignReason": "too_busy"}, headers={**tech, **idem()}
    )
    assert bad_reason.status_code == 422 and bad_reason.json()["field"] == "noSignReason"
    assert await db.fetchval("SELECT count(*) FROM signatures") == 0
    assert await db.fetchval("SELECT count(*) FROM blobs WHERE media_type = 'image/png'") == 0


async def test_only_a_completed_job_can_be_signed_and_only_once(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    early = await sign(client, {**tech, **idem()}, wo)
    assert early.status_code == 409
    assert early.json()["currentStatus"] == "on_site"

    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)
    assert (await sign(client, {**tech, **idem()}, wo)).status_code == 200
    again = await sign(client, {**tech, **idem()}, wo)
    assert again.status_code == 409


async def test_a_replayed_signature_is_applied_once(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)
    headers = {**tech, **idem()}

    first = await sign(client, headers, wo)
    replay = await sign(client, headers, wo)

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert (
        await db.fetchval(
            "SELECT count(*) FROM work_order_events WHERE work_order_id = $1 AND action = 'sign'", wo
        )
        == 1
    )


async def test_editing_a_stored_field_makes_verify_report_a_mismatch(
    client, db, clock, login_as, idem
) -> None:
    wo = await signed_job(client, db, clock, login_as, idem)
    await db.execute("UPDATE work_orders SET description = description || ' (and the tap)' WHERE id = $1", wo)

    check = (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()

    assert check["matches"] is False
    assert check["currentHash"] != check["recordHash"]


async def test_swapping_a_photo_hash_makes_verify_report_a_mismatch(
    client, db, clock, login_as, idem
) -> None:
    wo = await signed_job(client, db, clock, login_as, idem)
    forged = photo(seed=99)
    forged_sha = hashlib.sha256(forged).hexdigest()
    await db.execute(
        "INSERT INTO blobs (sha256, size, media_type) VALUES ($1, $2, 'image/jpeg')", forged_sha, len(forged)
    )
    await db.execute(
        "UPDATE photos SET sha256 = $2 WHERE work_order_id = $1 AND stage = 'after'", wo, forged_sha
    )

    assert (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()["matches"] is False


async def test_rewriting_an_event_makes_verify_report_a_mismatch(client, db, clock, login_as, idem) -> None:
    wo = await signed_job(client, db, clock, login_as, idem)
    # Events are append-only; only someone with the power to switch the trigger off can rewrite them.
    await db.execute("ALTER TABLE work_order_events DISABLE TRIGGER work_order_events_append_only")
    await db.execute(
        """UPDATE work_order_events SET at = at - interval '1 hour'
           WHERE work_order_id = $1 AND action = 'arrive'""",
        wo,
    )
    await db.execute("ALTER TABLE work_order_events ENABLE TRIGGER work_order_events_append_only")

    assert (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()["matches"] is False


async def test_events_after_signing_do_not_disturb_the_record(client, db, clock, login_as, idem) -> None:
    wo = await signed_job(client, db, clock, login_as, idem)
    async with db.transaction():
        await perform_action(
            db,
            work_order_id=wo,
            action="close",
            actor=await staff(db, "supervisor"),
            now=clock.now(),
            payload={},
        )
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", wo) == "closed"
    assert (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()["matches"] is True


async def test_verify_of_an_unsigned_or_unknown_job_is_not_found(client, db, clock) -> None:
    wo = await job_on_site(db, clock)
    assert (await client.get(f"/api/v1/work-orders/{wo}/verify")).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/v1/work-orders/{unknown}/verify")).status_code == 404


async def test_a_job_reopened_after_signing_is_signed_afresh_and_the_old_signature_kept(
    client, db, clock, login_as, idem
) -> None:
    wo = await signed_job(client, db, clock, login_as, idem)
    first_hash = await db.fetchval("SELECT record_hash FROM signatures WHERE work_order_id = $1", wo)
    supervisor, tech = await staff(db, "supervisor"), await staff(db, "tech1")
    async with db.transaction():
        await perform_action(
            db,
            work_order_id=wo,
            action="reopen",
            actor=supervisor,
            now=clock.now(),
            payload={"reason": "still dripping"},
        )
        for action in ("accept", "depart", "arrive"):
            await perform_action(db, work_order_id=wo, action=action, actor=tech, now=clock.now(), payload={})
    headers = await login_as("tech1")
    await add_photo(client, {**headers, **idem()}, wo, "after", seed=40)
    await complete(db, clock, wo)

    again = await sign(client, {**headers, **idem()}, wo)

    assert again.status_code == 200, again.text
    assert again.json()["recordHash"] != first_hash
    kept = await db.fetch("SELECT record_hash FROM superseded_signatures WHERE work_order_id = $1", wo)
    assert [r["record_hash"] for r in kept] == [first_hash]
    check = (await client.get(f"/api/v1/work-orders/{wo}/verify")).json()
    assert check["matches"] is True and check["recordHash"] == again.json()["recordHash"]
