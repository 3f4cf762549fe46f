"""Evidence rows: blobs, photos, signatures, checklist items, and the rows a service record is built from."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.domain.completion import ChecklistItem
from backend.domain.evidence import RecordEvent, RecordPhoto, RecordSignature, RecordWorkOrder
from backend.errors import Conflict


class EvidenceTarget(msgspec.Struct, frozen=True, kw_only=True):
    """What evidence rules need to know about a work order: where it is, its state, who holds it."""

    id: UUID
    site_id: UUID
    site_timezone: str
    number: str
    kind: str
    status: str
    in_home: bool
    assignee_id: UUID | None
    version: int


class Photo(msgspec.Struct, frozen=True, kw_only=True):
    """A stored photo of a work order."""

    id: UUID
    work_order_id: UUID
    site_id: UUID
    stage: str
    visit: int
    sha256: str
    thumb_sha256: str
    media_type: str
    size: int
    width: int
    height: int
    taken_at: datetime | None
    client_at: datetime | None
    uploaded_by: UUID | None
    uploaded_at: datetime


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    """The signature row of a work order, with the record it bound."""

    work_order_id: UUID
    visit: int
    sha256: str | None
    signer_name: str | None
    relation: str | None
    no_sign_reason: str | None
    record_hash: str
    record: dict[str, Any]
    signed_by: UUID | None
    signed_at: datetime
    client_at: datetime | None


class ReceiptHeader(msgspec.Struct, frozen=True, kw_only=True):
    """The names a printed service record shows next to the work order's own fields."""

    site_name: str
    site_timezone: str
    status: str
    unit_label: str | None
    asset_name: str | None
    assignee_name: str | None
    arrived_at: datetime | None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    """An event as the receipt lists it, with the actor's display name."""

    seq: int
    action: str
    from_status: str | None
    to_status: str
    actor_name: str | None
    at: datetime
    client_at: datetime | None


_TARGET = """
    SELECT w.id, w.site_id, s.timezone AS site_timezone, w.number, w.kind, w.status, w.in_home,
           w.assignee_id, w.version
    FROM work_orders w JOIN sites s ON s.id = w.site_id
    WHERE w.id = $1
"""


async def get_evidence_target(conn: asyncpg.Connection, work_order_id: UUID) -> EvidenceTarget | None:
    """The work order's evidence-relevant fields, or None."""
    row = await conn.fetchrow(_TARGET, work_order_id)
    return EvidenceTarget(**dict(row)) if row else None


async def lock_evidence_target(conn: asyncpg.Connection, work_order_id: UUID) -> EvidenceTarget | None:
    """The same, with the work order's row locked until commit so no event slips in while it is hashed."""
    row = await conn.fetchrow(_TARGET + " FOR UPDATE OF w", work_order_id)
    return EvidenceTarget(**dict(row)) if row else None


async def add_blob(conn: asyncpg.Connection, sha256: str, size: int, media_type: str) -> bool:
    """Record a blob; False when the same bytes were stored before (content addressing makes it one blob)."""
    inserted = await conn.fetchval(
        """INSERT INTO blobs (sha256, size, media_type) VALUES ($1, $2, $3)
           ON CONFLICT (sha256) DO NOTHING RETURNING true""",
        sha256,
        size,
        media_type,
    )
    return bool(inserted)


_PHOTO = """
    SELECT p.id, p.work_order_id, w.site_id, p.stage, p.visit, p.sha256, p.thumb_sha256, b.media_type, b.size,
           p.width, p.height, p.taken_at, p.client_at, p.uploaded_by, p.uploaded_at
    FROM photos p
    JOIN work_orders w ON w.id = p.work_order_id
    JOIN blobs b ON b.sha256 = p.sha256
"""


