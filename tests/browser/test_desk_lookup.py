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

WORDS = {
    "zh-CN": {
        "title": "卫生间漏水",
        "needs_home": "须先找到并选定房屋",
        "said": "3栋1单元1201",
        "slip": "三栋一单元一二零四",
        "near_reason": "相差一位",
        "did_you_mean": "是不是这些房屋",
        "understood": "3栋",
    },
    "en": {
        "title": "Bathroom leak",
        "needs_home": "needs its unit",
        "said": "3-1-1201",
        "slip": "3-1-1204",
        "near_reason": "One digit off",
        "did_you_mean": "Did they mean",
        "understood": "building 3",
    },
}


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


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_home_as_said_a_near_miss_and_no_repair_without_a_home(
    phone, live_server, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    title = words["title"]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        unit = await a_home_on_the_twelfth_floor(http)
    page = await phone.new_page()
    await log_in(page, "agent")
    if language == "en":
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Intake')")
    await page.wait_for_selector("#intake-form")

    # An in-home repair with no home is refused, and the form says so next to the unit picker.
    await page.select_option("#category", "water")
    await page.fill("#title", title)
    await page.click("#intake-submit")
    error = page.locator("#unit-error")
    await error.wait_for()
    assert words["needs_home"] in await error.inner_text()
    await screenshot(page, f"50-intake-needs-a-home-{language}")
    assert await db.fetchval("SELECT count(*) FROM work_orders WHERE title = $1", title) == 0
    assert await page.input_value("#title") == title  # nothing typed is lost
    assert await page.locator("#conflicts .conflict").count() == 0  # said once, where it belongs

    # Said the way owners say it.
    await look_up(page, words["said"])
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert "3栋 1201" in await page.inner_text("#unit-results")
    assert "高先生" in await page.inner_text("#unit-results")
    assert await page.input_value("#reporter-phone") == OWNER_PHONE
    assert await error.is_hidden()

    # A slip of one digit: the homes it could be, with why, instead of a bare "not found".
    await look_up(page, words["slip"])
    await page.wait_for_selector("#unit-missing")
    assert words["did_you_mean"] in await page.inner_text("#unit-results")
    near = page.locator("[data-near]")
    texts = await near.all_inner_texts()
    assert any("1201" in text and words["near_reason"] in text for text in texts), texts
    assert words["understood"] in await page.inner_text("#unit-missing")  # what it understood
    assert await page.input_value("#reporter-phone") == ""  # the last home's owner is not this caller
    await screenshot(page, f"51-intake-near-miss-{language}")
    await near.filter(has_text="1201").first.click()
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert "高先生" in await page.inner_text("#unit-results")

    # With the home the repair is saved, against that home.
    await page.click("#intake-submit")
    await page.wait_for_selector("#intake-done")
    saved = await db.fetchval("SELECT unit_id FROM work_orders WHERE title = $1", title)
    assert str(saved) == unit["id"]
    assert await page.evaluate("window.__i18nMissing") == []
