"""Photo uploads over HTTP on a real database and a real blob directory: what is kept, what is refused."""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.settings import Settings
from backend.storage import BlobMissing, LocalStorage, S3Storage, blob_key, build_storage
from tests.abuse import estate

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo site's timezone, in which EXIF times are read


def jpeg(width: int = 1600, height: int = 1200, *, exif_time: str | None = None, seed: int = 0) -> bytes:
    """A real camera-like JPEG (stripes so it is not trivially small)."""
    image = Image.new("RGB", (width, height), (200, 60 + seed, 40))
    for x in range(0, width, 40):
        image.paste((30, 110, 190), (x, 0, x + 12, height))
    exif = Image.Exif()
    if exif_time:
        exif.get_ifd(0x8769)[0x9003] = exif_time
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (240, 240, 240)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """Only a PNG header announcing a canvas of width × height."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


async def make_work_order(
    db: asyncpg.Connection,
    *,
    status: str = "on_site",
    assignee: str | None = "tech1",
    site_code: str = "demo",
    kind: str = "repair",
) -> UUID:
    """A work order in the given state, arranged directly in the database (by site code and username)."""
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = $1", site_code)
    assignee_id = (
        await db.fetchval("SELECT id FROM users WHERE username = $1", assignee) if assignee else None
    )
    return await estate.make_work_order(
        db, site_id=site_id, status=status, assignee_id=assignee_id, kind=kind
    )


async def other_site(db: asyncpg.Connection) -> str:
    await db.execute("INSERT INTO sites (code, name) VALUES ('elsewhere', '别处') ON CONFLICT DO NOTHING")
    return "elsewhere"


def stored_files(settings: Settings) -> list[Path]:
    root = Path(settings.data_dir) / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def upload(
    client,
    headers,
    work_order_id,
    data,
    *,
    filename="photo.jpg",
    content_type="image/jpeg",
    stage="after",
    client_at=None,
):
    fields = {"stage": stage}
    if client_at:
        fields["clientAt"] = client_at
    return await client.post(
        f"/api/v1/work-orders/{work_order_id}/photos",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=headers,
    )


async def test_a_photo_is_kept_by_hash_with_dimensions_capture_time_and_thumbnail(
    client, db, login_as, idem, settings
) -> None:
    wo = await make_work_order(db)
    # taken a minute ago and queued on the phone for a while: EXIF holds the site's wall time, no offset
    taken = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    queued = taken + timedelta(seconds=57)
    data = jpeg(exif_time=taken.astimezone(SHANGHAI).strftime("%Y:%m:%d %H:%M:%S"))
    tech = await login_as("tech1")

    r = await upload(client, {**tech, **idem()}, wo, data, stage="before", client_at=queued.isoformat())

    assert r.status_code == 201, r.text
    photo = r.json()
    sha = hashlib.sha256(data).hexdigest()
    assert photo["sha256"] == sha
    assert (photo["width"], photo["height"], photo["stage"]) == (1600, 1200, "before")
    assert datetime.fromisoformat(photo["takenAt"]) == taken  # read back from Shanghai wall time
    assert datetime.fromisoformat(photo["clientAt"]) == queued

    original = await client.get(photo["url"], headers=tech)
    assert original.status_code == 200
    assert original.content == data
    assert original.headers["content-type"].startswith("image/jpeg")
    thumb = await client.get(photo["thumbUrl"], headers=tech)
    assert thumb.status_code == 200
    thumbnail = Image.open(io.BytesIO(thumb.content))
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) == 320

    on_disk = Path(settings.data_dir) / "blobs" / blob_key(sha)
    assert on_disk.read_bytes() == data
    assert await db.fetchval("SELECT media_type FROM blobs WHERE sha256 = $1", sha) == "image/jpeg"


async def test_location_and_device_are_stripped_and_the_capture_time_and_orientation_kept(
    client, db, login_as, idem, settings
) -> None:
    wo = await make_work_order(db)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "HUAWEI", "Mate 60 Pro", 6  # make, model, orientation
    # an hour ago on the site's wall clock (EXIF times carry no zone)
    shot = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    shot_local = shot.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y:%m:%d %H:%M:%S")
    exif[0x8769] = {0x9003: shot_local, 0xA431: "SN-4471"}  # capture time, body serial number
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 5.5), 3: "E", 4: (121.0, 28.0, 1.0)}  # where it was taken
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 90, 200)).save(out, "JPEG", quality=90, exif=exif)
    data = out.getvalue()
    tech = await login_as("tech1")

    r = await upload(client, {**tech, **idem()}, wo, data)

    assert r.status_code == 201, r.text
    photo = r.json()
    assert datetime.fromisoformat(photo["takenAt"]) == shot
    assert (photo["width"], photo["height"]) == (900, 1200)  # upright
    served = (await client.get(photo["url"], headers=tech)).content
    assert hashlib.sha256(served).hexdigest() == photo["sha256"]
    kept = Image.open(io.BytesIO(served)).getexif()
    assert kept.get_ifd(0x8825) == {}
    assert 0x010F not in kept and 0x0110 not in kept
    assert kept[0x0112] == 6 and kept.get_ifd(0x8769) == {0x9003: shot_local}
    for leak in (b"HUAWEI", b"Mate 60", b"SN-4471"):
        assert leak not in served
    on_disk = Path(settings.data_dir) / "blobs" / blob_key(photo["sha256"])
    assert on_disk.read_bytes() == served  # what is served is what is stored: the upload is never kept
    assert [p.name for p in stored_files(settings) if p.name == hashlib.sha256(data).hexdigest()] == []


async def test_the_same_bytes_twice_are_one_blob(client, db, login_as, idem, settings) -> None:
    wo = await make_work_order(db)
    tech = await login_as("tech1")
    data = jpeg(seed=7)

    first = await upload(client, {**tech, **idem()}, wo, data, stage="during")
    again = await upload(client, {**tech, **idem()}, wo, data, stage="during")
    later = await upload(client, {**tech, **idem()}, wo, data, stage="after")

    assert first.status_code == again.status_code == later.status_code == 201
    assert again.json()["id"] == first.json()["id"]  # same image, same stage: the same photo
    assert later.json()["id"] != first.json()["id"]
    sha = first.json()["sha256"]  # cleaning an upload is deterministic: the same bytes keep the same hash
    assert later.json()["sha256"] == sha
    assert await db.fetchval("SELECT count(*) FROM blobs WHERE sha256 = $1", sha) == 1
    assert await db.fetchval("SELECT count(*) FROM photos WHERE work_order_id = $1", wo) == 2
    assert len([p for p in stored_files(settings) if p.name == sha]) == 1


async def test_a_replayed_upload_returns_the_first_answer(client, db, login_as, idem) -> None:
    wo = await make_work_order(db)
    headers = {**(await login_as("tech1")), **idem()}
    data = jpeg(seed=3)

    first = await upload(client, headers, wo, data)
    replay = await upload(client, headers, wo, data)

    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM photos WHERE work_order_id = $1", wo) == 1


TRUNCATED = jpeg(2000, 1500)[:40_000]
OVERSIZE = jpeg() + bytes(15 * 1024 * 1024)  # a valid image padded past 15 MB, under the 16 MB body cap


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "status", "reason"),
    [
        (b"This is a shopping list, not a photo.\n", "photo.jpg", "image/jpeg", 415, "not an image"),
        (TRUNCATED, "photo.jpg", "image/jpeg", 422, "truncated"),
        (png_claiming(60000, 60000), "huge.png", "image/png", 422, "60000×60000"),
        (OVERSIZE, "photo.jpg", "image/jpeg", 413, "at most 15 MB"),
        (png(), "photo.jpg", "image/jpeg", 415, "says image/jpeg but is a PNG"),
        (png(), "photo.png", "image/gif", 415, "image/gif is not accepted"),
    ],
    ids=[
        "text-named-jpg",
        "truncated-jpeg",
        "decompression-bomb",
        "oversize",
        "type-mismatch",
        "gif-declared",
    ],
)
async def test_bad_uploads_are_refused_with_a_reason_and_nothing_is_stored(
    client, db, login_as, idem, settings, data, filename, content_type, status, reason
) -> None:
    wo = await make_work_order(db)

    r = await upload(
        client,
        {**(await login_as("tech1")), **idem()},
        wo,
        data,
        filename=filename,
        content_type=content_type,
    )

    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert reason in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM blobs") == 0
    assert await db.fetchval("SELECT count(*) FROM photos") == 0
    assert stored_files(settings) == []


async def test_a_body_over_the_request_cap_is_refused_as_too_large(client, db, login_as, idem) -> None:
    wo = await make_work_order(db)
    r = await upload(client, {**(await login_as("tech1")), **idem()}, wo, bytes(17 * 1024 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await db.fetchval("SELECT count(*) FROM blobs") == 0


async def test_the_form_must_name_the_file_and_a_known_stage(client, db, login_as, idem) -> None:
    wo = await make_work_order(db)
    tech = await login_as("tech1")
    no_file = await client.post(
        f"/api/v1/work-orders/{wo}/photos",
        data={"stage": "after"},
        files={"other": ("x", b"1", "text/plain")},
        headers={**tech, **idem()},
    )
    assert no_file.status_code == 422
    assert no_file.json()["field"] == "file"
    bad_stage = await upload(client, {**tech, **idem()}, wo, jpeg(), stage="afterwards")
    assert bad_stage.status_code == 422
    assert bad_stage.json()["field"] == "stage"


@pytest.mark.parametrize("status", ["closed", "cancelled", "signed", "new"])
async def test_photos_cannot_be_added_outside_the_working_states(client, db, login_as, idem, status) -> None:
    wo = await make_work_order(db, status=status)
    r = await upload(client, {**(await login_as("tech1")), **idem()}, wo, jpeg())
    assert r.status_code == 409
    assert status in r.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM blobs") == 0


async def test_only_the_assignee_or_a_supervisor_may_add_photos(client, db, login_as, idem) -> None:
    wo = await make_work_order(db, assignee="tech1")
    other_tech = await upload(client, {**(await login_as("tech2")), **idem()}, wo, jpeg())
    assert other_tech.status_code == 403
    guard = await upload(client, {**(await login_as("guard1")), **idem()}, wo, jpeg())
    assert guard.status_code == 403
    supervisor = await upload(client, {**(await login_as("supervisor")), **idem()}, wo, jpeg())
    assert supervisor.status_code == 201


async def test_a_work_orders_photos_are_listed_a_page_at_a_time(client, db, login_as, idem) -> None:
    wo = await make_work_order(db, assignee="tech1")
    tech = await login_as("tech1")
    for seed in range(3):
        assert (await upload(client, {**tech, **idem()}, wo, jpeg(seed=seed))).status_code == 201
    whole = (await client.get(f"/api/v1/work-orders/{wo}/photos", headers=tech)).json()
    assert (len(whole["items"]), whole["total"], whole["limit"], whole["offset"]) == (3, 3, 50, 0)
    tail = (await client.get(f"/api/v1/work-orders/{wo}/photos?limit=2&offset=2", headers=tech)).json()
    assert [p["id"] for p in tail["items"]] == [whole["items"][2]["id"]] and tail["total"] == 3
    assert (await client.get(f"/api/v1/work-orders/{wo}/photos?limit=0", headers=tech)).status_code == 400


async def test_another_sites_photos_are_invisible(client, db, login_as, idem) -> None:
    wo = await make_work_order(db, site_code=await other_site(db), assignee=None)
    admin = await login_as("admin")  # admins look after every site
    r = await upload(client, {**admin, **idem()}, wo, jpeg())
    assert r.status_code == 201, r.text
    photo = r.json()

    tech = await login_as("tech1")
    assert (await client.get(photo["url"], headers=tech)).status_code == 404
    assert (await client.get(photo["thumbUrl"], headers=tech)).status_code == 404
    assert (await upload(client, {**tech, **idem()}, wo, jpeg(seed=1))).status_code == 404
    assert (await client.get(f"/api/v1/work-orders/{wo}/photos", headers=tech)).status_code == 404
    assert (await client.get(photo["url"])).status_code == 401


async def test_local_storage_lays_blobs_out_by_hash_and_never_overwrites(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    data = b"evidence"
    sha = hashlib.sha256(data).hexdigest()

    await storage.put(sha, data, "application/octet-stream")
    await storage.put(sha, b"something else", "application/octet-stream")

    assert (tmp_path / sha[:2] / sha[2:4] / sha).read_bytes() == data
    assert await storage.get(sha) == data
    assert await storage.exists(sha)
    missing = "0" * 64
    assert not await storage.exists(missing)
    with pytest.raises(BlobMissing):
        await storage.get(missing)
    with pytest.raises(ValueError, match="sha256"):
        blob_key("../../etc/passwd")


@pytest.fixture
def s3_server() -> Iterator[str]:
    """A local S3-compatible server (moto's) on a free port, stopped after the test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the local S3 server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def s3_settings(base: Settings, endpoint: str) -> Settings:
    return msgspec.structs.replace(
        base,
        storage_backend="s3",
        s3_endpoint=endpoint,
        s3_bucket="caretaker-evidence",
        s3_access_key="testing",
        s3_secret_key="testing",
    )


async def test_s3_storage_keeps_blobs_by_hash(s3_server: str, settings: Settings) -> None:
    storage = build_storage(s3_settings(settings, s3_server))
    assert isinstance(storage, S3Storage)
    data = jpeg(seed=11)
    sha = hashlib.sha256(data).hexdigest()

    assert not await storage.exists(sha)
    await storage.put(sha, data, "image/jpeg")
    await storage.put(sha, data, "image/jpeg")

    assert await storage.exists(sha)
    assert await storage.get(sha) == data
    with pytest.raises(BlobMissing):
        await storage.get("0" * 64)


async def test_uploads_go_to_the_s3_bucket_when_configured(
    s3_server: str, settings: Settings, clock, db, idem
) -> None:
    app = create_app(s3_settings(settings, s3_server), clock=clock)
    wo = await make_work_order(db)
    data = jpeg(seed=12)
    async with AsyncTestClient(app=app) as s3_client:
        login = await s3_client.post("/api/v1/auth/login", json={"username": "tech1", "password": "demo1234"})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        r = await upload(s3_client, {**headers, **idem()}, wo, data)
        assert r.status_code == 201, r.text
        served = (await s3_client.get(r.json()["url"], headers=headers)).content
    assert hashlib.sha256(served).hexdigest() == r.json()["sha256"]
    assert Image.open(io.BytesIO(served)).tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert stored_files(settings) == []  # nothing went to the local directory
    bucket = S3Storage.from_settings(s3_settings(settings, s3_server))
    assert await bucket.get(r.json()["sha256"]) == served
