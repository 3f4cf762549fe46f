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

WORDS = {
    "zh-CN": {
        "dispatch": "派单看板",
        "skilled": "对口专业：电气",
        "nearby": "正在本楼作业",
        "open_jobs": "在办 1 单",
        "confirm": "派给 赵师傅？",
        "reason_needed": "请填写作废原因",
        "duplicate_of": "与 {number} 重复",
        "intake": "受理",
        "address": "2栋302",
        "title": "维修人员态度差",
        "description": "业主来电：师傅上门时语气生硬",
    },
    "en": {
        "dispatch": "Dispatch board",
        "skilled": "Skilled in: Electrical",
        "nearby": "Working in this building now",
        "open_jobs": "Open jobs: 1",
        "confirm": "Assign to 赵师傅?",
        "reason_needed": "Give the reason",
        "duplicate_of": "Duplicate of {number}",
        "intake": "Intake",
        "address": "2-302",
        "title": "Rude repairman",
        "description": "Owner called: the technician was curt at the door",
    },
}


async def electrical_repair(http: httpx.AsyncClient, agent: dict[str, str], title: str, unit: str) -> dict:
    building, number = unit.split("-")
    return await post(
        http,
        "/api/v1/work-orders",
        agent,
        {"kind": "repair", "category": "electrical", "channel": "phone", "title": title, "site": "demo",
         "building": building, "unitNumber": number, "inHome": True},
    )  # fmt: skip


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_a_supervisor_works_the_board(
    chromium: Browser, live_server: LiveServer, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
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
        if language == "en":
            await page.click("#lang")
            await page.wait_for_selector("h2:has-text('Dispatch')")
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
        for expected in (words["skilled"], words["nearby"], words["open_jobs"]):
            assert expected in why, (expected, why)
        await screenshot(page, f"60-board-suggestion-desk-{language}")
        await card.locator("[data-assign]").click()
        assert words["confirm"] in await card.locator("[data-confirm-text]").inner_text()
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
        assert words["reason_needed"] in await dup.locator("[data-cancel-error]").inner_text()
        reason = words["duplicate_of"].format(number=job["number"])
        await dup.locator("[data-cancel-reason]").fill(reason)
        await screenshot(page, f"61-board-cancel-duplicate-desk-{language}")
        await dup.locator("[data-confirm-cancel]").click()
        await page.locator(f"[data-job='{duplicate['id']}']").first.wait_for(state="detached")
        cancelled = await db.fetchrow(
            """SELECT w.status, e.payload->>'reason' AS reason FROM work_orders w
               JOIN work_order_events e ON e.work_order_id = w.id AND e.action = 'cancel' WHERE w.id = $1""",
            uuid.UUID(duplicate["id"]),
        )
        assert (cancelled["status"], cancelled["reason"]) == ("cancelled", reason)
        assert await page.evaluate("window.__i18nMissing") == []

        assert words["dispatch"] in await page.inner_text("h2")

        # A card opens its job.
        await page.click(f"a[data-open-job='{job['id']}']")
        await page.wait_for_url(f"**#/job/{job['id']}")
    finally:
        await context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_intake_is_ready_for_the_next_call_and_a_complaint_skips_its_subject(
    phone, live_server: LiveServer, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        tech2 = await technician(http, await api_login(http, "agent"), "tech2")
    page = await phone.new_page()
    await log_in(page, "agent")
    if language == "en":
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Intake')")
    assert words["intake"] in await page.inner_text("h2")
    await page.wait_for_selector("#intake-form")
    await page.click("[data-kind='complaint']")
    await page.fill("#lookup-address", words["address"])
    await page.click("#lookup")
    await page.wait_for_selector("#unit-results input[name='unit']")
    await page.select_option("#category", "attitude")
    await page.fill("#title", words["title"])
    await page.fill("#description", words["description"])
    await page.select_option("#complained-about", tech2["id"])
    await screenshot(page, f"63-intake-complaint-about-staff-{language}")
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
    await screenshot(page, f"64-intake-ready-for-next-call-{language}")
    row = await db.fetchrow(
        "SELECT kind, complained_about_id FROM work_orders WHERE title = $1", words["title"]
    )
    assert (row["kind"], str(row["complained_about_id"])) == ("complaint", tech2["id"])
    assert await page.evaluate("window.__i18nMissing") == []