async def add_photo(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    stage: str,
    sha256: str,
    thumb_sha256: str,
    width: int,
    height: int,
    taken_at: datetime | None,
    client_at: datetime | None,
    uploaded_by: UUID,
    uploaded_at: datetime,
) -> tuple[Photo, bool]:
    """Attach a photo to the job's current visit; the same image at the same stage of the same visit again
    returns the existing photo and False."""
    photo_id = await conn.fetchval(
        """INSERT INTO photos (work_order_id, visit, stage, sha256, thumb_sha256, width, height, taken_at,
                               client_at, uploaded_by, uploaded_at)
           SELECT $1, w.reopen_count + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
           FROM work_orders w WHERE w.id = $1
           ON CONFLICT (work_order_id, visit, sha256, stage) DO NOTHING
           RETURNING id""",
        work_order_id,
        stage,
        sha256,
        thumb_sha256,
        width,
        height,
        taken_at,
        client_at,
        uploaded_by,
        uploaded_at,
    )
    created = photo_id is not None
    if not created:
        photo_id = await conn.fetchval(
            """SELECT p.id FROM photos p JOIN work_orders w ON w.id = p.work_order_id
               WHERE p.work_order_id = $1 AND p.sha256 = $2 AND p.stage = $3
                 AND p.visit = w.reopen_count + 1""",
            work_order_id,
            sha256,
            stage,
        )
    row = await conn.fetchrow(_PHOTO + " WHERE p.id = $1", photo_id)
    return Photo(**dict(row)), created


async def get_photo(conn: asyncpg.Connection, photo_id: UUID) -> Photo | None:
    """A photo with its work order's site, or None."""
    row = await conn.fetchrow(_PHOTO + " WHERE p.id = $1", photo_id)
    return Photo(**dict(row)) if row else None


async def list_photos(conn: asyncpg.Connection, work_order_id: UUID) -> list[Photo]:
    """A work order's photos, visit by visit, before → during → after, in upload order."""
    rows = await conn.fetch(
        _PHOTO
        + """ WHERE p.work_order_id = $1
              ORDER BY p.visit, array_position(ARRAY['before', 'during', 'after'], p.stage), p.uploaded_at,
                       p.id""",
        work_order_id,
    )
    return [Photo(**dict(r)) for r in rows]


async def add_signature(
    conn: asyncpg.Connection,
    *,
    work_order_id: UUID,
    sha256: str | None,
    signer_name: str | None,
    relation: str | None,
    no_sign_reason: str | None,
    record_hash: str,
    record: dict[str, Any],
    signed_by: UUID,
    signed_at: datetime,
    client_at: datetime | None,
) -> None:
    """Store the signature of the job's current visit and the record it binds; a second one is a Conflict."""
    try:
        await conn.execute(
            """INSERT INTO signatures (work_order_id, visit, sha256, signer_name, relation, no_sign_reason,
                                       record_hash, record, signed_by, signed_at, client_at)
               SELECT $1, w.reopen_count + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10
               FROM work_orders w WHERE w.id = $1""",
            work_order_id,
            sha256,
            signer_name,
            relation,
            no_sign_reason,
            record_hash,
            record,
            signed_by,
            signed_at,
            client_at,
        )
    except asyncpg.UniqueViolationError as e:
        raise Conflict("this visit is already signed", code="already_signed") from e


async def supersede_signature(conn: asyncpg.Connection, work_order_id: UUID, now: datetime) -> str | None:
    """Move the work order's signature to superseded_signatures (it was reopened); returns its record hash."""
    return await conn.fetchval(
        """WITH gone AS (DELETE FROM signatures WHERE work_order_id = $1 RETURNING *)
           INSERT INTO superseded_signatures (work_order_id, visit, sha256, signer_name, relation,
                                              no_sign_reason, record_hash, record, signed_by, signed_at,
                                              client_at, superseded_at)
           SELECT work_order_id, visit, sha256, signer_name, relation, no_sign_reason, record_hash, record,
                  signed_by, signed_at, client_at, $2
           FROM gone
           RETURNING record_hash""",
        work_order_id,
        now,
    )


async def get_signature(conn: asyncpg.Connection, work_order_id: UUID) -> Signature | None:
    """The work order's signature row, or None."""
    row = await conn.fetchrow(
        """SELECT work_order_id, visit, sha256, signer_name, relation, no_sign_reason, record_hash, record,
                  signed_by, signed_at, client_at
           FROM signatures WHERE work_order_id = $1""",
        work_order_id,
    )
    return Signature(**dict(row)) if row else None


