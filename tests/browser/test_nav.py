"""The navigation at phone width: every role's bar is one row of big tabs, the rest under "更多 / More" (a
list of big targets that opens and closes again), and the screen on view always stands in the bar, selected.
Shot at 390×844 and 1280×800 in Chinese and English for review."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.browser.conftest import log_in, nav_to, screenshot

pytestmark = [pytest.mark.browser]

# username → the tabs only the More menu offers at first (ROLE_NAV past the bar's four places)
ROLES = {
    "tech1": [],
    "guard1": [],
    "agent": [],
    "supervisor": ["intake", "callbacks", "feedback", "dashboard", "rounds", "safetyCheck", "safety"],
    "manager": ["feedback", "alarms", "rounds", "safetyCheck", "safety", "ownerMessages", "ownerLinks"],
    "admin": ["ownerMessages", "ownerLinks", "outages"],
}
DESKTOP_VIEWPORT = {"width": 1280, "height": 800}


async def _boxes(page: Page, selector: str) -> list[dict[str, float]]:
    # measured in one go: the nav is redrawn on every route
    return await page.locator(selector).evaluate_all(
        """els => els.map(e => {
             const r = e.getBoundingClientRect();
             return {x: r.x, y: r.y, w: r.width, h: r.height};
           })"""
    )


async def assert_one_row_of_big_tabs(page: Page) -> None:
    boxes = await _boxes(page, "#nav .nav-bar > *")
    assert 2 <= len(boxes) <= 6, boxes
    assert len({round(b["y"]) for b in boxes}) == 1, boxes
    assert all(b["w"] >= 44 and b["h"] >= 44 for b in boxes), boxes
    width = await page.evaluate("document.documentElement.clientWidth")
    assert all(b["x"] + b["w"] <= width for b in boxes), (boxes, width)


@pytest.mark.parametrize("username", list(ROLES))
async def test_each_roles_nav_is_one_row_with_the_rest_under_more(
    phone, chromium: Browser, live_server, username: str
) -> None:
    hidden = ROLES[username]
    page = await phone.new_page()
    await log_in(page, username)
    await assert_one_row_of_big_tabs(page)
    assert await page.locator("#nav .nav-bar [data-nav].active").count() == 1
    if not hidden:
        assert await page.locator("#nav-more").count() == 0
        await screenshot(page, f"nav-{username}-phone")
        return

    # More opens a list of big targets holding the other tabs, and closes again
    for name in hidden:
        assert not await page.locator(f"#nav [data-nav='{name}']").is_visible()
    await page.click("#nav-more")
    assert await page.get_attribute("#nav-more", "aria-expanded") == "true"
    listed = await page.locator("#nav-more-list [data-nav]").evaluate_all(
        "els => els.map(e => e.dataset.nav)"
    )
    assert listed[: len(hidden)] == hidden
    assert all(b["h"] >= 44 and b["w"] >= 120 for b in await _boxes(page, "#nav-more-list [data-nav]"))
    await screenshot(page, f"nav-{username}-phone-more")
    await page.click("#nav-more")
    await page.locator("#nav-more-list").wait_for(state="hidden")
    await page.click("#nav-more")
    await page.keyboard.press("Escape")
    await page.locator("#nav-more-list").wait_for(state="hidden")

    # a screen picked from More stands in the bar, selected, while it is on view
    last = hidden[-1]
    await nav_to(page, last)
    await page.wait_for_url(f"**/#/{last}")
    selected = page.locator(f"#nav .nav-bar [data-nav='{last}'].active")
    await selected.wait_for()
    await page.locator("#nav-more-list").wait_for(state="hidden")
    await assert_one_row_of_big_tabs(page)
    # in English too (longer words wrap inside their tab, never into a second row)
    await page.click("#lang")
    await page.locator("#nav-more:has-text('More')").wait_for()
    await assert_one_row_of_big_tabs(page)
    assert await selected.is_visible()
    await screenshot(page, f"nav-{username}-phone-en")

    desk = await chromium.new_context(viewport=DESKTOP_VIEWPORT, base_url=live_server.url, locale="zh-CN")
    try:
        wide = await desk.new_page()
        await log_in(wide, username)
        await assert_one_row_of_big_tabs(wide)
        await wide.click("#nav-more")
        await wide.locator("#nav-more-list").wait_for()
        await screenshot(wide, f"nav-{username}-desktop")
    finally:
        await desk.close()
