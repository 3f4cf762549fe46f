"""Emergency plans that run themselves, at phone size in Chinese and English: an entrapment alarm shows its
plan's steps on the guard's console (overdue ones marked from the server's due times, the numbers to call),
the guard ticks a step and the record says who and when; the same checklist is on the technician's emergency
job, where a step is ticked too and a hazard found on the job is sent offline and lands once, linked to the
job, with its photo — even though the technician left the screen and the app restarted before the signal came
back. A power-cut alarm lists the vulnerable residents of the building hit.

The alarm is raised through the alarm service exactly as the gateway does (as test_guard_alerts.py does).
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from PIL import Image
from playwright.async_api import Browser, Page

from tests.abuse.estate import raise_alarm
from tests.browser.conftest import log_in, new_phone, screenshot, wait_for_service_worker

pytestmark = [pytest.mark.browser]

WORDS = {
    "zh-CN": {"intercom": "用对讲安抚被困乘客", "on_site": "技术员到场", "welfare": "停电探访重点住户"},
    "en": {
        "intercom": "Talk to the passengers on the intercom",
        "on_site": "Technician on site",
        "welfare": "Welfare visits",
    },
}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


async def _guard_console(page: Page, language: str) -> None:
    await log_in(page, "guard1")
    if language == "en":
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('Alarm console')")
    await page.wait_for_selector("#stream-state:has-text('实时'), #stream-state:has-text('Live')")


async def _ack(page: Page, alarm_id: uuid.UUID) -> None:
    takeover = page.locator(f".takeover[data-takeover='{alarm_id}']")
    await takeover.locator("[data-ack]").click()
    await page.locator(".takeover").wait_for(state="detached")


async def _assert_big_targets(page: Page, selector: str) -> None:
    # measured in one go: a live update may redraw the card between two separate reads
    boxes = await page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert boxes, selector
    assert all(w >= 44 and h >= 44 for w, h in boxes), (selector, boxes)


async def _eventually(db: asyncpg.Connection, sql: str, *args: object, expect: object) -> None:
    deadline = time.monotonic() + 30
    while (value := await db.fetchval(sql, *args)) != expect:
        assert time.monotonic() < deadline, (sql, value, expect)
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_an_entrapment_runs_its_plan_on_the_console_and_the_job(
    phone, chromium: Browser, live_server, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    page = await phone.new_page()
    await _guard_console(page, language)
    # the alarm came in ten minutes ago: the five-minute steps are overdue, the 30-minute one is not
    raised_at = datetime.now(UTC) - timedelta(minutes=10)
    alarm_id = await raise_alarm(db, "elev-a1", "ELEVATOR_ENTRAPMENT", raised_at)
    await _ack(page, alarm_id)

    plan = page.locator(f"[data-alarm='{alarm_id}'] .emergency-plan[data-scenario='entrapment']")
    await plan.wait_for()
    steps = plan.locator(".plan-step")
    assert await steps.count() == 6
    assert words["intercom"] in await steps.nth(0).inner_text()
    assert "overdue" in (await steps.nth(1).get_attribute("class") or "")
    assert "overdue" not in (await steps.nth(2).get_attribute("class") or "")
    assert await plan.locator("[data-phone='119']").is_visible()
    await _assert_big_targets(page, f"[data-alarm='{alarm_id}'] [data-step-tick]")
    await _assert_big_targets(page, f"[data-alarm='{alarm_id}'] .plan-phones a")

    rows = await db.fetch(
        "SELECT id, position, due_at FROM emergency_steps WHERE alarm_id = $1 ORDER BY position", alarm_id
    )
    stored = await db.fetchval("SELECT raised_at FROM alarms WHERE id = $1", alarm_id)
    assert rows[2]["due_at"] == stored + timedelta(minutes=30)

    # the guard has talked to the passengers: ticked, the record says who and when
    first = page.locator(f"[data-step='{rows[0]['id']}']")
    await first.locator("[data-step-tick]").click()
    await page.locator(f"[data-step='{rows[0]['id']}'][data-step-done='true']").wait_for()
    assert "孙保安" in await first.locator("[data-step-record]").inner_text()
    assert "overdue" not in (await first.get_attribute("class") or "")
    done = await db.fetchrow(
        """SELECT st.done_at, u.username FROM emergency_steps st JOIN users u ON u.id = st.done_by
           WHERE st.id = $1""",
        rows[0]["id"],
    )
    assert done["username"] == "guard1" and done["done_at"] >= stored
    await screenshot(page, f"70-guard-emergency-plan-{language}")

    # the technician's emergency job carries the same checklist
    job = await db.fetchrow(
        """SELECT w.id, u.username FROM work_orders w JOIN users u ON u.id = w.assignee_id
           WHERE w.alarm_id = $1""",
        alarm_id,
    )
    tech_context = await new_phone(chromium, live_server)
    try:
        tech = await tech_context.new_page()
        await log_in(tech, job["username"])
        if language == "en":
            # the new-emergency-job alert may cover the header: the button itself is what is pressed
            await tech.locator("#lang").dispatch_event("click")
            await tech.locator("#lang:has-text('中文')").wait_for()
        await wait_for_service_worker(tech)
        await tech.goto(f"/#/job/{job['id']}")
        card = tech.locator("#job-plan .emergency-plan")
        await card.wait_for()
        assert (
            await tech.locator(f"#job-plan [data-step='{rows[0]['id']}'][data-step-done='true']").count() == 1
        )
        on_site = tech.locator(f"#job-plan [data-step='{rows[2]['id']}']")
        assert words["on_site"] in await on_site.inner_text()
        await on_site.locator("[data-step-tick]").click()
        await tech.locator(f"#job-plan [data-step='{rows[2]['id']}'][data-step-done='true']").wait_for()
        await _eventually(
            db,
            "SELECT u.username FROM emergency_steps st JOIN users u ON u.id = st.done_by WHERE st.id = $1",
            rows[2]["id"],
            expect=job["username"],
        )

        # a hazard found on the job, with no signal: kept on the phone, sent once when the signal returns
        await _assert_big_targets(tech, "#job-hazard-open")
        await tech.click("#job-hazard-open")
        await tech.fill("#job-hazard-place", "1栋电梯机房")
        await tech.select_option("#job-hazard-risk", "high")
        await tech.fill("#job-hazard-note", "机房门锁损坏")
        await tech.set_input_files(
            "#job-hazard-photo", files=[{"name": "lock.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
        )
        await tech_context.set_offline(True)
        await tech.click("#job-hazard-send")
        await tech.locator("[data-job-hazard-queued]").wait_for()
        await screenshot(tech, f"71-job-emergency-plan-{language}")
        # the technician leaves the screen and the app restarts before the signal returns: the photo is
        # not in any page any more, only in the outbox
        await tech.goto("/#/jobs")
        await tech.reload()
        await tech.locator("#banner.offline").wait_for()
        queued = await tech.evaluate(
            """() => new Promise((resolve) => {
                 const open = indexedDB.open('caretaker');
                 open.onsuccess = () => {
                   const all = open.result.transaction('outbox').objectStore('outbox').getAll();
                   all.onsuccess = () => resolve(all.result.map((e) => e.label).join(','));
                 };
               })"""
        )
        assert queued == "hazardCreate,hazardPhoto"
        await tech_context.set_offline(False)
        await _eventually(
            db, "SELECT count(*) FROM hazards WHERE found_on_work_order_id = $1", job["id"], expect=1
        )
        hazard = await db.fetchrow(
            "SELECT source, place, risk_level FROM hazards WHERE found_on_work_order_id = $1", job["id"]
        )
        assert tuple(hazard) == ("job", "1栋电梯机房", "high")
        # the photo follows once the hazard has landed
        await _eventually(
            db,
            "SELECT photo_sha256 IS NOT NULL FROM hazards WHERE found_on_work_order_id = $1",
            job["id"],
            expect=True,
        )
        hazard_id = await db.fetchval("SELECT id FROM hazards WHERE found_on_work_order_id = $1", job["id"])
        # sent once: one delivery under one key, to the hazard's own address
        await _eventually(
            db,
            "SELECT count(*) FROM idempotency_keys WHERE request = $1",
            f"POST /api/v1/hazards/{hazard_id}/photo",
            expect=1,
        )
        assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE request LIKE '%{after}%'") == 0
        # shown linked to the job once the screen reads it again
        await tech.goto(f"/#/job/{job['id']}")
        await tech.reload()
        await tech.locator("[data-job-hazard]").wait_for()
        await screenshot(tech, f"72-job-hazard-linked-{language}")
        assert (
            await db.fetchval("SELECT count(*) FROM hazards WHERE found_on_work_order_id = $1", job["id"])
            == 1
        )
    finally:
        await tech_context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_a_power_cut_lists_the_vulnerable_residents_to_visit(
    phone, live_server, db: asyncpg.Connection, language: str
) -> None:
    # this estate's first switchgear feeds building 1
    building = await db.fetchrow("SELECT id, code FROM buildings ORDER BY code LIMIT 1")
    await db.execute("UPDATE assets SET building_id = $1 WHERE code = 'SWG-1'", building["id"])
    residents = await db.fetch(
        """SELECT r.id, r.name FROM residents r JOIN units u ON u.id = r.unit_id
           WHERE r.vulnerable AND u.building_id = $1""",
        building["id"],
    )
    assert residents
    page = await phone.new_page()
    await _guard_console(page, language)
    alarm_id = await raise_alarm(db, "mains-1", "MAINS_LOSS", datetime.now(UTC))
    await _ack(page, alarm_id)
    card = page.locator(f"[data-alarm='{alarm_id}']")
    await card.locator(".emergency-plan[data-scenario='power_cut']").wait_for()
    welfare = card.locator("[data-welfare]")
    await welfare.locator("[data-welfare-resident]").first.wait_for()
    assert WORDS[language]["welfare"] in await welfare.inner_text()
    shown = {
        await r.get_attribute("data-welfare-resident")
        for r in await welfare.locator("[data-welfare-resident]").all()
    }
    assert shown == {str(r["id"]) for r in residents}
    text = await welfare.inner_text()
    assert all(r["name"] in text for r in residents)
    await _assert_big_targets(page, f"[data-alarm='{alarm_id}'] [data-welfare] a")
    await screenshot(page, f"73-guard-power-cut-welfare-{language}")
