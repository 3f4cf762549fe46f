"""An agent finds the caller's home the way the caller says it — "3栋1单元1201" — is offered near misses
instead of a bare "not found", and cannot save an in-home repair without its home (phone size, both
languages)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from playwright.async_api import Page

from tests.browser.conftest import log_in, screenshot
from tests.browser.test_technician_offline import api_login, post

pytestmark = pytest.mark.browser

OWNER_PHONE = "13700001201"


async def a_home_on_the_twelfth_floor(http: httpx.AsyncClient) -> dict:
    """Building 3 (C) gets a twelfth-floor home with its owner: the demo estate's buildings stop at ten."""
    admin = await api_login(http, "admin")
    buildings = (await http.get("/api/v1/buildings", params={"site": "demo"}, headers=admin)).json()["items"]
    c = next(b for b in buildings if b["code"] == "C")
    unit = await post(http, "/api/v1/units", admin, {"buildingId": c["id"], "number": "1201", "floor": 12})
    await post(
        http,
        f"/api/v1/units/{unit['id']}/residents",
        admin,
        {"name": "高先生", "phone": OWNER_PHONE, "relation": "owner"},
    )
    return unit


async def look_up(page: Page, address: str) -> None:
    await page.fill("#lookup-phone", "")
    await page.fill("#lookup-address", address)
    await page.click("#lookup")


async def test_the_home_as_said_a_near_miss_and_no_repair_without_a_home(
    phone, live_server, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        unit = await a_home_on_the_twelfth_floor(http)
    page = await phone.new_page()
    await log_in(page, "agent")
    await page.wait_for_selector("#intake-form")

    # An in-home repair with no home is refused, and the form says so next to the unit picker.
    await page.select_option("#category", "water")
    await page.fill("#title", "卫生间漏水")
    await page.click("#intake-submit")
    error = page.locator("#unit-error")
    await error.wait_for()
    assert "房屋" in await error.inner_text()
    await screenshot(page, "50-intake-needs-a-home-zh")
    assert await db.fetchval("SELECT count(*) FROM work_orders WHERE title = '卫生间漏水'") == 0
    assert await page.input_value("#title") == "卫生间漏水"  # nothing typed is lost
    assert await page.locator("#conflicts .conflict").count() == 0  # said once, where it belongs

    # Said the way owners say it.
    await look_up(page, "3栋1单元1201")
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert "3栋 1201" in await page.inner_text("#unit-results")
    assert "高先生" in await page.inner_text("#unit-results")
    assert await page.input_value("#reporter-phone") == OWNER_PHONE
    assert await error.is_hidden()

    # A slip of one digit: the homes it could be, with why, instead of a bare "not found".
    await look_up(page, "三栋一单元一二零四")
    await page.wait_for_selector("#unit-missing")
    near = page.locator("[data-near]")
    texts = await near.all_inner_texts()
    assert any("1201" in text and "相差一位" in text for text in texts), texts
    assert "3栋" in await page.inner_text("#unit-missing")  # what it understood
    assert await page.input_value("#reporter-phone") == ""  # the last home's owner is not this caller
    await screenshot(page, "51-intake-near-miss-zh")
    await near.filter(has_text="1201").first.click()
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert "高先生" in await page.inner_text("#unit-results")

    # With the home the repair is saved, against that home.
    await page.click("#intake-submit")
    await page.wait_for_selector("#intake-done")
    saved = await db.fetchval("SELECT unit_id FROM work_orders WHERE title = '卫生间漏水'")
    assert str(saved) == unit["id"]
    assert await page.evaluate("window.__i18nMissing") == []

    # The same in English.
    await page.click("#lang")
    await page.wait_for_selector("h2:has-text('Intake')")
    await look_up(page, "3-1-1204")
    await page.wait_for_selector("#unit-missing")
    assert "Did they mean" in await page.inner_text("#unit-results")
    assert any("One digit off" in text for text in await page.locator("[data-near]").all_inner_texts())
    await page.fill("#title", "Kitchen tap drips")
    await page.click("#intake-submit")
    await page.locator("#unit-error:has-text('needs its unit')").wait_for()
    await screenshot(page, "52-intake-near-miss-en")
    assert await page.evaluate("window.__i18nMissing") == []
