"""Evidence rules, pure: what counts as an acceptable photo or signature image, and the service record's hash.

Decoding happens in memory with Pillow; nothing here touches the disk, the network or the database.
What is kept of an image is its cleaned original (backend/domain/image_container.py: no bytes after its end,
no location or device tags); the hash, the size and every check below are of those bytes.
The record hash definition is documented in docs/EVIDENCE.md so that a third party can recompute it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import PurePath
from typing import Any
from uuid import UUID

import msgspec
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.domain.image_container import clean_image
from backend.errors import PayloadTooLarge, UnsupportedMedia, ValidationFailed

MAX_PHOTO_BYTES = 15 * 1024 * 1024
"""A phone camera's JPEG is 2-8 MB; 15 MB leaves room for a 50 MP original."""
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
"""A signature pad's PNG is tens of kilobytes; anything near this limit is not a signature."""
MAX_PIXELS = 24_000_000
"""24 MP, a 6000×4000 camera frame. The app sends at most a 1600 px edge (under 2 MP); a phone camera saves
12 MP by default (its 48-200 MP sensors bin down to that); only a camera's full-size original is larger, and
that detail adds nothing to evidence of a repair. Decoding costs up to 4 bytes a pixel (RGBA; a progressive
JPEG's coefficients up to 6): about 100-150 MB at 24 MP, so two decoding workers stay within ~300 MB where
the earlier 50 MP allowed twice that. Refused from the header, before a pixel is decoded."""
THUMBNAIL_EDGE = 320
"""Longest side of a thumbnail: sharp on a phone's list view and on a printed receipt."""
THUMBNAIL_QUALITY = 80

