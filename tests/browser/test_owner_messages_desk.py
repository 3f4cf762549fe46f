"""Owners' messages, the staff side, at phone size in both languages: the agent reads a job's messages to its
owner (status included) and replies; a supervisor resends a failed message from the failed-messages screen
and it goes once; a manager opens the printable QR sheet of a building's unit links."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
from playwright.async_api import BrowserContext

from backend.domain.clock import ManualClock
from backend.notify.owner_outbox import MAX_ATTEMPTS
from tests.browser.conftest import LiveServer, OwnerSms, log_in, nav_to, screenshot, wait_until
from tests.browser.test_technician_offline import repair_assigned_to
from tests.owners.conftest import at_site_time


async def test_staff_read_reply_to_and_resend_owners_messages(
    phone: BrowserContext, live_server: LiveServer, owner_sms: OwnerSms
) -> None:
    db, home, fake_sms = owner_sms.db, owner_sms.home, owner_sms.sms
    # the outbox's own clock, moved across its backoff; the messages are queued by the app's real clock
    clock = ManualClock()
    at_site_time(clock, 10)  # past quiet hours, whenever the test runs
    outbox = owner_sms.outbox(clock, batch_size=50)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "卫生间地漏返水", reporter_phone=home["phone"])
    # "case received" goes; "technician assigned" fails for good (the provider refuses every try)
    received = await db.fetchval(
        "SELECT id FROM owner_messages WHERE work_order_id = $1::uuid AND kind = 'case_received'", job["id"]
    )
    await db.execute(
        "UPDATE owner_messages SET next_attempt_at = next_attempt_at + interval '1 day' "
        "WHERE work_order_id = $1::uuid AND id <> $2",
        job["id"],
        received,
    )
    await outbox.run_once(db)
    clock.advance(timedelta(days=1, minutes=1))
    fake_sms.fail_first = 1000
    for _ in range(MAX_ATTEMPTS):
        await outbox.run_once(db)
        clock.advance(timedelta(hours=1))
    assigned = await db.fetchrow(
        """SELECT id, status FROM owner_messages
           WHERE work_order_id = $1::uuid AND kind = 'technician_assigned'""",
        job["id"],
    )
    assert assigned["status"] == "failed"

    page = await phone.new_page()
    await log_in(page, "agent")
    await page.goto(f"/#/job/{job['id']}")
    await page.wait_for_selector("#owner-messages li[data-owner-message]")
    statuses = await page.eval_on_selector_all(
        "#owner-messages [data-status]", "els => els.map(e => e.dataset.status)"
    )
    assert statuses == ["sent", "failed"]
    assert home["phone"] not in await page.inner_text("#owner-messages")
    await page.fill("#owner-reply-text", "师傅明天上午九点上门，请留人在家")
    await page.click("#owner-reply-send")
    await wait_until(page, "document.querySelectorAll('#owner-messages li[data-owner-message]').length === 3")
    assert "师傅明天上午九点上门" in await page.inner_text("#owner-messages")
    await page.locator("#owner-messages").scroll_into_view_if_needed()
    await screenshot(page, "owner-messages-job-zh")

    # the failed-messages screen: the case, the error, a resend
    await nav_to(page, "ownerMessages")
    await page.wait_for_selector(f"[data-failed='{assigned['id']}']")
    assert "InternalError" in await page.inner_text(f"[data-failed='{assigned['id']}'] [data-field=error]")
    assert await page.get_attribute(f"[data-failed='{assigned['id']}'] [data-case-link]", "href") == (
        f"#/job/{job['id']}"
    )
    await screenshot(page, "owner-messages-failed-zh")
    fake_sms.fail_first = 0
    fake_sms.send_calls = 0
    await page.click(f"[data-retry='{assigned['id']}']")
    await wait_until(
        page, f"document.querySelector('[data-retry-result=\"{assigned['id']}\"]').textContent !== ''"
    )
    assert "已重新放入发送队列" in await page.inner_text(f"[data-retry-result='{assigned['id']}']")
    for _ in range(2):
        await outbox.run_once(db)
        clock.advance(timedelta(hours=1))
    assert fake_sms.send_calls == 2  # the reply and the resent message, each once
    assert await db.fetchval("SELECT status FROM owner_messages WHERE id = $1", assigned["id"]) == "sent"

    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await nav_to(page, "ownerMessages")
    await page.wait_for_selector(".failed-messages")
    assert "No failed messages" in await page.inner_text(".failed-messages")
    await screenshot(page, "owner-messages-failed-en")
    await page.goto(f"/#/job/{job['id']}")
    await page.wait_for_selector("#owner-messages li[data-owner-message]")
    assert "Technician assigned" in await page.inner_text("#owner-messages")
    await page.locator("#owner-messages").scroll_into_view_if_needed()
    await screenshot(page, "owner-messages-job-en")
    assert await page.evaluate("window.__i18nMissing") == []


async def test_a_manager_prints_the_qr_codes_of_a_buildings_homes(
    phone: BrowserContext, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    building = await db.fetchrow("SELECT id FROM buildings WHERE code = 'A'")
    units = await db.fetchval("SELECT count(*) FROM units WHERE building_id = $1", building["id"])
    page = await phone.new_page()
    await log_in(page, "manager")
    await nav_to(page, "ownerLinks")
    await page.wait_for_selector(f"[data-sheet='{building['id']}']")
    await screenshot(page, "owner-links-zh")
    async with page.expect_popup() as popup_info:
        await page.click(f"[data-sheet='{building['id']}']")
    sheet = await popup_info.value
    await sheet.wait_for_selector("figure svg")
    assert await sheet.locator("figure.unit svg").count() == units
    # the sheet's print layout applies (its style is allowed where it opens): four codes to a row
    columns = await sheet.evaluate(
        "getComputedStyle(document.querySelector('.sheet')).gridTemplateColumns.split(' ').length"
    )
    assert columns == 4
    await sheet.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    await sheet.emulate_media(media="print")
    await screenshot(sheet, "owner-links-sheet")
    await sheet.close()
    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await nav_to(page, "ownerLinks")
    await page.wait_for_selector(f"[data-sheet='{building['id']}']")
    assert "Print this building's codes" in await page.inner_text(f"[data-building='{building['id']}']")
    await screenshot(page, "owner-links-en")
    assert await page.evaluate("window.__i18nMissing") == []
