"""The dispatch board is a workplace: a card opens its job, a duplicate is cancelled with a reason, the
suggestion explains itself and marks only the skilled (desk size, the supervisor); intake is ready for the
next call, and a complaint cannot go to the person it is about (phone size, the agent)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser

from tests.browser.conftest import LiveServer, log_in, screenshot
from tests.browser.test_technician_offline import api_login, post, technician

pytestmark = pytest.mark.browser

DESK_VIEWPORT = {"width": 1280, "height": 800}


async def electrical_repair(http: httpx.AsyncClient, agent: dict[str, str], title: str, unit: str) -> dict:
    building, number = unit.split("-")
    return await post(
        http,
        "/api/v1/work-orders",
        agent,
        {"kind": "repair", "category": "electrical", "channel": "phone", "title": title, "site": "demo",
         "building": building, "unitNumber": number, "inHome": True},
    )  # fmt: skip


async def test_a_supervisor_works_the_board(
    chromium: Browser, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent = await api_login(http, "agent")
        tech3_headers = await api_login(http, "tech3")
        tech3 = await technician(http, agent, "tech3")
        # tech3 is at work in building C right now
        busy = await electrical_repair(http, agent, "配电箱跳闸", "C-301")
        await post(http, f"/api/v1/work-orders/{busy['id']}/assign", agent, {"assigneeId": tech3["id"]})
        for step in ("accept", "depart", "arrive"):
            await post(http, f"/api/v1/work-orders/{busy['id']}/{step}", tech3_headers, {})
        job = await electrical_repair(http, agent, "插座冒火花", "C-702")
        duplicate = await electrical_repair(http, agent, "插座冒火花", "C-702")

    context = await chromium.new_context(viewport=DESK_VIEWPORT, base_url=live_server.url, locale="zh-CN")
    try:
        page = await context.new_page()
        await log_in(page, "supervisor")
        card = page.locator(f"#unassigned [data-job='{job['id']}']")
        await card.wait_for()

        # The suggestion: skilled technicians first and only they starred, each with its reasons.
        await card.locator("[data-open-assign]").click()
        picker = card.locator("[data-assignee]")
        await picker.wait_for()
        options = {
            await o.get_attribute("value"): await o.inner_text() for o in await picker.locator("option").all()
        }
        starred = {text.split(" ")[1] for text in options.values() if text.startswith("★")}
        assert starred == {"赵师傅", "刘师傅"}  # electrical: tech3 and tech1, never the lift engineer
        assert next(iter(options)) == tech3["id"]  # skilled and already in the building
        why = await card.locator("[data-why]").inner_text()
        assert "对口专业：电气" in why and "正在本楼作业" in why and "在办 1 单" in why
        await screenshot(page, "60-board-suggestion-desk-zh")
        await card.locator("[data-assign]").click()
        assert "赵师傅" in await card.locator("[data-confirm-text]").inner_text()
        await card.locator("[data-confirm-assign]").click()
        await page.locator(f"#by-technician [data-job='{job['id']}']").wait_for()
        assert (
            await db.fetchval(
                "SELECT u.username FROM work_orders w JOIN users u ON u.id = w.assignee_id WHERE w.id = $1",
                uuid.UUID(job["id"]),
            )
            == "tech3"
        )

        # The duplicate is cancelled with a reason, never without one.
        dup = page.locator(f"#unassigned [data-job='{duplicate['id']}']")
        await dup.locator("[data-open-cancel]").click()
        await dup.locator("[data-confirm-cancel]").click()
        assert "原因" in await dup.locator("[data-cancel-error]").inner_text()
        reason = f"与 {job['number']} 重复"
        await dup.locator("[data-cancel-reason]").fill(reason)
        await screenshot(page, "61-board-cancel-duplicate-desk-zh")
        await dup.locator("[data-confirm-cancel]").click()
        await page.locator(f"[data-job='{duplicate['id']}']").first.wait_for(state="detached")
        cancelled = await db.fetchrow(
            """SELECT w.status, e.payload->>'reason' AS reason FROM work_orders w
               JOIN work_order_events e ON e.work_order_id = w.id AND e.action = 'cancel' WHERE w.id = $1""",
            uuid.UUID(duplicate["id"]),
        )
        assert (cancelled["status"], cancelled["reason"]) == ("cancelled", reason)
        assert await page.evaluate("window.__i18nMissing") == []

        # In English the reasons read in English.
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Dispatch')")
        other = await electrical_repair_via_board(page, live_server)
        await other.locator("[data-open-assign]").click()
        await other.locator("[data-why]:has-text('Skilled in')").wait_for()
        await screenshot(page, "62-board-suggestion-desk-en")
        assert await page.evaluate("window.__i18nMissing") == []

        # A card opens its job.
        await page.click(f"a[data-open-job='{job['id']}']")
        await page.wait_for_url(f"**#/job/{job['id']}")
    finally:
        await context.close()


async def electrical_repair_via_board(page, live_server: LiveServer):
    """One more unassigned repair, and its card once the board shows it."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        fresh = await electrical_repair(http, await api_login(http, "agent"), "灯不亮", "A-101")
    await page.click("#refresh")
    card = page.locator(f"#unassigned [data-job='{fresh['id']}']")
    await card.wait_for()
    return card


async def test_intake_is_ready_for_the_next_call_and_a_complaint_skips_its_subject(
    phone, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        tech2 = await technician(http, await api_login(http, "agent"), "tech2")
    page = await phone.new_page()
    await log_in(page, "agent")
    await page.wait_for_selector("#intake-form")
    await page.click("[data-kind='complaint']")
    await page.fill("#lookup-address", "2栋302")
    await page.click("#lookup")
    await page.wait_for_selector("#unit-results input[name='unit']")
    await page.select_option("#category", "attitude")
    await page.fill("#title", "维修人员态度差")
    await page.fill("#description", "业主来电：师傅上门时语气生硬")
    await page.select_option("#complained-about", tech2["id"])
    await screenshot(page, "63-intake-complaint-about-staff-zh")
    await page.click("#intake-submit")

    # Saved: the form is empty and waiting for the next caller; the call just taken waits above it.
    done = page.locator("#intake-done")
    await done.locator("[data-assignee]").wait_for()
    for field in ("#lookup-address", "#title", "#description", "#reporter-name", "#complained-about"):
        assert await page.input_value(field) == "", field
    assert await page.evaluate("document.activeElement.id") == "lookup-address"
    # The person complained about is not offered to handle it.
    offered = [await o.get_attribute("value") for o in await done.locator("[data-assignee] option").all()]
    assert offered and tech2["id"] not in offered
    await screenshot(page, "64-intake-ready-for-next-call-zh")
    row = await db.fetchrow(
        "SELECT kind, complained_about_id FROM work_orders WHERE title = '维修人员态度差'"
    )
    assert (row["kind"], str(row["complained_about_id"])) == ("complaint", tech2["id"])
    assert await page.evaluate("window.__i18nMissing") == []
