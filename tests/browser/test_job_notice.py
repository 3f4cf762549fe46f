"""A supervisor tells the residents of a building that a lift job stops the lift, on the job screen at phone
size in Chinese and English: every resident of the building is queued one SMS, and the notices are listed in
the case's owner-messages history; completing the job later tells them it is back (tests/owners)."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from backend.services.intake import create_work_order
from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "zh-CN": {"title": "告知住户", "lift": "计划停梯", "told": "已通知"},
    "en": {"title": "Tell the residents", "lift": "Planned lift stop", "told": "residents told"},
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_supervisor_tells_a_building_its_lift_stops(
    phone, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    lift = await db.fetchrow(
        "SELECT id, name, building_id FROM assets WHERE kind = 'elevator' AND building_id IS NOT NULL"
        " ORDER BY code LIMIT 1"
    )
    job = await create_work_order(
        db,
        actor=None,
        site_id=site_id,
        kind="repair",
        category="elevator",
        priority=3,
        title=f"{lift['name']} 更换曳引钢丝绳",
        channel="phone",
        asset_id=lift["id"],
        now=datetime.now(UTC),
    )
    residents = await db.fetchval(
        """SELECT count(*) FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 AND r.phone IS NOT NULL""",
        lift["building_id"],
    )
    page = await phone.new_page()
    await log_in(page, "supervisor")
    if language == "en":
        await page.click("#lang")
        await page.locator("[data-nav='dispatch']:has-text('Dispatch')").wait_for()
    await page.goto(f"/#/job/{job.id}")
    card = page.locator("[data-job-notice]")
    await card.wait_for()
    assert words["title"] in await card.locator("h3").inner_text()
    await card.locator("[data-notice-open-form]").click()
    # opened and left again, then filled in for real
    await card.locator("[data-notice-cancel]").click()
    await card.locator("[data-notice-open-form]").click()
    lift_choice = card.locator("label:has(input[value='lift'])")
    assert words["lift"] in await lift_choice.inner_text()
    await lift_choice.click()
    await page.fill("#notice-note", "请走楼梯")
    boxes = await card.locator("button, label.checklist").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert all(h >= 44 for h in boxes), boxes
    await card.locator("[data-notice-send]").click()

    await card.locator("[data-notice]").wait_for()
    assert words["told"] in await card.locator("[data-notice-count]").inner_text()
    assert str(residents) in await card.locator("[data-notice-count]").inner_text()
    notice = await db.fetchrow("SELECT id, kind, note FROM planned_outages WHERE work_order_id = $1", job.id)
    assert (notice["kind"], notice["note"]) == ("lift", "请走楼梯")
    queued = await db.fetchval(
        "SELECT count(*) FROM owner_messages WHERE work_order_id = $1 AND kind = 'planned_outage'", job.id
    )
    assert queued == residents
    # recorded in the case's owner-messages history, where the desk reads it; no reply form (no home)
    # — one entry for the notice, however many residents it went to, each one's status inside
    group = page.locator(f"#owner-messages [data-owner-group='{residents}']")
    await group.wait_for()
    assert await page.locator("#owner-messages [data-owner-group]").count() == 1
    assert str(residents) in await group.locator(".muted.small").first.inner_text()
    assert await group.locator("[data-owner-message]").count() == residents
    await group.locator("summary").click()
    await group.locator("[data-owner-message]").first.wait_for()
    assert await page.locator("#owner-messages form.owner-reply").is_hidden()
    await card.scroll_into_view_if_needed()
    await screenshot(page, f"80-job-resident-notice-{language}")
