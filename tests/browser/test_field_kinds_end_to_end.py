"""Each field kind from creation to closed, every step after creation through the screens, by the roles that
should take it, at phone size: repair (in Chinese), emergency and planned maintenance (in English)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.services.intake import create_work_order
from tests.browser.conftest import PHONE_VIEWPORT, log_in, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, draw_signature, photo_file, post

pytestmark = pytest.mark.browser

A302_OWNER_PHONE = "13900000010"


async def phone_as(chromium, live_server, username: str, lang: str):
    """A phone-sized browser logged in as `username`, reading the app in `lang`."""
    context = await chromium.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    await context.add_init_script(f"localStorage.setItem('caretaker.locale', '{lang}')")
    page = await context.new_page()
    await log_in(page, username)
    return context, page


async def status_of(db: asyncpg.Connection, job_id: str) -> str:
    return await db.fetchval("SELECT status FROM work_orders WHERE id = $1", uuid.UUID(job_id))


async def dispatch_on_the_board(page, job_id: str, tech_id: str) -> None:
    """The desk gives the job to a technician from its card on the board, confirming the choice."""
    await page.goto("/#/dispatch")
    card = page.locator(f"#unassigned [data-job='{job_id}']")
    await card.wait_for()
    await card.locator("[data-open-assign]").click()
    await card.locator("[data-assignee]").select_option(tech_id)
    await card.locator("[data-assign]").click()
    await card.locator("[data-confirm-assign]").click()
    await page.locator(f"#by-technician [data-job='{job_id}']").wait_for()


async def photo(page, stage: str, tmp_path: Path) -> None:
    """Take one photo of a stage and wait until its thumbnail shows."""
    count = await page.locator("#photo-thumbs figure").count()
    await page.select_option("#photo-stage", stage)
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await wait_until(
        page, f"document.querySelectorAll(\"#photo-thumbs img[src^='blob:']\").length === {count + 1}"
    )


async def technician_works_it(page, job_id: str, tmp_path: Path, *, signs: bool, name: str) -> None:
    """From the list: accept, set off, arrive, photos before and after, checks, work done, complete, sign."""
    await page.goto("/#/jobs")
    await page.click(f"[data-job='{job_id}'] a")
    for step in ("accept", "depart", "arrive"):
        await page.click(f"[data-action='{step}']")
    await page.wait_for_selector("#photo-input", state="attached")
    await photo(page, "before", tmp_path)
    for box in await page.locator("input[name='check']").all():
        await box.check()
    await page.fill("#cause", "老化")
    await page.fill("#work-done", "已更换并试运行正常")
    await photo(page, "after", tmp_path)
    await screenshot(page, f"{name}-on-site")
    await page.click("#complete")
    if signs:
        await page.wait_for_selector("#signature-pad")
        await page.fill("#signer-name", "徐超")
        await draw_signature(page)
        await page.click("#sign-save")
        await page.wait_for_selector("#signature-pad", state="detached")
    else:
        await page.wait_for_selector("#complete", state="detached")
    await screenshot(page, f"{name}-done")


async def close_on_the_job_screen(page, job_id: str) -> None:
    """A supervisor checks the finished job and closes it from its screen."""
    await page.goto(f"/#/job/{job_id}")
    await page.click("[data-action='close']")
    await page.wait_for_selector("#job-actions:not(:has([data-action='close']))")


async def test_a_repair_from_the_desk_to_closed_in_chinese(chromium, live_server, db, tmp_path: Path) -> None:
    tech1 = await db.fetchval("SELECT id::text FROM users WHERE username = 'tech1'")
    agent_context, agent = await phone_as(chromium, live_server, "agent", "zh-CN")
    tech_context, tech = await phone_as(chromium, live_server, "tech1", "zh-CN")
    try:
        # the owner calls: the agent finds the home by the phone number and records the repair
        await agent.wait_for_selector("#intake-form")
        await agent.fill("#lookup-phone", A302_OWNER_PHONE)
        await agent.click("#lookup")
        await agent.wait_for_selector("#unit-results input[name='unit']")
        await agent.select_option("#category", "water")
        await agent.fill("#title", "厨房下水道堵塞")
        await agent.fill("#description", "业主来电：厨房水槽不下水")
        await agent.click("#intake-submit")
        await agent.wait_for_selector("#intake-done")
        job_id = await db.fetchval("SELECT id::text FROM work_orders WHERE title = '厨房下水道堵塞'")
        assert await status_of(db, job_id) == "new"

        await dispatch_on_the_board(agent, job_id, tech1)
        assert await status_of(db, job_id) == "assigned"
        await technician_works_it(tech, job_id, tmp_path, signs=True, name="70-repair")
        await tech.wait_for_selector("#job-status:has-text('已签字')")
        assert await status_of(db, job_id) == "signed"

        await agent.goto("/#/callbacks")
        card = agent.locator(f"[data-callback='{job_id}']")
        await card.wait_for()
        assert "已更换并试运行正常" in await card.locator("[data-done]").inner_text()
        await card.locator("[data-reached]").check()
        await card.locator("[data-score][value='5']").check()
        await card.locator("[data-record]").click()
        await card.locator("[data-result]:not(.hidden)").wait_for()
        await screenshot(agent, "71-repair-callback")
        assert await status_of(db, job_id) == "closed"
        assert await agent.evaluate("window.__i18nMissing") == []
        assert await tech.evaluate("window.__i18nMissing") == []
    finally:
        await agent_context.close()
        await tech_context.close()


async def public_job_to_closed(chromium, live_server, db, tmp_path: Path, job_id: str, name: str) -> None:
    """A job in a public place, in English: the supervisor dispatches, the technician works it (nobody signs),
    the supervisor closes it."""
    tech1 = await db.fetchval("SELECT id::text FROM users WHERE username = 'tech1'")
    boss_context, boss = await phone_as(chromium, live_server, "supervisor", "en")
    tech_context, tech = await phone_as(chromium, live_server, "tech1", "en")
    try:
        await dispatch_on_the_board(boss, job_id, tech1)
        await screenshot(boss, f"{name}-board")
        await technician_works_it(tech, job_id, tmp_path, signs=False, name=name)
        await tech.wait_for_selector("#job-status:has-text('Completed')")
        assert await tech.locator("#signature-pad").count() == 0, "nobody signs in a public place"
        assert await status_of(db, job_id) == "completed"
        await close_on_the_job_screen(boss, job_id)
        await screenshot(boss, f"{name}-closed")
        assert await status_of(db, job_id) == "closed"
        assert await boss.evaluate("window.__i18nMissing") == []
        assert await tech.evaluate("window.__i18nMissing") == []
    finally:
        await boss_context.close()
        await tech_context.close()


async def test_an_emergency_to_closed_in_english(chromium, live_server, db, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await post(
            http,
            "/api/v1/work-orders",
            await api_login(http, "agent"),
            {
                "kind": "emergency",
                "category": "electrical",
                "channel": "phone",
                "title": "配电房冒烟",
                "site": "demo",
                "location": "2号楼配电房",
                "inHome": False,
                "priority": "P1",
            },
        )
    assert await status_of(db, job["id"]) == "new"
    await public_job_to_closed(chromium, live_server, db, tmp_path, job["id"], "72-emergency")


async def test_planned_maintenance_to_closed_in_english(chromium, live_server, db, tmp_path: Path) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    # as the plan generator records a due maintenance (backend/services/maintenance.py)
    job = await create_work_order(
        db,
        actor=None,
        site_id=site_id,
        kind="maintenance",
        category="elevator",
        priority=3,
        title="1号电梯月度保养",
        channel="schedule",
        location="1号楼电梯机房",
        now=datetime.now(UTC),
    )
    await public_job_to_closed(chromium, live_server, db, tmp_path, str(job.id), "73-maintenance")
