"""Evidence rules, pure: what counts as an acceptable photo or signature image, and the service record's hash.

Decoding happens in memory with Pillow; nothing here touches the disk, the network or the database.
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

from backend.errors import PayloadTooLarge, UnsupportedMedia, ValidationFailed

MAX_PHOTO_BYTES = 15 * 1024 * 1024
"""A phone camera's JPEG is 2-8 MB; 15 MB leaves room for a 50 MP original."""
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
"""A signature pad's PNG is tens of kilobytes; anything near this limit is not a signature."""
MAX_PIXELS = 50_000_000
# Text, EXIF and other side data a photo may carry: a camera's EXIF is tens of KB; more is smuggling.
MAX_METADATA_BYTES = 1024 * 1024
"""50 MP: above every phone camera's default output, far below what would exhaust memory when decoded."""
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
_TAG_DATETIME = 0x0132
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


class InspectedImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image that passed every check: its hash, type, size, capture time and thumbnail."""

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
    """Prove the bytes are a whole image of an accepted format matching what the client said; thumbnail it.

    Raises PayloadTooLarge (413), UnsupportedMedia (415: not an image, a format not taken, a type or file
    name that disagrees with the content) or ValidationFailed (422: empty, truncated, too many pixels).
    CPU-bound: call it in a worker thread.
    """
    if not data:
        raise ValidationFailed("the file is empty", field="file", code="empty_file")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the file is {len(data) / 1048576:.1f} MB; at most {max_bytes // 1048576} MB is accepted",
            code="file_too_large",
        )
    declared_type = _declared_media_type(content_type)
    claimed_by_type = _check_declared_type(declared_type, formats)
    extension = PurePath(filename or "").suffix.lower()
    claimed_by_name = _FORMAT_OF_EXTENSION.get(extension)

    with warnings.catch_warnings():
        # A DecompressionBombWarning means "suspiciously large": refuse, do not just log.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _open(data)
        except UnidentifiedImageError:
            name = f" {filename!r}" if filename else ""
            raise UnsupportedMedia(
                f"the file{name} is not an image; send {_accepted(formats)}", code="not_an_image"
            ) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            header = _header_size(data)
            raise _too_many_pixels(*header) from None
        except (OSError, SyntaxError, ValueError) as e:
            raise ValidationFailed(
                f"the image cannot be read: {e}", field="file", code="image_unreadable"
            ) from None

        fmt = image.format or "unknown"
        if fmt not in formats:
            raise UnsupportedMedia(
                f"the file is {_label(fmt)}; send {_accepted(formats)}", code="unsupported_image_type"
            )
        if claimed_by_type is not None and claimed_by_type != fmt:
            raise UnsupportedMedia(
                f"the file says {declared_type} but is {_label(fmt)}", code="image_type_mismatch"
            )
        if claimed_by_name is not None and claimed_by_name != fmt:
            raise UnsupportedMedia(
                f"the file name says {extension} but the file is {_label(fmt)}", code="image_type_mismatch"
            )
        _refuse_hidden_payload(data, fmt)
        # The header alone gives the size: refuse a bomb before a single pixel is decoded.
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _too_many_pixels(width, height)

        try:
            image.verify()  # structure and checksums (PNG CRCs); the image is unusable afterwards
            image = _open(data)
            image.load()  # every pixel: a truncated file fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(width, height) from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise ValidationFailed(
                f"the image is damaged or truncated ({e})", field="file", code="image_damaged"
            ) from None

        taken_at = _capture_time(image, site_timezone)
        upright = ImageOps.exif_transpose(image)
        thumbnail = _thumbnail(upright)

    return InspectedImage(
        sha256=sha256_hex(data),
        media_type=MEDIA_TYPE_OF_FORMAT[fmt],
        format=fmt,
        size=len(data),
        width=upright.width,
        height=upright.height,
        taken_at=taken_at,
        thumbnail=thumbnail,
        thumbnail_sha256=sha256_hex(thumbnail),
    )


def _png_layout(data: bytes) -> tuple[int, int]:
    """(bytes of ancillary chunks, offset just after IEND) of a PNG."""
    offset, side = 8, 0
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        offset += 12 + length
        if kind == b"IEND":
            return side, offset
        if kind not in (b"IHDR", b"PLTE", b"IDAT"):
            side += length
    return side, len(data)


def _jpeg_layout(data: bytes) -> tuple[int, int]:
    """(bytes of APPn/COM segments before the scan, offset just after the last end-of-image marker)."""
    offset, side = 2, 0
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:  # start of scan: entropy-coded data follows, no more headers to walk
            break
        length = int.from_bytes(data[offset + 2 : offset + 4], "big")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            side += length
        offset += 2 + length
    end = data.rfind(b"\xff\xd9")
    return side, (end + 2 if end >= 0 else len(data))


def _refuse_hidden_payload(data: bytes, fmt: str) -> None:
    """Refuse bytes after the image's end (a JPEG that is also a ZIP) and oversized side data (a PNG
    carrying megabytes of text): the original is kept and served as evidence, so it must be only an image."""
    if fmt == "PNG":
        side, end = _png_layout(data)
    elif fmt == "JPEG":
        side, end = _jpeg_layout(data)
    else:  # WebP: the RIFF header says how long the image is; its metadata chunks count towards it
        side, end = 0, 8 + int.from_bytes(data[4:8], "little")
    if data[end:].strip(b"\x00"):  # zero padding after the end is harmless and some encoders add it
        raise ValidationFailed(
            f"the file carries {len(data) - end} bytes after the end of the image",
            field="file",
            code="image_trailing_data",
        )
    if side > MAX_METADATA_BYTES:
        raise ValidationFailed(
            f"the image carries {side / 1048576:.1f} MB of metadata; at most "
            f"{MAX_METADATA_BYTES // 1048576} MB is accepted",
            field="file",
            code="image_metadata_too_large",
        )


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
    thumb = image.copy()
    if thumb.mode not in {"RGB", "RGBA"}:
        has_alpha = thumb.mode in {"LA", "PA"} or (thumb.mode == "P" and "transparency" in thumb.info)
        thumb = thumb.convert("RGBA" if has_alpha else "RGB")
    thumb.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=THUMBNAIL_QUALITY, method=4)
    return out.getvalue()


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
