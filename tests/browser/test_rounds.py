"""A guard walks a round with no signal: three QR codes scanned from photos of the printed codes, one point
abnormal with a photo; the round and the finding reach the server exactly once with the phone's times. The
finding is a hazard in the ledger: the supervisor analyses it, records the temporary control and sends a
rectification job to a technician, who does it; another technician re-checks it; the supervisor signs off."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import segno
from PIL import Image

from tests.browser.conftest import log_in, nav_to, screenshot, wait_for_service_worker, wait_until
from tests.browser.test_technician_offline import api_login, post

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
    await nav_to(page, "rounds")
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

    # ---- the finding in the hazard ledger ----
    hazard_id = await db.fetchval("SELECT id FROM hazards")
    await page.click("#logout")
    await log_in(page, "supervisor")
    # the printable QR sheet of the route, from the app
    await nav_to(page, "rounds")
    async with page.expect_popup() as popup_info:
        await page.click(f"[data-sheet='{route_id}']")
    sheet = await popup_info.value
    await sheet.wait_for_selector("figure svg")
    assert await sheet.locator("figure svg").count() == 7
    await screenshot(sheet, "rounds-05-qr-sheet")
    await sheet.close()
    await nav_to(page, "hazards")
    await page.wait_for_selector(f"[data-hazard='{hazard_id}']")
    assert await page.inner_text("[data-count='open']") == "1"
    await screenshot(page, "hazards-01-ledger")
    await page.click(f"[data-hazard='{hazard_id}']")
    await page.wait_for_selector("[data-move='analyse']")
    await page.wait_for_selector("img.hazard-photo")  # the round's photo came with the finding
    await page.fill("#move-cause", "门禁闭门器损坏")
    await page.select_option("#move-responsible", label="刘师傅")
    await page.fill("#move-deadline", (datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    await page.fill("#move-standard", "门能自动关闭并上锁")
    await screenshot(page, "hazards-02-analyse")
    await page.click("[data-submit='analyse']")
    await page.wait_for_selector("[data-move='control']")
    await page.fill("#move-measure", "安排保安值守，门口放置警示牌")
    await page.click("[data-submit='control']")
    await page.wait_for_selector("[data-move='rectify']")
    await page.select_option("#move-assignee", label="刘师傅")
    await page.click("[data-submit='rectify']")
    await page.wait_for_selector("[data-hazard-status]:has-text('整改')")
    order_id = await db.fetchval("SELECT rectification_work_order_id FROM hazards WHERE id = $1", hazard_id)
    assert order_id is not None

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        tech1 = await api_login(http, "tech1")
        for action in ("accept", "arrive"):
            await post(http, f"/api/v1/work-orders/{order_id}/{action}", tech1, {})
        r = await http.post(
            f"/api/v1/work-orders/{order_id}/photos",
            files={"file": ("after.jpg", finding_photo(tmp_path).read_bytes(), "image/jpeg")},
            data={"stage": "after"},
            headers={**tech1, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 201, r.text
        order = (await http.get(f"/api/v1/work-orders/{order_id}", headers=tech1)).json()
        checklist = {code: True for code in order["requirements"]["checklist"]}
        body = {"workDone": "更换闭门器并调试", "checklist": checklist}
        await post(http, f"/api/v1/work-orders/{order_id}/complete", tech1, body)
        # who fixed it may not re-check it; another technician does
        refused = await http.post(
            f"/api/v1/hazards/{hazard_id}/recheck",
            json={"note": "好了"},
            headers={**tech1, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert refused.status_code == 403 and refused.json()["code"] == "own_work"
        tech3 = await api_login(http, "tech3")
        await post(http, f"/api/v1/hazards/{hazard_id}/recheck", tech3, {"note": "门已能自动关闭上锁"})

    await page.reload()
    await page.wait_for_selector("[data-move='close']")
    await page.fill("#move-evidence", "复查合格，整改前后照片见整改工单")
    await page.click("[data-submit='close']")
    await page.wait_for_selector("[data-hazard-status]:has-text('销号')")
    await screenshot(page, "hazards-03-closed")
    assert await page.evaluate("window.__i18nMissing.length") == 0
    hazard = await db.fetchrow(
        """SELECT h.status, h.round_scan_id, u.username AS closed_by, c.username AS rechecked_by
           FROM hazards h JOIN users u ON u.id = h.closed_by JOIN users c ON c.id = h.rechecked_by"""
    )
    assert (hazard["status"], hazard["closed_by"], hazard["rechecked_by"]) == (
        "closed",
        "supervisor",
        "tech3",
    )
    steps = [r["action"] for r in await db.fetch("SELECT action FROM hazard_events ORDER BY id")]
    assert steps == ["register", "analyse", "control", "rectify", "recheck", "close"]
    assert await db.fetchval("SELECT count(*) FROM hazards") == 1
