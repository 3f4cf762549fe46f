"""The supervisor prints the hazard ledger from the phone: the print page opens on its own, styled for A4,
with only the risk level asked for, in the app's language."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.browser.conftest import log_in, nav_to, screenshot

pytestmark = pytest.mark.browser


async def test_the_ledger_print_page_opens_filtered(phone, live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        r = await http.post("/api/v1/auth/login", json={"username": "supervisor", "password": "demo1234"})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for place, risk in (("3栋天台门", "high"), ("车库坡道照明", "low")):
            body = {"place": place, "description": f"{place}需要整改", "riskLevel": risk}
            created = await http.post(
                "/api/v1/hazards", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            assert created.status_code == 201, created.text
    page = await phone.new_page()
    await log_in(page, "supervisor")
    await nav_to(page, "hazards")
    await page.wait_for_selector("[data-hazard]")
    await page.click("#hazard-print-open")
    await page.select_option("#hazard-print-risk", "high")
    await screenshot(page, "ledger-print-01-form")
    async with phone.expect_page() as opened:
        await page.click("#hazard-print-go")
    sheet = await opened.value
    await sheet.wait_for_selector("table")
    text = await sheet.inner_text("body")
    assert "安全隐患台账" in text and "3栋天台门" in text and "车库坡道照明" not in text
    # the inline style applied (admitted by its hash): the headings are shaded, the cells ruled
    shade = await sheet.evaluate("getComputedStyle(document.querySelector('th')).backgroundColor")
    assert shade == "rgb(232, 232, 232)"
    await screenshot(sheet, "ledger-print-02-page")
    await sheet.close()
    await page.click("#lang")
    await page.wait_for_selector("#hazard-print-open:has-text('Print the ledger')")
    await page.wait_for_selector("[data-hazard]")
    await page.click("#hazard-print-open")
    async with phone.expect_page() as opened:
        await page.click("#hazard-print-go")
    sheet = await opened.value
    await sheet.wait_for_selector("table")
    english = await sheet.inner_text("body")
    assert "Hazard ledger" in english and "2 hazards" in english
    await screenshot(sheet, "ledger-print-03-english")
    assert await page.evaluate("window.__i18nMissing.length") == 0
