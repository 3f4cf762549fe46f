"""A screen still loading when the user moves on never draws over the screen that replaced it, and a screen
drawn again (the language switched while it loaded) ends up once, in the new language, with its controls
working. The hazard ledger's list is held at the network to make its drawing slow."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Route

from tests.browser.conftest import log_in, nav_to, wait_until

pytestmark = pytest.mark.browser

LEDGER_URL = "**/api/v1/hazards**"


class HeldRequests:
    """Hold the ledger's requests until released; once released, later ones pass straight through."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.released = False
        self.first = asyncio.Event()

    async def handle(self, route: Route) -> None:
        if self.released:
            await route.continue_()
        else:
            self.routes.append(route)
            self.first.set()

    async def requested(self) -> None:
        """Wait until the page has asked for the ledger (and is held waiting)."""
        async with asyncio.timeout(30):
            await self.first.wait()

    async def release(self, page: Page) -> None:
        self.released = True
        count = len(self.routes)
        for route in self.routes:
            await route.continue_()
        # every held response has arrived, and the page's code waiting on it has run
        arrived = "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/hazards'))"
        await wait_until(page, f"{arrived}.length >= {count}")
        await page.evaluate("new Promise((resolve) => setTimeout(resolve, 100))")


async def hold_the_ledger(page: Page) -> HeldRequests:
    held = HeldRequests()
    await page.route(LEDGER_URL, held.handle)
    return held


async def test_a_screen_left_while_loading_does_not_draw_over_the_next(phone) -> None:
    page = await phone.new_page()
    await log_in(page, "supervisor")
    held = await hold_the_ledger(page)
    await nav_to(page, "hazards")
    await held.requested()

    await nav_to(page, "intake")
    await page.locator("#view h2:has-text('受理登记')").wait_for()
    await held.release(page)

    assert await page.locator("#view h2").all_inner_texts() == ["受理登记"]
    assert await page.locator("#hazard-list, #view .card.error").count() == 0


async def test_a_screen_drawn_again_while_loading_ends_up_once_in_the_new_language(phone) -> None:
    page = await phone.new_page()
    await log_in(page, "supervisor")
    held = await hold_the_ledger(page)
    await nav_to(page, "hazards")
    await held.requested()

    await page.click("#lang")
    await held.release(page)
    await page.locator("#view [data-count='open']").wait_for()

    assert await page.locator("#view h2").all_inner_texts() == ["Hazard ledger"]
    assert await page.locator("#hazard-counts").count() == 1
    view = await page.inner_text("#view")
    assert "未销号" not in view and "安全隐患台账" not in view, view
    # the drawn screen works: the new-hazard form opens
    await page.click("#hazard-new")
    await page.locator("#hazard-place").wait_for()
