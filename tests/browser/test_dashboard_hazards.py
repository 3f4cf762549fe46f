"""The manager's dashboard counts the hazard ledger: open, overdue and closed per risk level, overdue ones
marked, at phone size in Chinese and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser]

HEADINGS = {"zh-CN": "安全隐患台账", "en": "Hazard ledger"}


async def _hazard(db: asyncpg.Connection, n: int, risk: str, status: str, due_at: datetime | None) -> None:
    await db.execute(
        """INSERT INTO hazards (number, site_id, source, place, description, risk_level, status, reported_at,
                                due_at)
           SELECT $1, id, 'manual', '地下车库', '照明不足', $2, $3, $4, $5 FROM sites WHERE code = 'demo'""",
        f"YH-D{n:05d}",
        risk,
        status,
        datetime.now(UTC) - timedelta(days=5),
        due_at,
    )


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_dashboard_counts_hazards_by_risk(phone, db: asyncpg.Connection, language: str) -> None:
    now = datetime.now(UTC)
    await _hazard(db, 1, "major", "analysed", now - timedelta(days=1))  # open and overdue
    await _hazard(db, 2, "major", "controlled", now + timedelta(days=3))  # open
    await _hazard(db, 3, "high", "closed", now - timedelta(days=2))  # closed (never overdue)
    await _hazard(db, 4, "low", "registered", None)  # open, no deadline yet
    page = await phone.new_page()
    await log_in(page, "manager")
    if language == "en":
        await page.click("#lang")
        # the dashboard drawn again in English: the Chinese drawing's table must not be the one read
        await page.wait_for_selector("h2:has-text('Dashboard')")
    await page.goto("/#/dashboard")
    table = page.locator("[data-hazard-counts]")
    await table.wait_for()
    assert HEADINGS[language] in await page.locator("#dash-hazards h3").inner_text()

    async def cell(risk: str, column: str) -> str:
        return await table.locator(f"tr[data-risk='{risk}'] td[data-col='{column}']").inner_text()

    assert [await cell("major", c) for c in ("open", "overdue", "closed")] == ["2", "1", "0"]
    assert [await cell("high", c) for c in ("open", "overdue", "closed")] == ["0", "0", "1"]
    assert [await cell("low", c) for c in ("open", "overdue", "closed")] == ["1", "0", "0"]
    assert [await cell("total", c) for c in ("open", "overdue", "closed")] == ["3", "1", "1"]
    overdue = table.locator("tr[data-risk='major'] td[data-col='overdue']")
    assert "bad" in (await overdue.get_attribute("class") or "")
    await page.locator("#dash-hazards").scroll_into_view_if_needed()
    await screenshot(page, f"74-dashboard-hazards-{language}")
