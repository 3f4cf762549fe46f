"""A supervisor looks over the estate's maintenance plans at phone size and sets what a lift's service
interrupts for its building: the plan then says so, the database holds it, a save with no network keeps what
was picked, and the screen reads in English too."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from backend.db.queries import plans as plan_queries
from backend.services.maintenance import DEFAULT_LEAD_DAYS, ELEVATOR_INTERVAL_DAYS
from tests.browser.conftest import log_in, nav_to, screenshot, wait_for_service_worker, wait_until

pytestmark = [pytest.mark.browser]


async def test_a_supervisor_sets_what_a_lifts_service_tells_its_building(
    phone, live_server, db: asyncpg.Connection
) -> None:
    # the scheduler's job: a plan for every asset with an interval (lifts always)
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    async with db.transaction():
        await plan_queries.create_default_plans(
            db, site_id, datetime.now(UTC), ELEVATOR_INTERVAL_DAYS, DEFAULT_LEAD_DAYS
        )
    plans = await db.fetch(
        """SELECT p.id, p.title, a.kind, a.name FROM maintenance_plans p JOIN assets a ON a.id = p.asset_id
           WHERE p.site_id = $1 ORDER BY p.next_due_on, p.title, p.id""",
        site_id,
    )
    assert plans, "the demo estate has assets with a maintenance interval"
    lift = next(p for p in plans if p["kind"] == "elevator")

    page = await phone.new_page()
    await log_in(page, "supervisor")
    await wait_for_service_worker(page)
    await nav_to(page, "plans")
    card = page.locator(f"[data-plan='{lift['id']}']")
    await card.wait_for()
    assert await page.locator("[data-plan]").count() == min(len(plans), 50)
    text = await card.inner_text()
    assert lift["name"] in text and "每 15 天" in text and "不通知住户" in text
    await screenshot(page, "plans-list-zh")

    # 停梯: told two days ahead, for three hours
    await card.locator("[data-notice-edit] summary").click()
    form = card.locator("[data-notice-form]")
    await form.locator("select[name=kind]").select_option("lift")
    await form.locator("input[name=lead]").fill("48")
    await form.locator("input[name=window]").fill("3")
    await screenshot(page, "plans-notice-form-zh")
    await form.locator("button[type=submit]").click()
    await card.locator("[data-notice-result]:has-text('已保存')").wait_for()
    assert await card.locator("[data-notice]").inner_text() == "计划停梯：提前 48 小时通知，影响约 3 小时"
    stored = await db.fetchrow(
        "SELECT notice_kind, notice_lead_hours, notice_window_hours FROM maintenance_plans WHERE id = $1",
        lift["id"],
    )
    assert tuple(stored) == ("lift", 48, 3)

    # out of range: the phone asks again before sending anything
    await form.locator("input[name=window]").fill("0")
    await form.locator("button[type=submit]").click()
    assert await form.locator("input[name=window]").evaluate("e => !e.validity.valid")
    window = await db.fetchval("SELECT notice_window_hours FROM maintenance_plans WHERE id = $1", lift["id"])
    assert window == 3

    # no network: not saved, said so, and what was picked is still there to send again
    await form.locator("input[name=window]").fill("5")
    await form.locator("select[name=kind]").select_option("power")
    await phone.set_offline(True)
    await form.locator("button[type=submit]").click()
    await card.locator("[data-notice-result]:has-text('没有网络')").wait_for()
    assert await form.locator("select[name=kind]").input_value() == "power"
    assert await form.locator("input[name=window]").input_value() == "5"
    await phone.set_offline(False)
    await form.locator("button[type=submit]").click()
    await card.locator("[data-notice-result]:has-text('已保存')").wait_for()
    stored = await db.fetchrow(
        "SELECT notice_kind, notice_window_hours FROM maintenance_plans WHERE id = $1", lift["id"]
    )
    assert tuple(stored) == ("power", 5)

    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await page.locator(f"[data-plan='{lift['id']}'] [data-notice]:has-text('told 48 h ahead')").wait_for()
    assert "Every 15 days" in await page.locator(f"[data-plan='{lift['id']}']").inner_text()
    await screenshot(page, "plans-list-en")
    assert await page.evaluate("window.__i18nMissing") == []
