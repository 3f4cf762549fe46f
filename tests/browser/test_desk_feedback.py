"""Suggestions and praise (建议/表扬) in the app: taken at the desk's intake, routed, answered, counted.

DOMAIN.md "Complaint": suggestions and praise are recorded, answered and counted; seeds-digest §9 sorts
owner feedback into complaint, suggestion and praise (對客戶反饋進行分類處理,如投訴、建議、表揚等).
A suggestion goes to the site's supervisor, praise also onto the praised person's record; an answer to
the owner closes it; the dashboard counts both and the share answered.
"""

from __future__ import annotations

import asyncpg
import pytest
from playwright.async_api import Page

from tests.browser.conftest import PHONE_VIEWPORT, nav_to, screenshot, wait_until
from tests.browser.test_complaint_desk import A302_OWNER_PHONE, log_in_speaking

pytestmark = pytest.mark.browser


async def take(page: Page, kind: str, text: str, praised: str | None = None) -> str:
    """Take a suggestion or praise from the A-302 owner at intake; returns its id."""
    await page.click(f"[data-kind='{kind}']")
    await page.fill("#lookup-phone", A302_OWNER_PHONE)
    await page.click("#lookup")
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert await page.locator("#category").is_hidden()  # not a work order: no category, priority, subject
    if praised is not None:
        await page.select_option("#praised", praised)
    await page.fill("#feedback-text", text)
    # read back to the caller before saving (复述): what they said, their home
    read_back = await page.inner_text("#read-back")
    assert text in read_back and "302" in read_back
    before = await page.evaluate("(document.querySelector('#intake-done') || {dataset: {}}).dataset.feedback")
    await page.click("#intake-submit")
    await wait_until(
        page,
        "(document.querySelector('#intake-done[data-feedback]') || {dataset: {}}).dataset.feedback"
        f" && document.querySelector('#intake-done').dataset.feedback !== '{before}'",
    )
    return await page.get_attribute("#intake-done", "data-feedback")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_suggestion_and_praise_taken_routed_answered_and_counted_seed_rule(
    chromium, live_server, db: asyncpg.Connection, locale: str
) -> None:
    context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        agent = await context.new_page()
        await log_in_speaking(agent, "agent", locale)
        await agent.wait_for_selector("#intake-form")
        suggestion = await take(agent, "suggestion", "希望在 1 栋门口加装雨棚")
        assert "李主管" in await agent.inner_text("#feedback-routed")
        tech1 = str(await db.fetchval("SELECT id FROM users WHERE username = 'tech1'"))
        praise = await take(agent, "praise", "刘师傅修水管又快又干净", praised=tech1)
        routed = await agent.inner_text("#feedback-routed")
        assert "李主管" in routed and "刘师傅" in routed
        await screenshot(agent, f"40-intake-praise-recorded-{locale}")
        assert await agent.evaluate("window.__i18nMissing") == []

        supervisor_context = await context.browser.new_context(
            viewport=PHONE_VIEWPORT, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
        )
        try:
            page = await supervisor_context.new_page()
            await log_in_speaking(page, "supervisor", locale)
            await nav_to(page, "feedback")
            for fid in (suggestion, praise):
                await page.locator(f"[data-feedback='{fid}']").wait_for()
            item = page.locator(f"[data-feedback='{suggestion}']")
            assert "张客服" in await item.inner_text()  # who took it
            # nothing said yet: refused next to its button, nothing sent
            await item.locator("[data-offers='answer']").click()
            assert await item.locator(f"[data-error-for='{suggestion}']").is_visible()
            await item.locator("select").select_option("phone")
            await item.locator("textarea").fill("已报维修基金审批，下月施工")
            await item.locator("[data-offers='answer']").click()
            await wait_until(page, f"!document.querySelector(\"[data-feedback='{suggestion}']\")")
            assert await page.locator(f"[data-feedback='{praise}']").count() == 1
            await screenshot(page, f"41-feedback-worklist-open-{locale}")
            await page.click("[data-filter='answered']")
            answered = page.locator(f"[data-feedback='{suggestion}'] [data-answered]")
            await answered.wait_for()
            assert "李主管" in await answered.inner_text()
            await screenshot(page, f"42-feedback-answered-{locale}")

            # the dashboard counts both, and half answered
            await nav_to(page, "dashboard")
            await page.wait_for_selector("[data-kpi='feedback'] [data-value]")
            assert (await page.inner_text("[data-kpi='feedback'] [data-value]")).strip() == "2"
            assert (await page.inner_text("[data-kpi='feedbackAnswered'] [data-value]")).strip() == "50%"
            await page.locator("[data-kpi='feedbackAnswered']").scroll_into_view_if_needed()
            await screenshot(page, f"43-dashboard-feedback-tiles-{locale}")
            assert await page.evaluate("window.__i18nMissing") == []
        finally:
            await supervisor_context.close()
    finally:
        await context.close()
    row = await db.fetchrow("SELECT answered_at, answer_via FROM feedback WHERE id = $1::uuid", suggestion)
    assert row["answer_via"] == "phone" and row["answered_at"] is not None
