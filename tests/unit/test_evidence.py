"""Evidence rules without I/O: which images pass, what the thumbnail looks like, how the record is hashed."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from backend.domain import evidence as rules
from backend.errors import PayloadTooLarge, UnsupportedMedia, ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The day of the fixed values below: parsed or hashed as given, never compared with the clock.
DAY = datetime(2026, 11, 23, tzinfo=UTC)  # fixed-date: pure parsing and hashing of given values


def on_day(hour: int, minute: int, second: int = 0, *, zone: tzinfo = UTC) -> datetime:
    """A UTC wall time on DAY, expressed in `zone`."""
    return (DAY + timedelta(hours=hour, minutes=minute, seconds=second)).astimezone(zone)


def jpeg(
    width: int = 1200, height: int = 900, *, exif_time: str | None = None, orientation: int | None = None
) -> bytes:
    """A real JPEG, optionally with EXIF capture time and orientation."""
    image = Image.new("RGB", (width, height), (180, 40, 40))
    for x in range(0, width, 50):  # some structure so the encoder has work to do
        image.paste((20, 120, 200), (x, 0, x + 10, height))
    exif = Image.Exif()
    if exif_time:
        exif.get_ifd(0x8769)[0x9003] = exif_time
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(width: int = 640, height: int = 480, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (0, 0, 0, 0) if mode == "RGBA" else (255, 255, 255)).save(out, "PNG")
    return out.getvalue()


def webp(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, "WEBP")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge canvas: a valid signature and IHDR, a token IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


def inspect(data: bytes, content_type: str | None = "image/jpeg", filename: str | None = "photo.jpg", **kw):
    return rules.inspect_image(
        data, content_type=content_type, filename=filename, site_timezone=SHANGHAI, **kw
    )


def test_a_jpeg_is_accepted_with_hash_size_and_a_small_webp_thumbnail() -> None:
    data = jpeg(1200, 900)
    image = inspect(data)
    # the hash is of what is kept: the upload's pixels, byte for byte, without its (here empty) EXIF block
    assert image.sha256 == hashlib.sha256(image.data).hexdigest()
    assert Image.open(io.BytesIO(image.data)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert (image.width, image.height, image.format, image.media_type) == (1200, 900, "JPEG", "image/jpeg")
    thumb = Image.open(io.BytesIO(image.thumbnail))
    assert thumb.format == "WEBP"
    assert thumb.size == (320, 240)
    assert image.thumbnail_sha256 == hashlib.sha256(image.thumbnail).hexdigest()
    assert image.taken_at is None


def test_exif_capture_time_without_offset_is_the_sites_local_time() -> None:
    image = inspect(jpeg(exif_time=f"{DAY:%Y:%m:%d} 10:02:03"))
    assert image.taken_at == on_day(2, 2, 3)  # 10:02:03 in Shanghai


def test_exif_orientation_is_applied_to_the_thumbnail_and_dimensions() -> None:
    image = inspect(jpeg(1200, 900, orientation=6))  # 6: the camera was held upright, rotate 90°
    assert (image.width, image.height) == (900, 1200)
    assert Image.open(io.BytesIO(image.thumbnail)).size == (240, 320)


@pytest.mark.parametrize(
    ("data", "content_type", "filename", "fmt"),
    [
        (png(), "image/png", "pad.png", "PNG"),
        (webp(), "image/webp", "shot.webp", "WEBP"),
        (jpeg(), "application/octet-stream", "blob", "JPEG"),  # browsers send this for unknown files
        (jpeg(), None, None, "JPEG"),
    ],
)
def test_png_webp_and_untyped_uploads_are_accepted(data, content_type, filename, fmt) -> None:
    assert inspect(data, content_type, filename).format == fmt


def test_a_text_file_named_jpg_is_not_an_image() -> None:
    with pytest.raises(UnsupportedMedia, match="not an image") as caught:
        inspect(b"Dear owner, the plumber will come at nine.\n", "image/jpeg", "photo.jpg")
    assert caught.value.code == "not_an_image"


def test_a_truncated_jpeg_is_refused_as_damaged() -> None:
    data = jpeg(1600, 1200)
    with pytest.raises(ValidationFailed, match="truncated") as caught:
        inspect(data[: len(data) // 2])
    assert caught.value.field == "file"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    with pytest.raises(ValidationFailed, match=r"60000×60000") as caught:
        inspect(png_header_only(60000, 60000), "image/png", "bomb.png")
    assert caught.value.code == "image_too_many_pixels"


def test_just_over_the_pixel_limit_is_refused_before_decoding() -> None:
    # 6000 × 4001 is one row over 24 MP, far under Pillow's own hard limit of twice that; the file has no
    # pixel data, so only a check of the header can refuse it as too large.
    with pytest.raises(ValidationFailed, match="24 MP") as caught:
        inspect(png_header_only(6000, 4001), "image/png", "big.png")
    assert caught.value.code == "image_too_many_pixels"


def test_a_24_mp_camera_frame_is_within_the_limit() -> None:
    assert rules.MAX_PIXELS >= 6000 * 4000


def test_an_oversize_file_is_refused_before_decoding() -> None:
    with pytest.raises(PayloadTooLarge, match="15 MB"):
        inspect(b"\xff\xd8" + bytes(rules.MAX_PHOTO_BYTES))


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        inspect(b"")


def test_a_declared_type_that_disagrees_with_the_content_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match="says image/jpeg but is a PNG"):
        inspect(png(), "image/jpeg", "photo.jpg")


def test_a_file_name_that_disagrees_with_the_content_is_refused() -> None:
    with pytest.raises(UnsupportedMedia, match=r"name says \.png but the file is a JPEG"):
        inspect(jpeg(), "application/octet-stream", "photo.png")


def test_gif_is_not_an_accepted_format() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(UnsupportedMedia, match="is a GIF"):
        inspect(out.getvalue(), None, "anim.gif")
    with pytest.raises(UnsupportedMedia, match="image/gif is not accepted"):
        inspect(out.getvalue(), "image/gif", "anim.gif")


def test_a_signature_must_be_a_png() -> None:
    with pytest.raises(UnsupportedMedia, match="is a JPEG"):
        inspect(jpeg(), None, None, formats=rules.SIGNATURE_FORMATS, max_bytes=rules.MAX_SIGNATURE_BYTES)
    assert inspect(png(), "image/png", "sig.png", formats=rules.SIGNATURE_FORMATS).format == "PNG"


# --- the record hash -------------------------------------------------------------------------------

WO_ID = UUID("0b7d7a44-5c1e-4e57-9a39-3f0d8c1b2a11")
ACTOR = UUID("5f3c2b1a-0000-4000-8000-000000000001")
CST = timezone(timedelta(hours=8))


def sample_record(**changes) -> dict:
    fields = {
        "id": WO_ID,
        "number": "DEMO-20261123-0001",
        "kind": "repair",
        "category": "water",
        "priority": 2,
        "title": "厨房水管漏水",
        "description": "Leak under the sink",
        "unit_id": None,
        "asset_id": None,
        "location": "A 1201",
        "in_home": True,
        "reporter_name": "王先生",
        "reporter_phone": "13900001201",
        "created_at": on_day(1, 0, zone=CST),  # 09:00 there
        "completed_at": on_day(3, 30, zone=CST),
        "resolution": {"cause": "worn washer", "checklist": {"badge": True, "covers": True}},
    }
    fields.update(changes)
    events = [
        rules.RecordEvent(
            seq=2,
            action="accept",
            from_status="assigned",
            to_status="accepted",
            actor_id=ACTOR,
            at=on_day(1, 5),
            client_at=None,
            payload={},
        ),
        rules.RecordEvent(
            seq=1,
            action="assign",
            from_status="new",
            to_status="assigned",
            actor_id=None,
            at=on_day(1, 1),
            client_at=None,
            payload={"assigneeId": str(ACTOR)},
        ),
    ]
    photos = [
        rules.RecordPhoto(sha256="f" * 64, stage="after"),
        rules.RecordPhoto(sha256="a" * 64, stage="before"),
    ]
    signature = rules.RecordSignature(
        sha256="c" * 64,
        signer_name="王先生",
        relation="owner",
        no_sign_reason=None,
        signed_by=ACTOR,
        signed_at=on_day(3, 31),
    )
    return rules.build_record(rules.RecordWorkOrder(**fields), events, photos, signature)


def test_the_canonical_form_is_sorted_compact_utf8_json_that_anyone_can_reproduce() -> None:
    record = sample_record()
    # The same bytes from the standard library's JSON encoder: a third party needs no Caretaker code.
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert rules.canonical_json(record) == expected
    assert rules.record_hash(record) == hashlib.sha256(expected).hexdigest()


def test_the_record_orders_events_by_seq_photos_by_hash_and_spells_times_in_utc() -> None:
    record = sample_record()
    assert [e["seq"] for e in record["events"]] == [1, 2]
    assert record["eventsThroughSeq"] == 2
    assert [p["stage"] for p in record["photos"]] == ["before", "after"]
    assert record["workOrder"]["createdAt"] == f"{DAY:%Y-%m-%d}T01:00:00.000000Z"
    assert record["signature"]["signedAt"] == f"{DAY:%Y-%m-%d}T03:31:00.000000Z"


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    same = sample_record(created_at=on_day(1, 0))
    assert rules.record_hash(same) == rules.record_hash(sample_record())


@pytest.mark.parametrize(
    "change",
    [
        {"description": "Leak under the sink."},
        {"priority": 3},
        {"completed_at": on_day(3, 31, zone=CST)},
        {"resolution": {"cause": "worn washer", "checklist": {"badge": True, "covers": False}}},
        {"unit_id": uuid4()},
    ],
)
def test_any_change_to_the_content_changes_the_hash(change) -> None:
    assert rules.record_hash(sample_record(**change)) != rules.record_hash(sample_record())


def test_a_naive_time_cannot_enter_the_record() -> None:
    with pytest.raises(ValueError, match="time zone"):
        rules.utc_iso(on_day(9, 0).replace(tzinfo=None))
