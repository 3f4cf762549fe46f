"""Memory of a real API process under concurrent large uploads: it stays bounded instead of multiplying.

Four 7000×7000 PNGs of ~200 KB each once took an API process from 129 MB to 2.7 GB: each was decoded at full
size in its own thread. Now they are refused from their header, and images just under the pixel ceiling are
decoded two at a time. The figure is the kernel's peak resident size of the process (VmHWM), so a short
spike between two samples cannot hide; the bound is deliberately generous and there is no timing in it.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from PIL import Image

from backend.domain import evidence as rules
from tests.abuse.estate import make_work_order
from tests.conftest import DEMO_PASSWORD, TEST_SECRET
from tests.integration.replicas import ApiReplica, api_env

MB = 1024 * 1024
# What four concurrent uploads may add to the process at its peak. Two decoding workers at the ceiling hold
# about 2 × 100 MB of bitmaps; four undecoded bodies are 1 MB; the rest is allocator slack.
MAX_GROWTH = 600 * MB


def noisy_png(width: int, height: int, seed: int) -> bytes:
    """A PNG that is small on disk and huge in memory: flat colour with a few stripes."""
    image = Image.new("RGB", (width, height), (seed * 40 % 256, 120, 200))
    for y in range(0, height, 97):
        image.paste((255, seed * 17 % 256, 0), (0, y, width, y + 3))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=9)
    return out.getvalue()


def peak_resident_bytes(pid: int) -> int:
    """The process's highest resident set size so far (Linux: VmHWM in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM: not Linux?")


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[ApiReplica]:
    """A real `caretaker api` process on the test database."""
    replica = ApiReplica(
        api_env(db_url, TEST_SECRET, tmp_path / "data", scheduler=False), tmp_path / "api.log"
    )
    replica.start()
    try:
        await replica.wait_until_up()
        yield replica
    finally:
        replica.terminate()


async def _upload_all(api: ApiReplica, db: asyncpg.Connection, images: list[bytes]) -> list[httpx.Response]:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    tech = await db.fetchval("SELECT id FROM users WHERE username = 'tech1'")
    job = await make_work_order(db, site_id=site_id, assignee_id=tech)
    async with httpx.AsyncClient(base_url=api.url, timeout=120) as http:
        login = await http.post("/api/v1/auth/login", json={"username": "tech1", "password": DEMO_PASSWORD})
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}

        async def one(data: bytes) -> httpx.Response:
            return await http.post(
                f"/api/v1/work-orders/{job}/photos",
                files={"file": ("big.png", data, "image/png")},
                data={"stage": "during"},
                headers={**bearer, "Idempotency-Key": str(uuid.uuid4())},
            )

        await one(noisy_png(64, 48, 99))  # warm up: Pillow and the database pool are loaded before measuring
        before = psutil.Process(api.process.pid).memory_info().rss  # type: ignore[union-attr]
        responses = await asyncio.gather(*(one(data) for data in images))
        growth = peak_resident_bytes(api.process.pid) - before  # type: ignore[union-attr]
    assert growth < MAX_GROWTH, f"the API process grew by {growth / MB:.0f} MB"
    return responses


async def test_four_concurrent_7000_square_pngs_are_refused_without_decoding(
    api: ApiReplica, db: asyncpg.Connection
) -> None:
    images = [noisy_png(7000, 7000, seed) for seed in range(4)]
    assert all(len(data) < 400 * 1024 for data in images)  # small on the wire

    responses = await _upload_all(api, db, images)

    for r in responses:
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "image_too_many_pixels"


async def test_four_concurrent_uploads_at_the_pixel_ceiling_queue_for_the_decoders(
    api: ApiReplica, db: asyncpg.Connection
) -> None:
    side = int(rules.MAX_PIXELS**0.5)  # just under the ceiling: every one is decoded in full
    images = [noisy_png(side, side, seed) for seed in range(4)]

    responses = await _upload_all(api, db, images)

    assert [r.status_code for r in responses] == [201] * 4, [r.text[:200] for r in responses]
    assert len({r.json()["sha256"] for r in responses}) == 4
