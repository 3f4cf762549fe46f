"""The quarterly safety check on a phone: the supervisor opens this quarter's check, marks points in order,
records a finding with a note, a photo and its risk level (one more with no signal), and each finding lands
in the hazard ledger once, linked to the check; the screen reads the same in English."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from PIL import Image

from backend.domain.safety_checks import FOCUS_POINTS
from backend.services.safety_checks import generate_checks
from tests.browser.conftest import log_in, nav_to, screenshot, wait_for_service_worker, wait_until

pytestmark = pytest.mark.browser

SYNC_SECONDS = 20


def finding_photo(tmp_path: Path) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (90, 90, 160)).save(out, "JPEG", quality=80)
    path = tmp_path / "roof.jpg"
    path.write_bytes(out.getvalue())
    return path


async def test_the_supervisor_does_the_quarterly_check_on_the_phone(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path
) -> None:
    # the scheduler's job, as it runs when the quarter begins
    async with db.transaction():
        assert await generate_checks(db, datetime.now(UTC)) == await db.fetchval("SELECT count(*) FROM sites")
    check_id = await db.fetchval(
        "SELECT c.id FROM safety_checks c JOIN sites s ON s.id = c.site_id WHERE s.code = 'demo'"
    )
    page = await phone.new_page()
    await log_in(page, "supervisor")
    await wait_for_service_worker(page)
    await nav_to(page, "safetyCheck")
    await page.wait_for_selector(f"[data-check='{check_id}']")
    assert "季度安全检查" in await page.inner_text("h2")
    await screenshot(page, "safety-01-list")
    await page.click(f"[data-check='{check_id}']")
    await page.wait_for_selector("[data-point='fire_exits']")
    assert await page.locator("[data-point]").count() == len(FOCUS_POINTS)
    assert "消防通道与安全出口" in await page.inner_text("[data-point='fire_exits']")

    # two points in order
    for code in ("fire_exits", "fire_equipment"):
        await page.click(f"[data-ok='{code}']")
        await page.wait_for_selector(f"[data-point='{code}'][data-state='ok']")
    # delivered: the screen redraws from the server's answer then, which would close a form opened before it
    await page.locator("[data-point] .badge.pending").first.wait_for(state="detached")  # none left
    # a finding: the phone asks for what is wrong and the risk level before it sends anything
    await page.click("[data-finding='roofs']")
    await page.click("[data-form='roofs'] button[type='submit']")
    await page.wait_for_selector("[data-form='roofs'] [data-error]:has-text('请描述问题或拍照')")
    await page.fill("[data-form='roofs'] [data-note]", "天台门未上锁，屋面有杂物")
    await page.click("[data-form='roofs'] button[type='submit']")
    await page.wait_for_selector("[data-form='roofs'] [data-error]:has-text('请选择风险等级')")
    await page.check("input[name='risk-roofs'][value='high']")
    await page.set_input_files("#finding-photo-roofs", str(finding_photo(tmp_path)))
    await page.wait_for_selector("[data-form='roofs'] [data-photo-state]:has-text('已添加照片')")
    await screenshot(page, "safety-02-finding")
    await page.click("[data-form='roofs'] button[type='submit']")
    await page.wait_for_selector("[data-point='roofs'][data-state='finding'] [data-hazard-link]")
    assert "YH-" in await page.inner_text("[data-point='roofs'] [data-hazard-link]")

    # one more finding with no signal: kept on the phone, sent once when the network returns
    await phone.set_offline(True)
    await page.click("[data-finding='stair_lighting']")
    await page.fill("[data-form='stair_lighting'] [data-note]", "3号楼5层应急灯不亮")
    await page.check("input[name='risk-stair_lighting'][value='low']")
    await page.click("[data-form='stair_lighting'] button[type='submit']")
    await page.wait_for_selector("[data-point='stair_lighting'][data-state='finding'] .badge.pending")
    await screenshot(page, "safety-03-offline")
    assert await db.fetchval("SELECT count(*) FROM hazards WHERE source = 'quarterly_check'") == 1
    await phone.set_offline(False)
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)
    await page.reload()
    await page.wait_for_selector("[data-point='stair_lighting'] [data-hazard-link]")
    assert await page.inner_text("#check-progress") == f"已检查 4/{len(FOCUS_POINTS)}"
    await screenshot(page, "safety-04-synced")
    assert await page.evaluate("window.__i18nMissing.length") == 0

    hazards = await db.fetch(
        """SELECT h.place, h.description, h.risk_level, h.photo_sha256, h.safety_check_id, p.code
           FROM hazards h JOIN safety_check_points p ON p.hazard_id = h.id
           WHERE h.source = 'quarterly_check' ORDER BY p.position"""
    )
    assert [(h["code"], h["risk_level"], h["description"]) for h in hazards] == [
        ("stair_lighting", "low", "3号楼5层应急灯不亮"),
        ("roofs", "high", "天台门未上锁，屋面有杂物"),
    ]
    assert all(h["safety_check_id"] == check_id for h in hazards)
    assert hazards[1]["photo_sha256"] is not None and hazards[0]["photo_sha256"] is None

    # the same screen in English
    await page.click("#lang")
    await page.wait_for_selector("[data-point='fire_exits']:has-text('Fire lanes and emergency exits')")
    assert "In the hazard ledger as YH-" in await page.inner_text("[data-point='roofs']")
    await screenshot(page, "safety-05-english")
    assert await page.evaluate("window.__i18nMissing.length") == 0
    # the finding's hazard opens from the check
    await page.click("[data-point='roofs'] [data-hazard-link]")
    await page.wait_for_selector("text=Quarterly check")
