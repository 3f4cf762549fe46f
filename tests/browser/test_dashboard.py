"""The manager's dashboard in Chromium: real KPIs of a known estate in Chinese and English, at phone and
desk size, with charts, the technician table, the overdue list linking to jobs, and the period pickers.

The estate is the hand-checked one of tests/integration/test_kpis.py (site `kpi`, March 1-14 of
report_rows.YEAR, a stretch in the past); every number on screen is compared with what
GET /api/v1/reports/kpis answers for the same site and period.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Download, Page

from tests.browser.conftest import PHONE_VIEWPORT, LiveServer, log_in, screenshot
from tests.browser.test_shell import catalogue
from tests.browser.test_technician_offline import api_login
from tests.integration import report_rows as rows
from tests.integration.report_rows import day
from tests.integration.test_csv import parse as parse_csv
from tests.integration.test_kpis import known_estate

pytestmark = pytest.mark.browser

DESK_VIEWPORT = {"width": 1280, "height": 800}
PERIOD = {"site": "kpi", "from": day("03-01"), "to": day("03-14")}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def percent(rate: float | None) -> str:
    """A rate as Intl shows it with one decimal at most (the same in zh-CN and en)."""
    return "—" if rate is None else f"{round(rate * 100, 1):g}%"


async def report_json(
    http: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> dict[str, Any]:
    """The KPI endpoint's answer the dashboard must show."""
    r = await http.get("/api/v1/reports/kpis", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def overdue_jobs(http: httpx.AsyncClient, headers: dict[str, str], site: str) -> list[dict[str, Any]]:
    """The site's overdue work orders, most urgent first, as the list endpoint gives them."""
    r = await http.get("/api/v1/work-orders", params={"site": site, "overdue": "true"}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def tile_value(page: Page, key: str) -> str:
    """The big number of one KPI tile."""
    return (await page.inner_text(f"[data-kpi='{key}'] [data-value]")).strip()


async def show_known_period(page: Page, site_id: str) -> None:
    """Pick the `kpi` estate and the custom period of the known fortnight, and wait for its numbers."""
    await page.select_option("#dash-site", site_id)
    await page.click("[data-preset='custom']")
    await page.fill("#dash-from", PERIOD["from"])
    await page.fill("#dash-to", PERIOD["to"])
    await page.click("#dash-apply")
    await wait_loaded(page, f"{site_id}:{PERIOD['from']}:{PERIOD['to']}")


async def wait_loaded(page: Page, key: str) -> None:
    """Wait until the dashboard shows the report of this site:from:to."""
    await page.wait_for_selector(f"#dash-body[data-loaded='{key}']:not([aria-busy])", timeout=10_000)


async def check_numbers(page: Page, report: dict[str, Any], lang: str) -> None:
    """Tiles, technician rows and the trend table against the endpoint's JSON."""
    assert await tile_value(page, "response") == percent(report["response"]["onTimeRate"])
    assert await tile_value(page, "arrival") == percent(report["arrival"]["onTimeRate"])
    assert await tile_value(page, "resolution") == percent(report["resolution"]["onTimeRate"])
    assert await tile_value(page, "callback") == percent(report["callback"]["onTimeRate"])
    assert await tile_value(page, "complaintCallback") == percent(report["callback"]["complaintRate"])
    assert await tile_value(page, "reopen") == percent(report["reopen"]["rate"])
    assert await tile_value(page, "satisfaction") == f"{report['satisfaction']['average']:g} / 5"
    assert await tile_value(page, "total") == str(report["total"])
    assert await tile_value(page, "alarms") == str(report["alarms"]["total"])
    assert await tile_value(page, "open") == str(report["now"]["open"])
    assert await tile_value(page, "overdue") == str(report["now"]["overdue"])
    # 67.5 s median acknowledgement; the unit is the language's own
    ack = await tile_value(page, "alarmAck")
    assert ack.startswith(f"{report['alarms']['ackP50Seconds']:g}"), ack
    assert ("秒" in ack) == (lang == "zh")
    # Complaint callbacks are flagged against the 100 % target.
    tile_class = await page.get_attribute("[data-kpi='complaintCallback']", "class")
    assert "bad" in (tile_class or "")
    response_sub = await page.inner_text("[data-kpi='response']")
    on_time, due = report["response"]["onTime"], report["response"]["due"]
    assert re.search(rf"\b{on_time}\D+{due}\b", response_sub), response_sub

    rows = page.locator("#dash-technicians tbody tr")
    assert await rows.count() == len(report["technicians"])
    for tech in report["technicians"]:
        row = page.locator(f"#dash-technicians tr[data-tech='{tech['username']}']")
        assert (await row.locator("[data-col='openNow']").inner_text()).strip() == str(tech["openNow"])
        assert (await row.locator("[data-col='completed']").inner_text()).strip() == str(tech["completed"])
        arrival = await row.locator("[data-col='arrival']").inner_text()
        assert arrival.startswith(percent(tech["arrivalOnTimeRate"])), arrival

    trend = {
        c["category"]: c for c in report["complaints"]["byCategory"]
    }  # attitude 2 vs 1, fee_dispute 1 vs 0, facilities 0 vs 1
    cells = page.locator("#dash-complaint-trend tbody tr")
    assert await cells.count() == len(trend)
    attitude = await page.inner_text("#dash-complaint-trend tr[data-category='attitude']")
    assert "+1" in attitude and "+100%" in attitude


async def check_charts(page: Page) -> None:
    """Each chart is a drawn uPlot canvas with a real size."""
    for key in ("complaints", "kinds", "alarms"):
        canvas = page.locator(f"[data-chart='{key}'] canvas")
        assert await canvas.count() == 1, key
        box = await canvas.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, (key, box)
    # Two series (this and previous period) are named in the complaints chart's legend.
    names = await page.locator("[data-chart='complaints'] .u-legend .u-series").all_inner_texts()
    assert len([name for name in names if name.strip()]) == 2, names


async def nothing_cut_off(page: Page) -> None:
    """No tile, card or the page itself is wider than the screen (tables scroll inside their card)."""
    overflow = await page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll(
                '.kpi-tile, .card, .dash-filters button, .dash-filters input, .dash-filters select')]
              .filter((el) => el.getBoundingClientRect().right > width + 1)
              .map((el) => el.dataset.kpi || el.id || el.className);
            return { scroll: document.documentElement.scrollWidth > width, wide };
        }"""
    )
    assert overflow == {"scroll": False, "wide": []}, overflow


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE_VIEWPORT), ("desk", DESK_VIEWPORT)])
async def test_manager_sees_the_kpis_of_a_known_estate_in_both_languages(
    chromium: Browser, live_server: LiveServer, db: asyncpg.Connection, size: str, viewport: dict[str, int]
) -> None:
    await known_estate(db)
    site_id = str(await db.fetchval("SELECT id FROM sites WHERE code = 'kpi'"))
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        manager = await api_login(http, "manager")
        report = await report_json(http, manager, PERIOD)
        jobs = await overdue_jobs(http, manager, "kpi")
    # the list under the overdue tile is the report's own: the same jobs the tile counts, most overdue first
    overdue = [job["id"] for job in report["now"]["overdueList"]]
    assert sorted(overdue) == sorted(job["id"] for job in jobs) and len(overdue) == report["now"]["overdue"]
    # People's names are data, not interface ("张客服" contains the word for agent).
    names = {job["assigneeName"] for job in jobs if job["assigneeName"]}
    names |= {tech["displayName"] for tech in report["technicians"]}
    assert report["now"]["overdue"] >= 2 and report["total"] == 10  # the estate really has numbers

    context = await chromium.new_context(
        viewport=viewport,
        device_scale_factor=2,
        is_mobile=size == "phone",
        has_touch=size == "phone",
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    try:
        page = await context.new_page()
        await log_in(page, "manager")
        # The manager's home screen is the dashboard, on the last 30 days of the first estate.
        await page.wait_for_selector("h2:has-text('运营看板')")
        await page.wait_for_selector("#dash-body[data-loaded]:not([aria-busy])")
        assert await page.locator("#dash-site option").count() == 2  # demo and kpi

        await show_known_period(page, site_id)
        await check_numbers(page, report, "zh")
        await check_charts(page)
        assert await page.locator("[data-kpi='response'] .kpi-label").inner_text() == "响应准时率"
        links = page.locator("#dash-overdue-list a[data-overdue-job]")
        assert [await a.get_attribute("data-overdue-job") for a in await links.all()] == overdue
        assert await page.evaluate("window.__i18nMissing") == []
        await screenshot(page, f"40-dashboard-{size}-zh")
        await nothing_cut_off(page)

        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Dashboard')")
        # The same site and period come back after the language switch.
        await wait_loaded(page, f"{site_id}:{PERIOD['from']}:{PERIOD['to']}")
        await check_numbers(page, report, "en")
        await check_charts(page)
        assert await page.locator("[data-kpi='response'] .kpi-label").inner_text() == "Response on time"
        # Names, titles and the estate's name are data; no interface message may stay in Chinese.
        text = await page.inner_text("#view")
        for name in names:
            text = text.replace(name, "")
        chinese = [m for m in catalogue("zh-CN").values() if len(m) >= 2 and re.search(r"[\u4e00-\u9fff]", m)]
        assert [m for m in chinese if m in text] == []
        assert await page.evaluate("window.__i18nMissing") == []
        await nothing_cut_off(page)
        await screenshot(page, f"41-dashboard-{size}-en")

        # An overdue job opens from the list, and going back shows the same dashboard.
        first = overdue[0]
        await page.click(f"a[data-overdue-job='{first}']")
        await page.wait_for_selector("#job-status")
        assert page.url.endswith(f"#/job/{first}")
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            job = (await http.get(f"/api/v1/work-orders/{first}", headers=manager)).json()
        assert job["title"] in await page.inner_text("#view h2")
        await page.go_back()
        await wait_loaded(page, f"{site_id}:{PERIOD['from']}:{PERIOD['to']}")
    finally:
        await context.close()


async def test_period_presets_and_custom_dates(
    phone, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    await known_estate(db)
    page = await phone.new_page()
    await log_in(page, "manager")
    await page.wait_for_selector("#dash-body[data-loaded]:not([aria-busy])")
    demo = await page.input_value("#dash-site")
    today = datetime.now(SHANGHAI).date()

    await page.click("[data-preset='7']")
    await wait_loaded(page, f"{demo}:{today - timedelta(days=6)}:{today}")
    assert await page.get_attribute("[data-preset='7']", "aria-pressed") == "true"
    await page.click("[data-preset='90']")
    await wait_loaded(page, f"{demo}:{today - timedelta(days=89)}:{today}")

    # An end before the start is refused on the spot, naming the problem; nothing is loaded.
    await page.click("[data-preset='custom']")
    await page.fill("#dash-from", PERIOD["to"])
    await page.fill("#dash-to", PERIOD["from"])
    await page.click("#dash-apply")
    error = page.locator("#dash-filter-error")
    await error.wait_for()
    assert "结束日期" in await error.inner_text()
    assert (
        await page.get_attribute("#dash-body", "data-loaded")
        == f"{demo}:{today - timedelta(days=89)}:{today}"
    )

    # Longer than the server allows (731 days): the server's reason is shown, not a blank screen.
    await page.fill("#dash-from", (today - timedelta(days=800)).isoformat())
    await page.fill("#dash-to", today.isoformat())
    await page.click("#dash-apply")
    await page.wait_for_selector("#dash-error")
    assert "731" in await page.inner_text("#dash-error")

    await page.fill("#dash-from", PERIOD["from"])
    await page.fill("#dash-to", PERIOD["to"])
    await page.click("#dash-apply")
    await wait_loaded(page, f"{demo}:{PERIOD['from']}:{PERIOD['to']}")
    assert date.fromisoformat(PERIOD["to"]) < today
    assert await page.evaluate("window.__i18nMissing") == []


async def downloaded_csv(download: Download) -> list[list[str]]:
    """The rows of a downloaded CSV, as Excel reads them."""
    return parse_csv(await asyncio.to_thread(Path(await download.path()).read_bytes))


async def test_the_manager_downloads_the_period_shown_and_empty_tiles_say_why(
    chromium: Browser, live_server: LiveServer, db: asyncpg.Connection
) -> None:
    """Desk size: the CSV button exports the site and period on screen (as many rows as the tile counts, in
    the screen's language); a site with nothing due in the period says so instead of "— 0/0"."""
    await known_estate(db)
    site_id = str(await db.fetchval("SELECT id FROM sites WHERE code = 'kpi'"))
    quiet = await rows.make_site(db, "quiet", ("manager",))
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        report = await report_json(http, await api_login(http, "manager"), PERIOD)
    context = await chromium.new_context(
        viewport=DESK_VIEWPORT, base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    try:
        page = await context.new_page()
        await log_in(page, "manager")
        await page.wait_for_selector("#dash-body[data-loaded]:not([aria-busy])")
        await show_known_period(page, site_id)
        async with page.expect_download() as download_info:
            await page.click("#dash-csv")
        download = await download_info.value
        assert download.suggested_filename.startswith("work-orders-")
        table = await downloaded_csv(download)
        assert table[0][0] == "工单号"
        assert len(table) - 1 == report["total"] == int(await tile_value(page, "total"))
        await page.locator("#dash-csv-note:has-text('已下载')").wait_for()

        # Nothing due at all: each rate tile says why instead of looking broken.
        await page.select_option("#dash-site", str(quiet))
        await wait_loaded(page, f"{quiet}:{PERIOD['from']}:{PERIOD['to']}")
        for key in ("response", "arrival", "resolution", "callback"):
            text = await page.inner_text(f"[data-kpi='{key}']")
            assert "本期没有到期的" in text and "0 / 0" not in text, (key, text)
            assert await page.get_attribute(f"[data-kpi='{key}']", "data-empty") is not None
        assert "本期还没有业主评价" in await page.inner_text("[data-kpi='satisfaction']")
        await screenshot(page, "42-dashboard-nothing-due-desk-zh")

        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Dashboard')")  # the old key stays up until then
        await wait_loaded(page, f"{quiet}:{PERIOD['from']}:{PERIOD['to']}")
        assert "Nothing due in the period" in await page.inner_text("[data-kpi='response']")
        await screenshot(page, "43-dashboard-nothing-due-desk-en")
        await page.select_option("#dash-site", site_id)
        await wait_loaded(page, f"{site_id}:{PERIOD['from']}:{PERIOD['to']}")
        async with page.expect_download() as download_info:
            await page.click("#dash-csv")
        table = await downloaded_csv(await download_info.value)
        assert table[0][0] == "Number" and len(table) - 1 == report["total"]
        assert await page.evaluate("window.__i18nMissing") == []
    finally:
        await context.close()
