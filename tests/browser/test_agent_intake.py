"""An agent records a repair from a phone call, assigns it, and the technician's list shows it."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from tests.browser.conftest import PHONE_VIEWPORT, log_in, nav_to, screenshot
from tests.browser.test_technician_offline import (
    api_login,
    photo_file_bytes,
    post,
    record_job,
    repair_assigned_to,
    technician,
)

pytestmark = pytest.mark.browser

# Demo owner phones count units from A101 = 0001; A-302 is the tenth (floor 3, 4 homes per floor).
A302_OWNER_PHONE = "13900000010"


async def test_phone_intake_assigned_to_a_technician_appears_in_their_list(
    chromium, phone, live_server, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent = await api_login(http, "agent")
        tech1 = await technician(http, agent, "tech1")

    page = await phone.new_page()
    await log_in(page, "agent")
    await page.wait_for_selector("#intake-form")
    await page.fill("#lookup-phone", A302_OWNER_PHONE)
    await page.click("#lookup")
    await page.wait_for_selector("#unit-results input[name='unit']")
    assert "302" in await page.inner_text("#unit-results")
    assert await page.input_value("#reporter-phone") == A302_OWNER_PHONE
    await page.select_option("#category", "water")
    await page.fill("#title", "卫生间地漏堵塞")
    await page.fill("#description", "业主来电：地漏返水")
    await screenshot(page, "10-agent-intake")
    await page.click("#intake-submit")
    await page.wait_for_selector("#intake-done [data-assignee]")
    await page.select_option("#intake-done [data-assignee]", tech1["id"])
    await screenshot(page, "11-agent-assign")
    await page.click("#intake-done [data-assign]")
    await page.click("#intake-done [data-confirm-assign]")
    await page.wait_for_selector("#assign-result:has-text('已派单给 刘师傅')")

    row = await db.fetchrow(
        """SELECT w.id, w.status, w.channel, u.number, a.username FROM work_orders w
           JOIN units u ON u.id = w.unit_id JOIN users a ON a.id = w.assignee_id
           WHERE w.title = '卫生间地漏堵塞'"""
    )
    assert row is not None
    assert (row["status"], row["channel"], row["number"]) == ("assigned", "phone", "302")
    assert row["username"] == "tech1"

    tech_context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, base_url=live_server.url, locale="zh-CN"
    )
    try:
        tech_page = await tech_context.new_page()
        await log_in(tech_page, "tech1")
        item = tech_page.locator(f"[data-job='{row['id']}']")
        await item.wait_for()
        assert "卫生间地漏堵塞" in await item.inner_text()
    finally:
        await tech_context.close()


async def test_supervisor_assigns_from_the_dispatch_board(phone, live_server, db: asyncpg.Connection) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent = await api_login(http, "agent")
        job = await record_job(
            http, agent, "B栋电梯异响", category="elevator", location="2栋 1号梯", inHome=False
        )
        tech2 = await technician(http, agent, "tech2")
    page = await phone.new_page()
    await log_in(page, "supervisor")
    card = page.locator(f"#unassigned [data-job='{job['id']}']")
    await card.wait_for()
    await card.locator("[data-open-assign]").click()
    await card.locator("[data-assignee]").wait_for()
    await screenshot(page, "12-dispatch")
    await card.locator("[data-assignee]").select_option(tech2["id"])
    await card.locator("[data-assign]").click()
    await card.locator("[data-confirm-assign]").click()
    await page.locator(f"#by-technician [data-job='{job['id']}']").wait_for()
    assignee = await db.fetchval(
        "SELECT u.username FROM work_orders w JOIN users u ON u.id = w.assignee_id WHERE w.id = $1",
        uuid.UUID(job["id"]),
    )
    assert assignee == "tech2"
    await nav_to(page, "callbacks")
    await page.wait_for_selector("h2:has-text('回访队列')")
    assert await page.evaluate("window.__i18nMissing") == []


async def test_agent_records_a_follow_up_call_from_the_queue(
    phone, live_server, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 灯不亮")
        tech = await api_login(http, "tech1")
        base = f"/api/v1/work-orders/{job['id']}"
        await post(http, f"{base}/accept", tech, {})
        await post(http, f"{base}/arrive", tech, {})
        r = await http.post(
            f"{base}/photos",
            headers={**tech, "Idempotency-Key": str(uuid.uuid4())},
            data={"stage": "after"},
            files={"file": ("after.jpg", photo_file_bytes(), "image/jpeg")},
        )
        assert r.status_code in (200, 201), r.text
        done = ("introduce", "consent", "covers", "photo_fault", "test_explain", "clean_up")
        checklist = dict.fromkeys(done, True)
        await post(http, f"{base}/complete", tech, {"checklist": checklist, "workDone": "更换灯泡"})
        await post(http, f"{base}/sign", tech, {"noSignReason": "owner_absent"})

    page = await phone.new_page()
    await log_in(page, "agent")
    await nav_to(page, "callbacks")
    card = page.locator(f"[data-callback='{job['id']}']")
    await card.wait_for()
    assert "A-302 灯不亮" in await card.inner_text()
    assert await card.locator("a[href^='tel:']").count() == 1
    await screenshot(page, "13-callbacks")
    await card.locator("[data-reached]").check()
    await card.locator("[data-score][value='5']").check()
    await card.locator("[data-record]").click()
    await card.locator("[data-result]:has-text('已记录')").wait_for()
    row = await db.fetchrow(
        "SELECT reached, satisfaction FROM callbacks WHERE work_order_id = $1", uuid.UUID(job["id"])
    )
    assert row is not None and row["reached"] and row["satisfaction"] == 5
