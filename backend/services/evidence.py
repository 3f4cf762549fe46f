"""Field evidence: photo uploads, the owner's signature bound to a hash of the record, verification, receipts.

Every function takes a connection already in a transaction. Blob bytes are written to storage after the
rows that name them, just before the caller commits, so a rejected upload stores nothing at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import evidence as q
from backend.domain import evidence as rules
from backend.domain.models import CurrentUser, Model
from backend.domain.roles import OVERSIGHT_ROLES
from backend.domain.work_orders import Photo
from backend.domain.workflow import Status
from backend.errors import Conflict, Forbidden, NotFound, ValidationFailed
from backend.services.photos import inspect_photo, inspect_upload, store_photo
from backend.services.work_order_actions import perform_action
from backend.services.work_orders import photo_view
from backend.storage import Storage

# Photos document work in progress: from acceptance until the job is completed. Once the owner has signed,
# the record is sealed, and a later photo would no longer match the signed hash.
PHOTO_STATUSES = frozenset(
    {Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE, Status.PAUSED, Status.COMPLETED}
)
SIGNER_NAME_MAX = 100


class SignatureView(Model, frozen=True):
    """The signature as the API shows it, with the hash of the record it binds."""

    work_order_id: UUID
    signed: bool
    signer_name: str | None
    relation: str | None
    no_sign_reason: str | None
    signature_sha256: str | None
    record_hash: str
    events_through_seq: int
    signed_at: datetime
    status: str


class Verification(Model, frozen=True):
    """Whether the record still matches its signed hash; deliberately nothing else about the job."""

    number: str
    matches: bool
    record_hash: str
    current_hash: str
    signed_at: datetime


class Blob(msgspec.Struct, frozen=True):
    """Bytes to send with their type and hash (the hash doubles as an ETag)."""

    data: bytes
    media_type: str
    sha256: str


async def _visible_target(conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser, *, lock: bool):
    target = await (q.lock_evidence_target if lock else q.get_evidence_target)(conn, work_order_id)
    # Another site's work order answers exactly like a missing one, so ids cannot be probed.
    if target is None or not viewer.may_see_site(target.site_id):
        raise NotFound("no such work order", code="work_order_not_found")
    return target


def _may_handle(target: q.EvidenceTarget, actor: CurrentUser) -> None:
    if actor.role in OVERSIGHT_ROLES or target.assignee_id == actor.id:
        return
    raise Forbidden("only the assigned technician or a supervisor may add evidence", code="not_assignee")


async def upload_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    work_order_id: UUID,
    actor: CurrentUser,
    stage: str,
    data: bytes,
    content_type: str | None,
    filename: str | None,
    client_at: datetime | None,
    now: datetime,
) -> Photo:
    """Check the image, keep it (and its thumbnail) by hash, and attach it to the work order at a stage."""
    if stage not in rules.STAGES:
        raise ValidationFailed(f"stage must be one of {', '.join(rules.STAGES)}", field="stage")
    target = await _visible_target(conn, work_order_id, actor, lock=False)
    _may_handle(target, actor)
    if target.status not in PHOTO_STATUSES:
        raise Conflict(
            f"photos cannot be added to a work order that is {target.status}",
            code="photo_not_allowed",
            extra={"currentStatus": target.status},
        )
    image = await inspect_photo(conn, data, content_type, filename, target.site_timezone)
    photo, _ = await q.add_photo(
        conn,
        work_order_id=work_order_id,
        stage=stage,
        sha256=image.sha256,
        thumb_sha256=image.thumbnail_sha256,
        width=image.width,
        height=image.height,
        taken_at=image.taken_at,
        client_at=client_at,
        uploaded_by=actor.id,
        uploaded_at=now,
    )
    await store_photo(storage, image)
    return photo_view(photo)


async def list_photos(conn: asyncpg.Connection, work_order_id: UUID, viewer: CurrentUser) -> list[Photo]:
    """The work order's photos, for staff of its site."""
    await _visible_target(conn, work_order_id, viewer, lock=False)
    return [photo_view(p) for p in await q.list_photos(conn, work_order_id)]


async def photo_bytes(
    conn: asyncpg.Connection, storage: Storage, photo_id: UUID, viewer: CurrentUser, *, thumbnail: bool
) -> Blob:
    """The original (or the thumbnail) of a photo, for staff of the work order's site only."""
    photo = await q.get_photo(conn, photo_id)
    if photo is None or not viewer.may_see_site(photo.site_id):
        raise NotFound("no such photo", code="photo_not_found")
    if thumbnail:
        return Blob(await storage.get(photo.thumb_sha256), "image/webp", photo.thumb_sha256)
    return Blob(await storage.get(photo.sha256), photo.media_type, photo.sha256)


async def _current_record(
    conn: asyncpg.Connection, work_order_id: UUID, through_seq: int, signature: rules.RecordSignature
) -> dict[str, Any]:
    work_order = await q.record_work_order(conn, work_order_id)
    if work_order is None:
        raise NotFound("no such work order", code="work_order_not_found")
    events = await q.record_events(conn, work_order_id, through_seq)
    photos = await q.record_photos(conn, work_order_id)
    record = rules.build_record(work_order, events, photos, signature)
    # The record names the seq it covers even when an event row has vanished, so a deletion shows.
    record["eventsThroughSeq"] = through_seq
    return record