# Pillow's own guard: DecompressionBombError at twice this, a warning above it (turned into an error below).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")
SIGNATURE_FORMATS = ("PNG",)
MEDIA_TYPE_OF_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_FORMAT_OF_MEDIA_TYPE = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/pjpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
}
_FORMAT_OF_EXTENSION = {".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".png": "PNG", ".webp": "WEBP"}
# Types that say nothing about the content: browsers and HTTP libraries send them for unknown files.
_UNINFORMATIVE_TYPES = {"", "application/octet-stream", "binary/octet-stream"}

STAGES = ("before", "during", "after")
RELATIONS = ("owner", "tenant", "family", "agent")
NO_SIGN_REASONS = ("owner_absent", "public_area", "refused", "other")

_EXIF_IFD = 0x8769
_TAG_ORIENTATION = 0x0112
_TAG_DATETIME = 0x0132
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


class InspectedImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image that passed every check: the bytes to keep, their hash, type, size, time taken, thumbnail."""

    data: bytes
    sha256: str
    media_type: str
    format: str
    size: int
    width: int
    height: int
    taken_at: datetime | None
    thumbnail: bytes
    thumbnail_sha256: str


def sha256_hex(data: bytes) -> str:
    """Lowercase hex sha256 of the bytes."""
    return hashlib.sha256(data).hexdigest()


def _label(fmt: str) -> str:
    return {"JPEG": "a JPEG", "PNG": "a PNG", "WEBP": "a WebP", "GIF": "a GIF"}.get(fmt, f"a {fmt} image")


def _accepted(formats: tuple[str, ...]) -> str:
    names = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
    return ", ".join(names[f] for f in formats)


def _declared_media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _check_declared_type(media_type: str, formats: tuple[str, ...]) -> str | None:
    """The format the client's content type claims, refusing types this endpoint never takes."""
    if media_type in _UNINFORMATIVE_TYPES:
        return None
    claimed = _FORMAT_OF_MEDIA_TYPE.get(media_type)
    if claimed is None or claimed not in formats:
        raise UnsupportedMedia(
            f"{media_type} is not accepted; send {_accepted(formats)}", code="unsupported_image_type"
        )
    return claimed


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _too_many_pixels(width: int, height: int) -> ValidationFailed:
    return ValidationFailed(
        f"the image is {width}×{height} pixels ({width * height / 1e6:.0f} MP); at most "
        f"{MAX_PIXELS // 1_000_000} MP is accepted",
        field="file",
        code="image_too_many_pixels",
    )


def inspect_image(
    data: bytes,
    *,
    content_type: str | None,
    filename: str | None,
    formats: tuple[str, ...] = PHOTO_FORMATS,
    max_bytes: int = MAX_PHOTO_BYTES,
    site_timezone: tzinfo = UTC,
) -> InspectedImage:
    """Prove the bytes are a whole image of an accepted format matching what the client said; clean and
    thumbnail it. `InspectedImage.data` is what may be stored: the upload without its personal metadata.

    Raises PayloadTooLarge (413), UnsupportedMedia (415: not an image, a format not taken, a type or file
    name that disagrees with the content) or ValidationFailed (422: empty, truncated, too many pixels,
    bytes after the image, too much metadata). CPU-bound and up to ~150 MB: run it in the decoding pool.
    """
    if not data:
        raise ValidationFailed("the file is empty", field="file", code="empty_file")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the file is {len(data) / 1048576:.1f} MB; at most {max_bytes // 1048576} MB is accepted",
            code="file_too_large",
        )
    claimed_by_type = _check_declared_type(_declared_media_type(content_type), formats)

    with warnings.catch_warnings():
        # A DecompressionBombWarning means "suspiciously large": refuse, do not just log.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        fmt, width, height = _read_header(data, formats, filename)
        _check_claims(fmt, _declared_media_type(content_type), claimed_by_type, filename)
        # The header alone gives the size: refuse a bomb before a single pixel is decoded.
        if width * height > MAX_PIXELS:
            raise _too_many_pixels(width, height)
        kept = clean_image(data, fmt)
        image = _decode(kept, width, height)
        taken_at = _capture_time(image, site_timezone)
        orientation = _orientation(image)
        thumbnail = _thumbnail(image)

    upright = (height, width) if orientation in _QUARTER_TURNS else (width, height)
    return InspectedImage(
        data=kept,
        sha256=sha256_hex(kept),
        media_type=MEDIA_TYPE_OF_FORMAT[fmt],
        format=fmt,
        size=len(kept),
        width=upright[0],
        height=upright[1],
        taken_at=taken_at,
        thumbnail=thumbnail,
        thumbnail_sha256=sha256_hex(thumbnail),
    )


# EXIF orientations 5-8 are quarter turns: the upright picture swaps width and height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def _read_header(data: bytes, formats: tuple[str, ...], filename: str | None) -> tuple[str, int, int]:
    """Format and size from the header alone (Pillow's open is lazy: nothing is decoded here)."""
    try:
        image = _open(data)
    except UnidentifiedImageError:
        name = f" {filename!r}" if filename else ""
        raise UnsupportedMedia(
            f"the file{name} is not an image; send {_accepted(formats)}", code="not_an_image"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(*_header_size(data)) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ValidationFailed(
            f"the image cannot be read: {e}", field="file", code="image_unreadable"
        ) from None
    fmt = image.format or "unknown"
    if fmt not in formats:
        raise UnsupportedMedia(
            f"the file is {_label(fmt)}; send {_accepted(formats)}", code="unsupported_image_type"
        )
    return fmt, *image.size


def _check_claims(fmt: str, declared_type: str, claimed_by_type: str | None, filename: str | None) -> None:
    """The content type and file name the client sent must agree with what the bytes are."""
    if claimed_by_type is not None and claimed_by_type != fmt:
        raise UnsupportedMedia(
            f"the file says {declared_type} but is {_label(fmt)}", code="image_type_mismatch"
        )
    extension = PurePath(filename or "").suffix.lower()
    claimed_by_name = _FORMAT_OF_EXTENSION.get(extension)
    if claimed_by_name is not None and claimed_by_name != fmt:
        raise UnsupportedMedia(
            f"the file name says {extension} but the file is {_label(fmt)}", code="image_type_mismatch"
        )


def _decode(data: bytes, width: int, height: int) -> Image.Image:
    """Check the structure, then decode every pixel (a truncated file fails here), as small as possible.

    A JPEG is decoded at 1/2-1/8 scale when the thumbnail allows (libjpeg still reads all of the compressed
    data, so damage is still found, but holds down to 1/64 of the pixels); other formats at full size.
    """
    try:
        _open(data).verify()  # structure and checksums (PNG CRCs); that image object is unusable afterwards
        image = _open(data)
        if image.format == "JPEG":
            image.draft(image.mode, (THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(width, height) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ValidationFailed(
            f"the image is damaged or truncated ({e})", field="file", code="image_damaged"
        ) from None
    return image


def _header_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header when Pillow refused to open the image as a bomb."""
    previous = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # header only: open() is lazy and decodes nothing here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _open(data).size
    except Exception:
        return (0, 0)
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _thumbnail(image: Image.Image) -> bytes:
    """A small upright WebP. Shrunk in place first, so no second full-size bitmap is ever made."""
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        has_alpha = image.mode in {"PA"} or (image.mode == "P" and "transparency" in image.info)
        image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    upright = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    upright.save(out, format="WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_TAG_ORIENTATION, 1)
    except Exception:  # a damaged EXIF block must not cost the photo
        return 1
    return value if isinstance(value, int) else 1


def _capture_time(image: Image.Image, site_timezone: tzinfo) -> datetime | None:
    """EXIF DateTimeOriginal (else DateTime); a time without offset is the site's local time."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(_EXIF_IFD)
    except Exception:  # a damaged EXIF block must not cost the photo
        return None
    raw = details.get(_TAG_DATETIME_ORIGINAL) or exif.get(_TAG_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        local = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = details.get(_TAG_OFFSET_TIME_ORIGINAL)
    tz = _parse_offset(offset) if isinstance(offset, str) else None
    return local.replace(tzinfo=tz or site_timezone)


def _parse_offset(text: str) -> tzinfo | None:
    text = text.strip().rstrip("\x00")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = 1 if text[0] == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


# --- the service record and its hash -------------------------------------------------------------

RECORD_VERSION = 1


class RecordWorkOrder(msgspec.Struct, frozen=True, kw_only=True):
    """The work order's content fields as the record covers them."""

    id: UUID
    number: str
    kind: str
    category: str
    priority: int
    title: str
    description: str
    unit_id: UUID | None
    asset_id: UUID | None
    location: str
    in_home: bool
    reporter_name: str | None
    reporter_phone: str | None
    created_at: datetime
    completed_at: datetime | None
    resolution: dict[str, Any]


class RecordEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event of the work order's log."""

    seq: int
    action: str
    from_status: str | None
    to_status: str
    actor_id: UUID | None
    at: datetime
    client_at: datetime | None
    payload: dict[str, Any]


class RecordPhoto(msgspec.Struct, frozen=True, kw_only=True):
    """A photo as the record covers it: its content hash and stage."""

    sha256: str
    stage: str


class RecordSignature(msgspec.Struct, frozen=True, kw_only=True):
    """The signature (or the reason nobody signed), who took it and when."""

    sha256: str | None
    signer_name: str | None
    relation: str | None
    no_sign_reason: str | None
    signed_by: UUID | None
    signed_at: datetime


def utc_iso(value: datetime | None) -> str | None:
    """A time as UTC ISO 8601 with microseconds and a Z: one spelling per instant."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("record times must carry a time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_record(
    work_order: RecordWorkOrder,
    events: list[RecordEvent],
    photos: list[RecordPhoto],
    signature: RecordSignature,
) -> dict[str, Any]:
    """The service record as plain JSON values: what the signature binds and the hash covers."""
    wo = work_order
    ordered_events = sorted(events, key=lambda e: e.seq)
    return {
        "version": RECORD_VERSION,
        "workOrder": {
            "id": str(wo.id),
            "number": wo.number,
            "kind": wo.kind,
            "category": wo.category,
            "priority": wo.priority,
            "title": wo.title,
            "description": wo.description,
            "unitId": str(wo.unit_id) if wo.unit_id else None,
            "assetId": str(wo.asset_id) if wo.asset_id else None,
            "location": wo.location,
            "inHome": wo.in_home,
            "reporterName": wo.reporter_name,
            "reporterPhone": wo.reporter_phone,
            "createdAt": utc_iso(wo.created_at),
            "completedAt": utc_iso(wo.completed_at),
            "resolution": wo.resolution,
        },
        "eventsThroughSeq": ordered_events[-1].seq if ordered_events else 0,
        "events": [
            {
                "seq": e.seq,
                "action": e.action,
                "fromStatus": e.from_status,
                "toStatus": e.to_status,
                "actorId": str(e.actor_id) if e.actor_id else None,
                "at": utc_iso(e.at),
                "clientAt": utc_iso(e.client_at),
                "payload": e.payload,
            }
            for e in ordered_events
        ],
        "photos": [
            {"sha256": p.sha256, "stage": p.stage} for p in sorted(photos, key=lambda p: (p.sha256, p.stage))
        ],
        "signature": {
            "sha256": signature.sha256,
            "signerName": signature.signer_name,
            "relation": signature.relation,
            "noSignReason": signature.no_sign_reason,
            "signedBy": str(signature.signed_by) if signature.signed_by else None,
            "signedAt": utc_iso(signature.signed_at),
        },
    }


def canonical_json(record: dict[str, Any]) -> bytes:
    """The canonical serialisation: compact UTF-8 JSON, object keys sorted at every level."""
    return msgspec.json.encode(record, order="sorted")


def record_hash(record: dict[str, Any]) -> str:
    """sha256 (lowercase hex) of the record's canonical serialisation."""
    return sha256_hex(canonical_json(record))
