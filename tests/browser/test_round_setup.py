"""The supervisor lays out rounds on the phone — a new point (renamed after), a route over two points in
walking order, a schedule at fixed times switched off again, the site's QR sheet — and reads the report of
the shift going on now, in Chinese and in English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from backend.domain import rounds as rules
from tests.browser.conftest import log_in, nav_to, screenshot

pytestmark = pytest.mark.browser


def shift_started(now: datetime, tz: ZoneInfo) -> datetime:
    """When the shift going on now began (the report opens on it), in UTC."""
    local = now.astimezone(tz)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for shift in ("night", "day"):
            start, end = rules.shift_bounds(day, shift, tz)
            if start <= now < end:
                return start
    raise AssertionError(f"no shift holds {now}")


async def a_round_this_shift(db: asyncpg.Connection) -> None:
    """A round of the night route that started five minutes ago, or as the shift began if that was later
    (inside the shift going on now whatever the time of day): guard1 scanned two points, the second late
    and abnormal."""
    zone = ZoneInfo(await db.fetchval("SELECT timezone FROM sites WHERE code = 'demo'"))
    started = max(datetime.now(UTC) - timedelta(minutes=5), shift_started(datetime.now(UTC), zone))
    route = await db.fetchval("SELECT id FROM round_routes WHERE name = '夜间巡逻'")
    guard = await db.fetchval("SELECT id FROM users WHERE username = 'guard1'")
    round_id = await db.fetchval(
        """INSERT INTO rounds (site_id, route_id, slot_start, slot_end, status, started_by, started_at)
           SELECT site_id, id, $2::timestamptz, $2::timestamptz + interval '1 minute', 'incomplete', $3, $2
           FROM round_routes WHERE id = $1 RETURNING id""",
        route,
        started,
        guard,
    )
    for position, result, flags in ((1, "normal", []), (2, "abnormal", ["late"])):
        await db.execute(
            """INSERT INTO round_scans (round_id, check_point_id, position, scanned_by, scanned_at,
                                        received_at, result, flags)
               SELECT $1, check_point_id, position, $3, $4, $4, $5, $6 FROM round_route_points
               WHERE route_id = $2 AND position = $7""",
            round_id,
            route,
            guard,
            started + timedelta(seconds=position),
            result,
            flags,
            position,
        )


async def test_the_supervisor_lays_out_rounds_and_reads_the_shift_report(
    phone, live_server, db: asyncpg.Connection
) -> None:
    await a_round_this_shift(db)
    page = await phone.new_page()
    await log_in(page, "supervisor")
    await nav_to(page, "rounds")
    await page.click("#rounds-setup")
    await page.wait_for_selector("#new-point")

    # a new point, then renamed
    await page.fill("#new-point-name", "5栋大堂")
    await page.fill("#new-point-place", "5栋一层")
    await page.click("#new-point button[type='submit']")
    await page.wait_for_selector("#setup-points .setup-item:has-text('5栋大堂')")
    point_id = str(await db.fetchval("SELECT id FROM check_points WHERE name = '5栋大堂'"))
    await page.click(f"[data-toggle-edit='{point_id}']")
    await page.fill(f"[data-edit-point='{point_id}'] input[name='name']", "5栋南大堂")
    await page.click(f"[data-edit-point='{point_id}'] button[type='submit']")
    await page.wait_for_selector("#setup-points .setup-item:has-text('5栋南大堂')")
    # a name another point has is refused in words, not a code
    await page.click(f"[data-toggle-edit='{point_id}']")
    await page.fill(f"[data-edit-point='{point_id}'] input[name='name']", "1栋大堂")
    await page.click(f"[data-edit-point='{point_id}'] button[type='submit']")
    await page.wait_for_selector("#setup-error:has-text('这个名称已被使用')")

    # a route over two points, ticked in walking order: the new point first, then the south gate
    gate = str(await db.fetchval("SELECT id FROM check_points WHERE name = '南门岗亭'"))
    await page.fill("#new-route-name", "白天巡查")
    await page.fill("#new-route-minutes", "20")
    await page.check(f"[data-route-point][value='{point_id}']")
    await page.check(f"[data-route-point][value='{gate}']")
    assert await page.inner_text(f"[data-order='{gate}']") == "2."
    await screenshot(page, "round-setup-01-new-route")
    await page.click("#new-route button[type='submit']")
    await page.wait_for_selector("#setup-routes .setup-item:has-text('白天巡查')")
    route = await db.fetchrow("SELECT id, expected_minutes FROM round_routes WHERE name = '白天巡查'")
    order = await db.fetch(
        "SELECT check_point_id FROM round_route_points WHERE route_id = $1 ORDER BY position", route["id"]
    )
    assert [str(r["check_point_id"]) for r in order] == [point_id, gate] and route["expected_minutes"] == 20

    # a schedule at fixed times, then switched off
    await page.select_option("#new-schedule-route", str(route["id"]))
    await page.check("input[name='schedule-kind'][value='fixed']")
    await page.fill("#new-schedule-times", "10:00，16:00")
    await page.click("#new-schedule button[type='submit']")
    await page.wait_for_selector("#setup-schedules .setup-item:has-text('白天巡查')")
    schedule = await db.fetchrow(
        "SELECT id, fixed_times, active FROM round_schedules WHERE route_id = $1", route["id"]
    )
    assert [t.strftime("%H:%M") for t in schedule["fixed_times"]] == ["10:00", "16:00"] and schedule["active"]
    await page.click(f"[data-schedule='{schedule['id']}']")
    await page.wait_for_selector(f"[data-schedule='{schedule['id']}'][data-schedule-active='true']")
    assert await db.fetchval("SELECT active FROM round_schedules WHERE id = $1", schedule["id"]) is False
    await screenshot(page, "round-setup-02-laid-out")

    # the site's QR sheet: one code per active point, styled for A4
    async with phone.expect_page() as opened:
        await page.click("#site-sheet")
    sheet = await opened.value
    await sheet.wait_for_selector("svg")
    active = await db.fetchval("SELECT count(*) FROM check_points WHERE active")
    assert await sheet.locator("svg").count() == active
    assert "5栋南大堂" in await sheet.inner_text("body")
    assert await sheet.evaluate("getComputedStyle(document.querySelector('.sheet')).display") == "grid"
    await screenshot(sheet, "round-setup-03-qr-sheet")
    await sheet.close()

    # the report of the shift going on now
    await page.goto("/#/rounds/report")
    await page.wait_for_selector("#report-totals")
    card = page.locator(".report-round:has-text('夜间巡逻')")
    assert await card.locator("[data-count='done']").inner_text() == "1"  # on time
    assert await card.locator("[data-count='late']").inner_text() == "1"
    assert await card.locator("[data-count='abnormal']").inner_text() == "1"
    points = await db.fetchval(
        """SELECT count(*) FROM round_route_points rp JOIN round_routes r ON r.id = rp.route_id
           WHERE r.name = '夜间巡逻'"""
    )
    assert await card.locator("[data-count='missed']").inner_text() == str(points - 2)
    await screenshot(page, "round-report-01")
    await page.click("#lang")
    await page.wait_for_selector("#report-totals:has-text('Shift totals')")
    assert "Late" in await page.inner_text(".report-round")
    await screenshot(page, "round-report-02-english")
    assert await page.evaluate("window.__i18nMissing.length") == 0


async def test_a_manager_of_two_sites_lays_out_rounds_on_the_one_picked(
    phone, live_server, db: asyncpg.Connection
) -> None:
    first = await db.fetchval("SELECT s.id FROM sites s ORDER BY s.code LIMIT 1")
    second = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ('north', '北苑', 'Asia/Shanghai') RETURNING id"
    )
    await db.execute(
        "INSERT INTO user_sites (user_id, site_id) SELECT id, $1 FROM users WHERE username = 'manager'",
        second,
    )
    page = await phone.new_page()
    await log_in(page, "manager")
    await page.goto("/#/rounds/setup")
    await page.wait_for_selector("#setup-site")
    assert await page.input_value("#setup-site") == str(first)
    assert await page.locator("#setup-points .setup-item").count() > 0  # the first site's points

    # the second site: empty so far; a point added there lands there, and the screen stays on it
    await page.select_option("#setup-site", str(second))
    await page.wait_for_selector("#setup-points .setup-item", state="detached")
    await page.fill("#new-point-name", "北苑东门")
    await page.click("#new-point button[type='submit']")
    await page.wait_for_selector("#setup-points .setup-item:has-text('北苑东门')")
    assert await page.input_value("#setup-site") == str(second)
    assert await db.fetchval("SELECT site_id FROM check_points WHERE name = '北苑东门'") == second
    assert await page.locator("#setup-points .setup-item").count() == 1
    await screenshot(page, "round-setup-04-second-site")

    # a route over that point is a route of the second site, listed on it and not on the first
    point = str(await db.fetchval("SELECT id FROM check_points WHERE name = '北苑东门'"))
    await page.fill("#new-route-name", "北苑夜巡")
    await page.check(f"[data-route-point][value='{point}']")
    await page.click("#new-route button[type='submit']")
    await page.wait_for_selector("#setup-routes .setup-item:has-text('北苑夜巡')")
    assert await db.fetchval("SELECT site_id FROM round_routes WHERE name = '北苑夜巡'") == second
    await page.select_option("#setup-site", str(first))
    await page.wait_for_selector("#setup-points .setup-item:has-text('南门岗亭')")
    assert await page.locator("#setup-routes .setup-item:has-text('北苑夜巡')").count() == 0