def _signature_inputs(
    *, has_file: bool, signer_name: str | None, relation: str | None, no_sign_reason: str | None
) -> tuple[str | None, str | None, str | None]:
    """Either a drawn signature with name and relation, or a reason why nobody signed — never both."""
    signer_name = (signer_name or "").strip() or None
    relation = (relation or "").strip() or None
    no_sign_reason = (no_sign_reason or "").strip() or None
    if no_sign_reason is not None:
        if has_file:
            raise ValidationFailed("send a signature or a noSignReason, not both", field="noSignReason")
        if no_sign_reason not in rules.NO_SIGN_REASONS:
            raise ValidationFailed(
                f"noSignReason must be one of {', '.join(rules.NO_SIGN_REASONS)}", field="noSignReason"
            )
        return None, None, no_sign_reason
    if not has_file:
        raise ValidationFailed("a signature image (file) or a noSignReason is required", field="file")
    if signer_name is None or len(signer_name) > SIGNER_NAME_MAX:
        raise ValidationFailed(f"signerName must be 1-{SIGNER_NAME_MAX} characters", field="signerName")
    if relation not in rules.RELATIONS:
        raise ValidationFailed(f"relation must be one of {', '.join(rules.RELATIONS)}", field="relation")
    return signer_name, relation, None


async def sign_work_order(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    work_order_id: UUID,
    actor: CurrentUser,
    signature_png: bytes | None,
    content_type: str | None = None,
    filename: str | None = None,
    signer_name: str | None = None,
    relation: str | None = None,
    no_sign_reason: str | None = None,
    client_at: datetime | None = None,
    now: datetime,
) -> SignatureView:
    """Bind the signature (or why nobody signed) to a hash of the record as it is now; completed → signed."""
    signer_name, relation, no_sign_reason = _signature_inputs(
        has_file=signature_png is not None,
        signer_name=signer_name,
        relation=relation,
        no_sign_reason=no_sign_reason,
    )
    # Locked until commit: nothing can append an event or change a field between hashing and signing.
    target = await _visible_target(conn, work_order_id, actor, lock=True)
    _may_handle(target, actor)
    if target.status != "completed":
        raise Conflict(
            f"only a completed work order can be signed; this one is {target.status}",
            code="invalid_transition",
            extra={"currentStatus": target.status},
        )
    superseded: str | None = None
    if await q.get_signature(conn, work_order_id) is not None:
        # Signing only happens from 'completed' and moves the job on to 'signed' at once, so a completed
        # job that already has a signature was reopened and redone: the new visit is signed afresh.
        superseded = await q.supersede_signature(conn, work_order_id, now)

    image: rules.InspectedImage | None = None
    if signature_png is not None:
        image = await inspect_upload(
            conn,
            signature_png,
            content_type,
            filename,
            formats=rules.SIGNATURE_FORMATS,
            max_bytes=rules.MAX_SIGNATURE_BYTES,
        )

    signature = rules.RecordSignature(
        sha256=image.sha256 if image else None,
        signer_name=signer_name,
        relation=relation,
        no_sign_reason=no_sign_reason,
        signed_by=actor.id,
        signed_at=now,
    )
    events = await q.record_events(conn, work_order_id, target.version)
    through_seq = max((e.seq for e in events), default=0)
    record = await _current_record(conn, work_order_id, through_seq, signature)
    digest = rules.record_hash(record)
    await q.add_signature(
        conn,
        work_order_id=work_order_id,
        sha256=signature.sha256,
        signer_name=signer_name,
        relation=relation,
        no_sign_reason=no_sign_reason,
        record_hash=digest,
        record=record,
        signed_by=actor.id,
        signed_at=now,
        client_at=client_at,
    )
    detail = await perform_action(
        conn,
        work_order_id=work_order_id,
        action="sign",
        actor=actor,
        now=now,
        client_at=client_at,
        payload={
            "recordHash": digest,
            "signatureSha256": signature.sha256,
            "noSignReason": no_sign_reason,
            "supersedesRecordHash": superseded,
        },
    )
    if image is not None:
        await storage.put(image.sha256, image.data, image.media_type)
    return SignatureView(
        work_order_id=work_order_id,
        signed=image is not None,
        signer_name=signer_name,
        relation=relation,
        no_sign_reason=no_sign_reason,
        signature_sha256=signature.sha256,
        record_hash=digest,
        events_through_seq=through_seq,
        signed_at=now,
        status=getattr(detail, "status", "signed"),
    )


async def verify_record(conn: asyncpg.Connection, work_order_id: UUID) -> Verification:
    """Rebuild the record from the rows as they are now and compare its hash with the one signed."""
    signature = await q.get_signature(conn, work_order_id)
    if signature is None:
        raise NotFound("no signed record for this work order", code="record_not_found")
    through_seq = int(signature.record.get("eventsThroughSeq", 0))
    current = await _current_record(conn, work_order_id, through_seq, q.record_signature(signature))
    current_hash = rules.record_hash(current)
    number = str(current["workOrder"]["number"])
    return Verification(
        number=number,
        matches=current_hash == signature.record_hash,
        record_hash=signature.record_hash,
        current_hash=current_hash,
        signed_at=signature.signed_at,
    )
