"""A fire has no alarm code: the guard reports it by hand on the console, at phone size in Chinese and
English. The fire plan's steps appear under the report at once, a tick records who and when, and the
emergency job carries the same checklist for the supervisor."""

from __future__ import annotations

import asyncpg
import pytest
from playwright.async_api import Browser

from tests.browser.conftest import log_in, new_phone, screenshot

pytestmark = [pytest.mark.browser]

WORDS = {
    "zh-CN": {"open": "报告险情", "fire": "火警", "step": "拨打119", "title": "火警"},
    "en": {"open": "Report an emergency", "fire": "Fire", "step": "119", "title": "Fire"},
}


async def _big(page, selector: str) -> None:
    boxes = await page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert boxes and all(w >= 44 and h >= 44 for w, h in boxes), (selector, boxes)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_guard_reports_a_fire_and_its_plan_runs(
    phone, chromium: Browser, live_server, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    page = await phone.new_page()
    await log_in(page, "guard1")
    if language == "en":
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Alarm console')")
    await page.wait_for_selector("#stream-state:has-text('实时'), #stream-state:has-text('Live')")
    opener = page.locator("[data-report-open]")
    assert words["open"] in await opener.inner_text()
    await _big(page, "[data-report-open]")
    # opened and left again: the console is as before
    await opener.click()
    await page.click("[data-report-cancel]")
    await page.click("[data-report-open]")
    fire = page.locator("[data-report-form] input[value='fire']")
    assert await fire.is_checked()
    assert (
        words["fire"] in await page.locator("[data-report-form] label:has(input[value='fire'])").inner_text()
    )
    await page.fill("[data-report-form] input[name=location]", "3栋12楼走廊")
    await page.fill("[data-report-form] textarea[name=description]", "楼道有烟")
    await screenshot(page, f"77-guard-report-fire-form-{language}")
    await page.click("[data-report-send]")

    card = page.locator("[data-reported] .emergency-plan[data-scenario='fire']")
    await card.wait_for()
    job = await db.fetchrow(
        "SELECT id, number, kind, channel, location FROM work_orders WHERE category = 'fire_safety'"
    )
    assert (job["kind"], job["channel"], job["location"]) == ("emergency", "patrol", "3栋12楼走廊")
    header = await page.locator(f"[data-reported='{job['id']}'] h3").inner_text()
    assert words["title"] in header and job["number"] in header
    steps = await db.fetch(
        "SELECT id, label_zh FROM emergency_steps WHERE work_order_id = $1 ORDER BY position", job["id"]
    )
    assert await card.locator(".plan-step").count() == len(steps) > 0
    assert await card.locator("[data-phone='119']").is_visible()
    await _big(page, "[data-reported] [data-step-tick]")

    first = card.locator(f"[data-step='{steps[0]['id']}']")
    await first.locator("[data-step-tick]").click()
    await page.locator(f"[data-reported] [data-step='{steps[0]['id']}'][data-step-done='true']").wait_for()
    assert "孙保安" in await first.locator("[data-step-record]").inner_text()
    ticked = await db.fetchrow(
        """SELECT st.done_at, u.username FROM emergency_steps st JOIN users u ON u.id = st.done_by
           WHERE st.id = $1""",
        steps[0]["id"],
    )
    assert ticked["username"] == "guard1" and ticked["done_at"] is not None
    # one report, however the page retried it
    assert await db.fetchval("SELECT count(*) FROM work_orders WHERE category = 'fire_safety'") == 1
    await screenshot(page, f"78-guard-fire-plan-{language}")

    # the supervisor's job screen shows the same checklist, the guard's tick on it
    context = await new_phone(chromium, live_server)
    try:
        boss = await context.new_page()
        await log_in(boss, "supervisor")
        await boss.goto(f"/#/job/{job['id']}")
        plan = boss.locator("#job-plan .emergency-plan[data-scenario='fire']")
        await plan.wait_for()
        assert (
            await boss.locator(f"#job-plan [data-step='{steps[0]['id']}'][data-step-done='true']").count()
            == 1
        )
        await screenshot(boss, f"79-job-fire-plan-{language}")
    finally:
        await context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_desk_reports_an_entrapment_phoned_in(phone, db: asyncpg.Connection, language: str) -> None:
    page = await phone.new_page()
    await log_in(page, "agent")
    if language == "en":
        await page.click("#lang")
        await page.locator("[data-report-open]:has-text('Report an emergency')").wait_for()
    await page.click("[data-report-open]")
    await page.locator("[data-report-form] label:has(input[value='entrapment'])").click()
    await page.fill("[data-report-form] input[name=location]", "2栋1号梯")
    await page.click("[data-report-send]")
    link = page.locator("[data-report-done] a")
    await link.wait_for()
    job = await db.fetchrow("SELECT id, number, channel FROM work_orders WHERE category = 'elevator'")
    assert job["channel"] == "phone" and job["number"] in await link.inner_text()
    steps = await db.fetchval("SELECT count(*) FROM emergency_steps WHERE work_order_id = $1", job["id"])
    assert steps > 0
    await screenshot(page, f"81-desk-report-entrapment-{language}")
    # the confirmation leads to the job, where the plan runs
    await link.click()
    await page.locator("#job-plan .emergency-plan[data-scenario='entrapment']").wait_for()
