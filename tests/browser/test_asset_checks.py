"""A planned maintenance job on the generator shows the generator's checks on the technician's phone (not the
general maintenance list), refuses to complete while one is unticked, and completes once all are; the labels
follow the app's language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.services.intake import create_work_order
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_field_kinds_end_to_end import photo

pytestmark = pytest.mark.browser

GENERATOR_CHECKS = ["空载试运行 15 分钟", "检查燃油、机油与冷却液", "检查蓄电池电压"]


async def test_the_generators_checks_are_demanded_on_the_phone(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path
) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    generator = await db.fetchrow("SELECT id, name FROM assets WHERE kind = 'generator' LIMIT 1")
    # as the planner records a due period (backend/services/maintenance.py)
    job = await create_work_order(
        db,
        actor=None,
        site_id=site_id,
        kind="maintenance",
        category="electrical",
        priority=3,
        title=f"{generator['name']} 例行保养",
        channel="schedule",
        location="发电机房",
        asset_id=generator["id"],
        now=datetime.now(UTC),
    )
    job_id = str(job.id)
    tech1 = await db.fetchval("SELECT id::text FROM users WHERE username = 'tech1'")
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        r = await http.post("/api/v1/auth/login", json={"username": "supervisor", "password": "demo1234"})
        boss = {"Authorization": f"Bearer {r.json()['token']}", "Idempotency-Key": str(uuid.uuid4())}
        assigned = await http.post(
            f"/api/v1/work-orders/{job_id}/assign", json={"assigneeId": tech1}, headers=boss
        )
        assert assigned.status_code == 200, assigned.text

    page = await phone.new_page()
    await log_in(page, "tech1")
    await page.goto(f"/#/job/{job_id}")
    for step in ("accept", "depart", "arrive"):
        await page.click(f"[data-action='{step}']")
    await page.wait_for_selector("#photo-input", state="attached")
    labels = [text.strip() for text in await page.locator("label:has(input[name='check'])").all_inner_texts()]
    assert labels == GENERATOR_CHECKS
    values = [await box.get_attribute("value") for box in await page.locator("input[name='check']").all()]
    assert values == ["gen_run", "gen_fluids", "gen_battery"]

    await page.fill("#work-done", "保养完成，试运行正常")
    await photo(page, "after", tmp_path)
    await page.check("input[name='check'][value='gen_run']")
    await page.check("input[name='check'][value='gen_fluids']")
    await page.click("#complete")
    await page.wait_for_selector("[data-error-for='checklist']:has-text('还有必做的检查项未勾选')")
    await screenshot(page, "asset-checks-01-refused")
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job.id) != "completed"

    # in English the same checks read in English (the draft keeps what was ticked)
    await page.click("#lang")
    await page.wait_for_selector("label:has(input[value='gen_run']):has-text('Run unloaded for 15 minutes')")
    await screenshot(page, "asset-checks-02-english")
    assert await page.evaluate("window.__i18nMissing.length") == 0
    await page.check("input[name='check'][value='gen_battery']")
    await page.click("#complete")
    await page.wait_for_selector("#complete", state="detached")
    resolution = await db.fetchval("SELECT resolution FROM work_orders WHERE id = $1", job.id)
    assert resolution["checklist"] == {"gen_run": True, "gen_fluids": True, "gen_battery": True}