async def checklist(conn: asyncpg.Connection, site_id: UUID, kind: str) -> list[ChecklistItem]:
    """A kind's whole on-site checklist at a site, in order: the defaults, each replaced by the site's own
    item with the same code, plus the site's extra items (which apply where is each item's `place`)."""
    rows = await conn.fetch(
        """SELECT * FROM (
               SELECT DISTINCT ON (code) code, label_zh, label_en, required, position, place
               FROM checklist_items
               WHERE kind = $2 AND (site_id = $1 OR site_id IS NULL)
               ORDER BY code, site_id NULLS LAST    -- the site's row first
           ) items
           ORDER BY position, code""",
        site_id,
        kind,
    )
    return [ChecklistItem(**dict(r)) for r in rows]


async def record_work_order(conn: asyncpg.Connection, work_order_id: UUID) -> RecordWorkOrder | None:
    """The work order's content fields that the service record covers."""
    row = await conn.fetchrow(
        """SELECT id, number, kind, category, priority, title, description, unit_id, asset_id, location,
                  in_home, reporter_name, reporter_phone, created_at, completed_at, resolution
           FROM work_orders WHERE id = $1""",
        work_order_id,
    )
    return RecordWorkOrder(**dict(row)) if row else None


async def record_events(conn: asyncpg.Connection, work_order_id: UUID, through_seq: int) -> list[RecordEvent]:
    """The work order's events up to and including `through_seq`, in order."""
    rows = await conn.fetch(
        """SELECT seq, action, from_status, to_status, actor_id, at, client_at, payload
           FROM work_order_events WHERE work_order_id = $1 AND seq <= $2 ORDER BY seq""",
        work_order_id,
        through_seq,
    )
    return [RecordEvent(**dict(r)) for r in rows]


async def record_photos(conn: asyncpg.Connection, work_order_id: UUID) -> list[RecordPhoto]:
    """The hash and stage of each of the work order's photos."""
    rows = await conn.fetch("SELECT sha256, stage FROM photos WHERE work_order_id = $1", work_order_id)
    return [RecordPhoto(**dict(r)) for r in rows]


def record_signature(signature: Signature) -> RecordSignature:
    """The part of a signature row that the record covers."""
    return RecordSignature(
        sha256=signature.sha256,
        signer_name=signature.signer_name,
        relation=signature.relation,
        no_sign_reason=signature.no_sign_reason,
        signed_by=signature.signed_by,
        signed_at=signature.signed_at,
    )


async def receipt_header(conn: asyncpg.Connection, work_order_id: UUID) -> ReceiptHeader | None:
    """Site, unit, asset and assignee names for the printed record."""
    row = await conn.fetchrow(
        """SELECT s.name AS site_name, s.timezone AS site_timezone, w.status,
                  CASE WHEN u.id IS NOT NULL THEN b.name || ' ' || u.number END AS unit_label,
                  a.name AS asset_name,
                  COALESCE(assignee.display_name, last_assignee.display_name) AS assignee_name,
                  w.arrived_at
           FROM work_orders w
           JOIN sites s ON s.id = w.site_id
           LEFT JOIN units u ON u.id = w.unit_id
           LEFT JOIN buildings b ON b.id = u.building_id
           LEFT JOIN assets a ON a.id = w.asset_id
           LEFT JOIN users assignee ON assignee.id = w.assignee_id
           LEFT JOIN users last_assignee ON last_assignee.id = w.last_assignee_id
           WHERE w.id = $1""",
        work_order_id,
    )
    return ReceiptHeader(**dict(row)) if row else None


async def timeline(conn: asyncpg.Connection, work_order_id: UUID) -> list[TimelineEntry]:
    """Every event of the work order with the actor's name, in order."""
    rows = await conn.fetch(
        """SELECT e.seq, e.action, e.from_status, e.to_status, u.display_name AS actor_name, e.at, e.client_at
           FROM work_order_events e LEFT JOIN users u ON u.id = e.actor_id
           WHERE e.work_order_id = $1 ORDER BY e.seq""",
        work_order_id,
    )
    return [TimelineEntry(**dict(r)) for r in rows]
