"""A guard walks a round with no signal: three QR codes scanned from photos of the printed codes, one point
abnormal with a photo; the round and the finding reach the server exactly once with the phone's times."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import segno
from PIL import Image

from tests.browser.conftest import log_in, screenshot, wait_for_service_worker, wait_until

pytestmark = pytest.mark.browser

SYNC_SECONDS = 20


def qr_photo(tmp_path: Path, name: str, token: str) -> Path:
    """A PNG of the point's printed QR code, as the phone's camera would take it."""
    path = tmp_path / f"{name}.png"
    segno.make(f"caretaker:cp:{token}", error="m").save(str(path), scale=8, border=4)
    return path


def finding_photo(tmp_path: Path) -> Path:
    """A photo of what is wrong at the point."""
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (150, 60, 40)).save(out, "JPEG", quality=80)
    path = tmp_path / "finding.jpg"
    path.write_bytes(out.getvalue())
    return path


async def scan_point(page, image: Path, name: str) -> None:
    await page.set_input_files("#scan-input", str(image))
    await page.wait_for_selector(f"#finding-point:has-text('{name}')")


async def test_a_round_walked_offline_lands_once(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path
) -> None:
    points = await db.fetch(
        """SELECT c.id, c.name, c.token FROM round_route_points rp
           JOIN round_routes r ON r.id = rp.route_id JOIN check_points c ON c.id = rp.check_point_id
           WHERE r.name = '夜间巡逻' ORDER BY rp.position"""
    )
    route_id = await db.fetchval("SELECT id FROM round_routes WHERE name = '夜间巡逻'")
    page = await phone.new_page()
    await log_in(page, "guard1")
    await wait_for_service_worker(page)
    await page.click("[data-nav='rounds']")
    await page.wait_for_selector(f"[data-walk='{route_id}']")
    await screenshot(page, "rounds-01-list")
    await page.click(f"[data-walk='{route_id}']")
    await page.wait_for_selector("#round-points")
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)

    offline_from = datetime.now(UTC)
    await phone.set_offline(True)
    # point 1 normal
    await scan_point(page, qr_photo(tmp_path, "p1", points[0]["token"]), points[0]["name"])
    await page.click("#scan-save")
    await page.wait_for_selector(f"[data-point='{points[0]['id']}'][data-state='normal']")
    # point 2 abnormal, with a note and a photo
    await scan_point(page, qr_photo(tmp_path, "p2", points[1]["token"]), points[1]["name"])
    await page.check("input[name='result'][value='abnormal']")
    await page.fill("#finding-note", "大堂门禁损坏，门关不上")
    await page.set_input_files("#finding-photo", str(finding_photo(tmp_path)))
    await page.wait_for_selector("#finding-photo-state:has-text('已添加照片')")
    await screenshot(page, "rounds-02-finding")
    await page.click("#scan-save")
    await page.wait_for_selector(f"[data-point='{points[1]['id']}'][data-state='abnormal']")
    # point 3 normal; the same code again is refused on the phone, not queued twice
    await scan_point(page, qr_photo(tmp_path, "p3", points[2]["token"]), points[2]["name"])
    await page.click("#scan-save")
    await page.wait_for_selector(f"[data-point='{points[2]['id']}'][data-state='normal']")
    await page.set_input_files("#scan-input", str(qr_photo(tmp_path, "p3again", points[2]["token"])))
    await page.wait_for_selector("#scan-error:has-text('已经打过')")
    assert "3 项操作等待提交" in await page.inner_text("#banner")
    assert await page.inner_text("#round-progress") == "3/7"
    await screenshot(page, "rounds-03-offline")
    offline_until = datetime.now(UTC)
    assert await db.fetchval("SELECT count(*) FROM round_scans") == 0

    await phone.set_offline(False)
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)
    await page.wait_for_selector(f"[data-point='{points[1]['id']}'] .flags")  # the server's flags came back
    await screenshot(page, "rounds-04-synced")
    assert await page.evaluate("window.__i18nMissing.length") == 0

    rounds = await db.fetch("SELECT id, status, started_by FROM rounds")
    assert len(rounds) == 1 and rounds[0]["status"] == "in_progress"
    scans = await db.fetch(
        """SELECT c.name, s.result, s.note, s.photo_sha256, s.scanned_at, s.received_at FROM round_scans s
           JOIN check_points c ON c.id = s.check_point_id ORDER BY s.position"""
    )
    assert [(s["name"], s["result"]) for s in scans] == [
        (points[0]["name"], "normal"),
        (points[1]["name"], "abnormal"),
        (points[2]["name"], "normal"),
    ]
    abnormal = scans[1]
    assert abnormal["note"] == "大堂门禁损坏，门关不上" and abnormal["photo_sha256"] is not None
    assert [s["photo_sha256"] is None for s in scans] == [True, False, True]
    for s in scans:
        assert offline_from <= s["scanned_at"] <= offline_until, "the phone's time is kept"
        assert s["received_at"] >= offline_until
    assert await db.fetchval("SELECT count(*) FROM notifications WHERE kind = 'hazard_registered'") == 1
