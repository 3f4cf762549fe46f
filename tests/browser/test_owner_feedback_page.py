"""The owner's page at phone size: a suggestion in Chinese and a praise in English, each "received" and
listed; the supervisor's answer shows under it; both land in the staff worklist with channel `app`."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext

from tests.browser.conftest import LiveServer, OwnerSms, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, post


async def test_an_owner_sends_a_suggestion_and_a_praise_in_both_languages(
    phone: BrowserContext, live_server: LiveServer, owner_sms: OwnerSms
) -> None:
    db, home = owner_sms.db, owner_sms.home
    page = await phone.new_page()
    await owner_sms.sign_in_on(page)
    await page.wait_for_selector("#feedback")
    assert "建议 / 表扬" in await page.inner_text("#feedback-section h2")

    await page.click("#feedback label.choice:has(input[value=suggestion])")
    await page.fill("#feedback textarea[name=text]", "希望在小区门口加装雨棚")
    await page.click("#feedback button[type=submit]")
    await wait_until(page, "document.querySelector('#feedback-msg').textContent.includes('已收到')")
    await page.wait_for_selector("li[data-feedback]")
    assert "希望在小区门口加装雨棚" in await page.inner_text("ul.feedback")
    assert "等待物业答复" in await page.inner_text("ul.feedback")
    await screenshot(page, "owner-feedback-received-zh")

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        supervisor = await api_login(http, "supervisor")
        items = (await http.get("/api/v1/feedback", params={"limit": 200}, headers=supervisor)).json()[
            "items"
        ]
        [filed] = [f for f in items if f["text"] == "希望在小区门口加装雨棚"]
        assert (filed["channel"], filed["kind"], filed["unitId"]) == ("app", "suggestion", str(home["id"]))
        await post(
            http,
            f"/api/v1/feedback/{filed['id']}/answer",
            supervisor,
            {"via": "phone", "summary": "已列入明年计划"},
        )

    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await page.wait_for_selector("[data-field=answer]")
    assert "已列入明年计划" in await page.inner_text("[data-field=answer]")
    assert "Suggestion / praise" in await page.inner_text("#feedback-section h2")
    await page.click("#feedback label.choice:has(input[value=praise])")
    await page.fill("#feedback textarea[name=text]", "The night guard helped my mother home")
    await page.click("#feedback button[type=submit]")
    await wait_until(page, "document.querySelector('#feedback-msg').textContent.includes('Received')")
    assert await page.locator("li[data-feedback]").count() == 2
    assert "Praise" in await page.inner_text("ul.feedback li:first-child")
    await screenshot(page, "owner-feedback-received-en")
    kinds = await db.fetch(
        "SELECT kind, channel FROM feedback WHERE unit_id = $1 ORDER BY created_at", home["id"]
    )
    assert [(k["kind"], k["channel"]) for k in kinds] == [("suggestion", "app"), ("praise", "app")]
    assert await page.evaluate("window.__i18nMissing") == []
