"""Planned cuts and the guard's visits at phone size, in both languages: a manager announces a water cut for
a building (each resident gets one SMS notice), the guard's console lists the building's vulnerable residents
to visit — unit, family name, need, no phone — and one is marked visited; the manager marks it restored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from playwright.async_api import BrowserContext

from tests.browser.conftest import LiveServer, log_in, nav_to, screenshot, wait_until

SITE_ZONE = ZoneInfo("Asia/Shanghai")


def _local(moment: datetime) -> str:
    """A datetime-local field's value at the site (the phone's time zone in these tests)."""
    return moment.astimezone(SITE_ZONE).strftime("%Y-%m-%dT%H:%M")


async def test_a_planned_water_cut_is_announced_and_the_guard_visits_the_vulnerable(
    phone: BrowserContext, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    building = await db.fetchrow("SELECT id, name FROM buildings WHERE code = 'A'")
    await db.execute(
        """UPDATE residents SET vulnerable = true, vulnerable_need = '独居老人，行动不便，需送水上门'
           WHERE id = (SELECT r.id FROM residents r JOIN units u ON u.id = r.unit_id
                       WHERE u.building_id = $1 ORDER BY u.number LIMIT 1)""",
        building["id"],
    )
    vulnerable = await db.fetch(
        """SELECT r.id, r.phone FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 AND r.vulnerable""",
        building["id"],
    )
    now = datetime.now(UTC)
    page = await phone.new_page()
    await log_in(page, "manager")
    await nav_to(page, "outages")
    await page.wait_for_selector("#outage-form")
    await page.select_option("#outage-building", str(building["id"]))
    await page.select_option("#outage-kind", "water")
    await page.fill("#outage-start", _local(now + timedelta(minutes=30)))
    await page.fill("#outage-end", _local(now + timedelta(hours=4)))
    await page.fill("#outage-note", "二次供水水箱清洗")
    await page.click("#outage-send")
    await page.wait_for_selector("[data-restore]")
    outage_id = await page.get_attribute("[data-restore]", "data-restore")
    residents = await db.fetchval(
        """SELECT count(*) FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE u.building_id = $1 AND r.phone IS NOT NULL""",
        building["id"],
    )
    queued = await db.fetchval(
        "SELECT count(*) FROM owner_messages WHERE planned_outage_id = $1::uuid AND kind = 'planned_outage'",
        outage_id,
    )
    assert queued == residents > 0
    await screenshot(page, "outages-planned-zh")
    await page.click("#logout")

    await log_in(page, "guard1")
    await page.wait_for_selector(f"[data-outage-card='{outage_id}']")
    card = page.locator(f"[data-outage-card='{outage_id}']")
    assert await card.locator("li.visit").count() == len(vulnerable)
    text = await card.inner_text()
    assert "需送水上门" in text and building["name"] in text
    assert all(v["phone"] not in text for v in vulnerable if v["phone"])
    first = str(vulnerable[0]["id"])
    await page.click(f"[data-visit='{first}']")
    await page.wait_for_selector(f"[data-visited='{first}']")
    assert await db.fetchval("SELECT count(*) FROM outage_visits WHERE outage_id = $1::uuid", outage_id) == 1
    await card.scroll_into_view_if_needed()
    await screenshot(page, "outages-guard-visits-zh")
    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await page.wait_for_selector(f"[data-visited='{first}']")
    assert "Visited" in await page.inner_text(f"[data-visited='{first}']")
    await screenshot(page, "outages-guard-visits-en")
    assert await page.evaluate("window.__i18nMissing") == []
    await page.click("#logout")

    await log_in(page, "manager")
    await nav_to(page, "outages")
    await page.click(f"[data-restore='{outage_id}']")
    await page.wait_for_selector(f"[data-planned='{outage_id}'] .badge.ready")
    assert "Restored" in await page.inner_text(f"[data-planned='{outage_id}']")
    restored = await db.fetchval(
        """SELECT count(*) FROM owner_messages
           WHERE planned_outage_id = $1::uuid AND kind = 'building_restored'""",
        outage_id,
    )
    assert restored == residents
    await screenshot(page, "outages-planned-en")
    assert await page.evaluate("window.__i18nMissing") == []
