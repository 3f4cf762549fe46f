"""The owner's page at phone size: open the unit link, sign in with the code the fake SMS provider
received, report a leak with a photo, see the technician and arrival window after dispatch, see
completion, rate it, and find the rating as the job's callback; then the same page in English."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext

from tests.abuse.estate import jpeg_bytes
from tests.browser.conftest import LiveServer, OwnerSms, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, post
from tests.integration.test_signature import signature_png
from tests.integration.work_order_evidence import add_photo, completion


async def test_an_owner_reports_follows_and_rates_a_leak(
    phone: BrowserContext, live_server: LiveServer, owner_sms: OwnerSms
) -> None:
    db, home, fake_sms = owner_sms.db, owner_sms.home, owner_sms.sms
    outbox = owner_sms.outbox()
    page = await phone.new_page()
    await page.goto(f"/owner.html#u={home['owner_link']}")
    await page.wait_for_selector("#phone")
    await screenshot(page, "owner-sign-in-zh")
    await page.fill("#phone", home["phone"])
    await page.click("#send")
    await wait_until(page, "document.querySelector('#msg').textContent.length > 0")
    await outbox.run_once(db)
    code = fake_sms.to(home["phone"])[-1].params[1]
    await page.fill("#code", code)
    await page.click("#signin")
    await page.wait_for_selector("#report")

    await page.select_option("select[name=category]", "water")
    await page.fill("textarea[name=description]", "厨房水槽下面漏水，地上有积水")
    await page.set_input_files(
        "input[name=photo]", files=[{"name": "leak.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    await page.click("#report button[type=submit]")
    await page.wait_for_selector("[data-field=photos]")
    case_id = await page.get_attribute("li[data-case]", "data-case")
    assert await db.fetchval("SELECT channel FROM work_orders WHERE id = $1::uuid", case_id) == "app"
    assert (
        await db.fetchval("SELECT count(*) FROM photos WHERE work_order_id = $1::uuid AND by_owner", case_id)
        == 1
    )

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent, tech = await api_login(http, "agent"), await api_login(http, "tech1")
        tech1 = str(await db.fetchval("SELECT id FROM users WHERE username = 'tech1'"))
        await post(http, f"/api/v1/work-orders/{case_id}/assign", agent, {"assigneeId": tech1})
        await page.reload()
        await page.wait_for_selector("[data-field=technician]")
        assert "tech1" in await page.inner_text("[data-field=technician]")
        assert await page.inner_text("[data-field=arrival]")
        await screenshot(page, "owner-technician-coming-zh")

        for step in ("accept", "arrive"):
            await post(http, f"/api/v1/work-orders/{case_id}/{step}", tech, {})
        await add_photo(db, case_id, "before")
        await add_photo(db, case_id, "after")
        await post(http, f"/api/v1/work-orders/{case_id}/complete", tech, completion())
        r = await http.post(
            f"/api/v1/work-orders/{case_id}/sign",
            files={"file": ("signature.png", signature_png(), "image/png")},
            data={"signerName": "业主", "relation": "owner"},
            headers={**tech, "Idempotency-Key": f"sign-{case_id}"},
        )
        assert r.status_code == 200, r.text

        await page.reload()
        await page.wait_for_selector("form.rate")
        assert await page.inner_text("[data-field=done]")
        await screenshot(page, "owner-completed-zh")
        # the owner confirms the work is done, apart from the rating
        await page.click(f"[data-confirm='{case_id}']")
        await page.wait_for_selector("[data-field=confirmed]")
        assert "确认完工" in await page.inner_text("[data-field=confirmed]")
        assert await page.locator("[data-confirm]").count() == 0
        await screenshot(page, "owner-confirmed-zh")
        await page.select_option("form.rate select[name=attitude]", "4")
        await page.select_option("form.rate select[name=recommend]", "9")
        await page.click("form.rate button[type=submit]")
        await page.wait_for_selector("[data-field=rating]")
        await screenshot(page, "owner-rated-zh")

        job = (await http.get(f"/api/v1/work-orders/{case_id}", headers=agent)).json()
        [callback] = job["callbacks"]
        answers = (callback["reached"], callback["satisfaction"], callback["attitude"], callback["recommend"])
        assert answers == (True, 5, 4, 9)

    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    # the page draws again once the cases are back: wait for the English words, not the old Chinese ones
    await wait_until(
        page, "(document.querySelector('[data-field=rating]') || {}).textContent?.includes('Your rating')"
    )
    assert "Your rating: 5" in await page.inner_text("[data-field=rating]")
    assert "You confirmed the work was done" in await page.inner_text("[data-field=confirmed]")
    assert "Technician" in await page.inner_text("[data-field=technician]")
    await screenshot(page, "owner-rated-en")
    await page.click("#signout")
    await page.wait_for_selector("#phone")
    assert "Send code" in await page.inner_text("#send")
    await screenshot(page, "owner-sign-in-en")
    assert await page.evaluate("window.__i18nMissing") == []
