"""Appointments, promises and callback campaigns in the app, at phone size, in both languages.

The phones keep New York time while the site keeps Shanghai's: the appointment is typed and shown on the
site's clock. The dispatcher sets it while assigning; the technician sees it on the job and, after a late
arrival, "missed appointment, N min late" with N from the server. The agent records a promise on the job,
then works an entry of the month's routine sample to an outcome.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from playwright.async_api import Page

from backend.db.pool import create_pool
from backend.domain.clock import SystemClock
from backend.scheduling import JobContext, draw_routine_samples
from tests.browser.conftest import PHONE_VIEWPORT, log_in, screenshot, wait_until
from tests.browser.test_complaint_desk import use_language
from tests.browser.test_technician_offline import api_login, post

pytestmark = pytest.mark.browser

SITE_ZONE = ZoneInfo("Asia/Shanghai")
PHONE_ZONE = "America/New_York"


async def phone_page(chromium, live_server, locale: str):
    context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True,
        base_url=live_server.url, locale=locale, timezone_id=PHONE_ZONE,
    )  # fmt: skip
    return context, await context.new_page()


async def big_enough(page: Page, selector: str) -> None:
    box = await page.locator(selector).first.bounding_box()
    assert box is not None and box["height"] >= 44, (selector, box)


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_appointment_set_at_dispatch_on_the_site_clock_and_missed_flag_on_the_job_seed_rule(
    chromium, live_server, db: asyncpg.Connection, locale: str
) -> None:
    """Digest §3.1 row 18 (维修预约后未按时到达): agreed at dispatch for tomorrow 10:30 in Shanghai, typed
    as 10:30 on a phone that keeps New York time; the technician who arrives late sees the miss and by how
    much, as the server counted it."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent_api = await api_login(http, "agent")
        job = await post(http, "/api/v1/work-orders", agent_api,
                         {"kind": "repair", "category": "water", "channel": "phone", "title": "龙头滴水",
                          "building": "A", "unitNumber": "301", "inHome": False})  # fmt: skip
    tomorrow = (datetime.now(SITE_ZONE) + timedelta(days=1)).date()
    agreed = datetime.combine(tomorrow, time(10, 30), tzinfo=SITE_ZONE)
    context, page = await phone_page(chromium, live_server, locale)
    try:
        await log_in(page, "agent")
        await use_language(page, locale)
        await page.goto("/#/dispatch")
        card = page.locator(f"[data-job='{job['id']}']").first
        await card.locator("[data-open-assign]").click()
        await card.locator("[data-appointment]").wait_for()
        await card.locator("[data-appointment]").fill(agreed.strftime("%Y-%m-%dT%H:%M"))
        await card.locator("[data-assign]").click()
        confirm = await card.locator("[data-confirm-text]").inner_text()
        assert agreed.strftime("%H:%M") in confirm
        await big_enough(page, "[data-confirm-assign]")
        await screenshot(page, f"appointment-dispatch-{locale}")
        await card.locator("[data-confirm-assign]").click()
        await wait_until(page, f"!document.querySelector(\"[data-job='{job['id']}'] [data-confirm-assign]\")")
        stored = await db.fetchval("SELECT appointment_at FROM work_orders WHERE id = $1", job["id"])
        assert stored == agreed
    finally:
        await context.close()
    # the agreed time has come and gone (the visit was agreed earlier for a time now 75 min past)
    await db.execute(
        "UPDATE work_orders SET appointment_at = now() - interval '75 minutes' WHERE id = $1", job["id"]
    )
    context, page = await phone_page(chromium, live_server, locale)
    try:
        await log_in(page, "tech1")
        await use_language(page, locale)
        await page.goto(f"/#/job/{job['id']}")
        await page.wait_for_selector("#appointment")
        assert await page.locator("#missed-appointment").count() == 0
        await page.click("[data-action='accept']")
        await page.wait_for_selector("[data-action='arrive']")
        await page.click("[data-action='arrive']")
        await page.wait_for_selector("#missed-appointment", timeout=15_000)
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            tech_api = await api_login(http, "tech1")
            detail = (await http.get(f"/api/v1/work-orders/{job['id']}", headers=tech_api)).json()
        late = detail["resolution"]["missedAppointment"]["lateMinutes"]
        flag = await page.inner_text("#missed-appointment")
        assert str(late) in flag
        assert ("预约未准时" if locale == "zh-CN" else "Missed appointment") in flag
        assert await page.evaluate("window.__i18nMissing.length") == 0
        await screenshot(page, f"appointment-missed-{locale}")
    finally:
        await context.close()
    told = await db.fetchval(
        """SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'missed_appointment' AND u.username = 'supervisor'
             AND n.data->>'workOrderId' = $1""",
        job["id"],
    )
    assert told == 1


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_agent_records_a_promise_and_works_a_campaign_call_to_an_outcome(
    chromium, live_server, db: asyncpg.Connection, db_url: str, locale: str
) -> None:
    """A promise typed as 15:00 on the site's clock is kept on screen; the month's routine sample is drawn
    and the agent records a reached resident, satisfied 4, on the first entry of the worklist."""
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        assert await draw_routine_samples(JobContext(pool=pool, clock=SystemClock())) > 0
    finally:
        await pool.close()
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent_api = await api_login(http, "agent")
        job = await post(http, "/api/v1/work-orders", agent_api,
                         {"kind": "repair", "category": "water", "channel": "phone", "title": "阳台漏水",
                          "building": "A", "unitNumber": "302", "inHome": False})  # fmt: skip
    due = datetime.combine(
        (datetime.now(SITE_ZONE) + timedelta(days=1)).date(), time(15, 0), tzinfo=SITE_ZONE
    )
    context, page = await phone_page(chromium, live_server, locale)
    try:
        await log_in(page, "agent")
        await use_language(page, locale)
        await page.goto(f"/#/job/{job['id']}")
        await page.wait_for_selector("#promise-form")
        await page.fill("#promise-text", "明天下午 3 点前回复维修安排")
        await page.fill("#promise-due", due.strftime("%Y-%m-%dT%H:%M"))
        await page.click("#promise-add")
        await page.wait_for_selector("[data-promise-state='open']")
        stored = await db.fetchval("SELECT due_at FROM promises WHERE work_order_id = $1", job["id"])
        assert stored == due
        await page.click("[data-keep]")
        await page.wait_for_selector("[data-promise-state='kept']")
        await page.locator("#promises-card").scroll_into_view_if_needed()
        await screenshot(page, f"promise-kept-{locale}")

        await page.goto("/#/callbacks")
        first = page.locator("[data-campaign-call]").first
        await first.wait_for()
        await first.locator("[data-outcome][value='reached']").check()
        await first.locator("[data-campaign-score]").select_option("4")
        await first.locator("[data-campaign-notes]").fill("业主满意，无其他问题")
        await big_enough(page, "[data-campaign-record]")
        await first.locator("[data-campaign-record]").click()
        await first.locator("[data-campaign-result]:not(.hidden)").wait_for()
        result = await first.locator("[data-campaign-result]").inner_text()
        assert ("已接通" if locale == "zh-CN" else "Reached") in result
        assert await page.evaluate("window.__i18nMissing.length") == 0
        await first.scroll_into_view_if_needed()
        await screenshot(page, f"campaign-call-{locale}")
        # the supervisor's dashboard counts the call: 1 worked, 1 reached
        await page.click("#logout")
        await log_in(page, "supervisor")
        await page.goto("/#/dashboard")
        tile = page.locator("[data-kpi='campaign-routineSample']")
        await tile.wait_for(timeout=15_000)
        assert (await tile.locator("[data-value]").inner_text()).strip() == "100%"
        assert ("接通 1/1" if locale == "zh-CN" else "reached 1/1") in await tile.inner_text()
        await tile.scroll_into_view_if_needed()
        await screenshot(page, f"campaign-dashboard-{locale}")
    finally:
        await context.close()
    worked = await db.fetchrow(
        """SELECT outcome, satisfaction, called_at IS NOT NULL AS called
           FROM campaign_calls WHERE outcome IS NOT NULL"""
    )
    assert (worked["outcome"], worked["satisfaction"], worked["called"]) == ("reached", 4, True)
