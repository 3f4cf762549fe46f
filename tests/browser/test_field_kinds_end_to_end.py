"""Each field kind from creation to closed through the real path that creates it and the screens of the
roles that work it, at phone size, in Chinese and in English:

- a repair: the agent records the owner's call on the intake screen, dispatches it on the board, the
  technician works it and the owner signs on the phone, the agent's follow-up call closes it;
- an emergency: a sensor alarm published over MQTT to a real Mosquitto, through the real gateway, takes over
  the guard's console; the guard acknowledges it, the technician the gateway assigned works it on screen,
  the supervisor closes it;
- planned maintenance: the supervisor plans an asset's upkeep (through the API, as the app has no plan
  screen), the scheduler's own job generates the period's work order, the technician works it, the
  supervisor closes it.

The complaint's own end-to-end walk is in test_complaint_desk.py.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.db.pool import create_pool
from backend.domain.clock import SystemClock
from backend.scheduling import JOBS, JobContext, run_job
from backend.services.maintenance import generate_planned_maintenance
from tests.browser.conftest import log_in, new_phone, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, draw_signature, photo_file, post
from tests.gateway.conftest import (  # noqa: F401 (fixtures used by name)
    Publisher,
    StartGateway,
    broker,
    publisher,
    start_gateway,
)

pytestmark = pytest.mark.browser

A302_OWNER_PHONE = "13900000010"


async def phone_as(chromium, live_server, username: str, lang: str):
    """A phone-sized browser logged in as `username`, reading the app in `lang`."""
    context = await new_phone(chromium, live_server, scale=1)
    await context.add_init_script(f"localStorage.setItem('caretaker.locale', '{lang}')")
    page = await context.new_page()
    await log_in(page, username)
    await page.wait_for_selector(f"html[lang='{lang}']", state="attached")
    return context, page


async def status_of(db: asyncpg.Connection, job_id: str) -> str:
    return await db.fetchval("SELECT status FROM work_orders WHERE id = $1", uuid.UUID(job_id))


async def dispatch_on_the_board(page, job_id: str, tech_id: str) -> None:
    """The desk gives the job to a technician from its card on the board, confirming the choice."""
    await page.goto("/#/dispatch")
    card = page.locator(f"#unassigned [data-job='{job_id}']")
    await card.wait_for()
    await card.locator("[data-open-assign]").click()
    await card.locator("[data-assignee]").select_option(tech_id)
    await card.locator("[data-assign]").click()
    await card.locator("[data-confirm-assign]").click()
    await page.locator(f"#by-technician [data-job='{job_id}']").wait_for()


async def photo(page, stage: str, tmp_path: Path) -> None:
    """Take one photo of a stage and wait until its thumbnail shows."""
    count = await page.locator("#photo-thumbs figure").count()
    await page.select_option("#photo-stage", stage)
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await wait_until(
        page, f"document.querySelectorAll(\"#photo-thumbs img[src^='blob:']\").length === {count + 1}"
    )


async def technician_works_it(page, job_id: str, tmp_path: Path, *, signs: bool, name: str) -> None:
    """From the list: accept, set off, arrive, photos before and after, checks, work done, complete, sign."""
    await page.goto("/#/jobs")
    await page.click(f"[data-job='{job_id}'] a")
    for step in ("accept", "depart", "arrive"):
        await page.click(f"[data-action='{step}']")
    await page.wait_for_selector("#photo-input", state="attached")
    await photo(page, "before", tmp_path)
    for box in await page.locator("input[name='check']").all():
        await box.check()
    await page.fill("#cause", "老化")
    await page.fill("#work-done", "已更换并试运行正常")
    await photo(page, "after", tmp_path)
    await screenshot(page, f"{name}-on-site")
    await page.click("#complete")
    if signs:
        await page.wait_for_selector("#signature-pad")
        await page.fill("#signer-name", "徐超")
        await draw_signature(page)
        await page.click("#sign-save")
        await page.wait_for_selector("#signature-pad", state="detached")
    else:
        await page.wait_for_selector("#complete", state="detached")
    await screenshot(page, f"{name}-done")


async def close_on_the_job_screen(page, job_id: str) -> None:
    """A supervisor checks the finished job and closes it from its screen."""
    await page.goto(f"/#/job/{job_id}")
    await page.click("[data-action='close']")
    await page.wait_for_selector("#job-actions:not(:has([data-action='close']))")


LANGUAGES = ("zh-CN", "en")
# What the screens say in each language (status labels come from the server's catalogue).
WORDS = {
    "zh-CN": {"signed": "已签字", "completed": "已完成", "live": "实时", "acked": "已确认"},
    "en": {"signed": "Signed", "completed": "Completed", "live": "Live", "acked": "Acknowledged"},
}
REPAIR_TITLE = {"zh-CN": "厨房下水道堵塞", "en": "Kitchen drain blocked"}


async def no_missing_words(*pages) -> None:
    """Every string the screens drew had its key in the language shown."""
    for page in pages:
        assert await page.evaluate("window.__i18nMissing || []") == []


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_repair_from_the_desk_to_closed(chromium, live_server, db, tmp_path: Path, lang: str) -> None:
    tech1 = await db.fetchval("SELECT id::text FROM users WHERE username = 'tech1'")
    title = REPAIR_TITLE[lang]
    agent_context, agent = await phone_as(chromium, live_server, "agent", lang)
    tech_context, tech = await phone_as(chromium, live_server, "tech1", lang)
    try:
        # the owner calls: the agent finds the home by the phone number and records the repair
        await agent.wait_for_selector("#intake-form")
        await agent.fill("#lookup-phone", A302_OWNER_PHONE)
        await agent.click("#lookup")
        await agent.wait_for_selector("#unit-results input[name='unit']")
        await agent.select_option("#category", "water")
        await agent.fill("#title", title)
        await agent.fill("#description", "业主来电：厨房水槽不下水")
        await agent.click("#intake-submit")
        await agent.wait_for_selector("#intake-done")
        await screenshot(agent, f"70-repair-intake-{lang}")
        job_id = await db.fetchval("SELECT id::text FROM work_orders WHERE title = $1", title)
        assert await status_of(db, job_id) == "new"

        await dispatch_on_the_board(agent, job_id, tech1)
        assert await status_of(db, job_id) == "assigned"
        await technician_works_it(tech, job_id, tmp_path, signs=True, name=f"70-repair-{lang}")
        await tech.wait_for_selector(f"#job-status:has-text('{WORDS[lang]['signed']}')")
        assert await status_of(db, job_id) == "signed"

        await agent.goto("/#/callbacks")
        card = agent.locator(f"[data-callback='{job_id}']")
        await card.wait_for()
        assert "已更换并试运行正常" in await card.locator("[data-done]").inner_text()
        await card.locator("[data-reached]").check()
        await card.locator("[data-score][value='5']").check()
        await card.locator("[data-record]").click()
        await card.locator("[data-result]:not(.hidden)").wait_for()
        await screenshot(agent, f"71-repair-callback-{lang}")
        assert await status_of(db, job_id) == "closed"
        await no_missing_words(agent, tech)
    finally:
        await agent_context.close()
        await tech_context.close()


async def technician_to_supervisor(
    chromium,
    live_server,
    db,
    tmp_path: Path,
    job_id: str,
    name: str,
    lang: str,
    *,
    not_shown: tuple[str, ...] = (),
) -> None:
    """A job in a public place already given to a technician: they work it (nobody signs), the supervisor
    closes it on its screen. No text of `not_shown` (raw codes) is on the technician's screen."""
    username = await db.fetchval(
        "SELECT u.username FROM work_orders w JOIN users u ON u.id = w.assignee_id WHERE w.id = $1",
        uuid.UUID(job_id),
    )
    tech_context, tech = await phone_as(chromium, live_server, username, lang)
    boss_context, boss = await phone_as(chromium, live_server, "supervisor", lang)
    try:
        await technician_works_it(tech, job_id, tmp_path, signs=False, name=name)
        shown = await tech.locator("#view").inner_text()
        for raw in not_shown:
            assert raw not in shown, (raw, shown)
        await tech.wait_for_selector(f"#job-status:has-text('{WORDS[lang]['completed']}')")
        assert await tech.locator("#signature-pad").count() == 0, "nobody signs in a public place"
        assert await status_of(db, job_id) == "completed"
        await close_on_the_job_screen(boss, job_id)
        await screenshot(boss, f"{name}-closed")
        assert await status_of(db, job_id) == "closed"
        await no_missing_words(tech, boss)
    finally:
        await tech_context.close()
        await boss_context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_emergency_from_a_sensor_alarm_to_closed(
    chromium,
    live_server,
    db,
    tmp_path: Path,
    start_gateway: StartGateway,  # noqa: F811
    publisher: Publisher,  # noqa: F811
    lang: str,
) -> None:
    await start_gateway()
    guard_context, guard = await phone_as(chromium, live_server, "guard1", lang)
    try:
        await guard.wait_for_selector(f"#stream-state:has-text('{WORDS[lang]['live']}')")
        # the lift's controller reports people trapped: over MQTT, through the gateway
        publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT")
        takeover = guard.locator(".takeover")
        await takeover.wait_for()
        alarm_id = await takeover.get_attribute("data-takeover")
        alarm = await db.fetchrow("SELECT device_id, code FROM alarms WHERE id = $1", uuid.UUID(alarm_id))
        assert (alarm["device_id"], alarm["code"]) == ("elev-a1", "ELEVATOR_ENTRAPMENT")
        job = await db.fetchrow(
            "SELECT id::text, kind, channel, status, assignee_id FROM work_orders WHERE alarm_id = $1",
            uuid.UUID(alarm_id),
        )
        assert (job["kind"], job["channel"], job["status"]) == ("emergency", "sensor", "assigned")
        await screenshot(guard, f"72-emergency-takeover-{lang}")

        # the guard acknowledges on the console; the card follows the emergency job
        await takeover.locator("[data-ack]").click()
        await guard.locator(".takeover").wait_for(state="detached")
        card = guard.locator(f"[data-alarm='{alarm_id}']")
        await card.locator(f"[data-alarm-state]:has-text('{WORDS[lang]['acked']}')").wait_for()
        await card.locator(f"[data-job='{job['id']}']").wait_for()
        acked_by = await db.fetchval(
            "SELECT u.username FROM alarms a JOIN users u ON u.id = a.acked_by WHERE a.id = $1",
            uuid.UUID(alarm_id),
        )
        assert acked_by == "guard1"
        await screenshot(guard, f"72-emergency-acked-{lang}")
        await no_missing_words(guard)
    finally:
        await guard_context.close()
    await technician_to_supervisor(
        chromium,
        live_server,
        db,
        tmp_path,
        job["id"],
        f"72-emergency-{lang}",
        lang,
        not_shown=("ELEVATOR_ENTRAPMENT",),
    )


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_planned_maintenance_from_its_plan_to_closed(
    chromium, live_server, db, db_url: str, tmp_path: Path, lang: str
) -> None:
    # the supervisor plans the pump's monthly upkeep, first due tomorrow (the site's day): within the plan's
    # two lead days, so the scheduler's next run plans it now
    tomorrow = await db.fetchval(
        "SELECT (now() AT TIME ZONE timezone)::date + 1 FROM sites WHERE code = 'demo'"
    )
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        boss = await api_login(http, "supervisor")
        r = await http.get("/api/v1/assets", params={"site": "demo", "limit": 100}, headers=boss)
        assert r.status_code == 200, r.text
        pump = next(a for a in r.json()["items"] if a["code"] == "PUMP-1")
        plan = await post(
            http,
            "/api/v1/maintenance-plans",
            boss,
            {
                "assetId": pump["id"],
                "title": "1号生活水泵月度保养",
                "intervalDays": 30,
                "leadDays": 2,
                "firstDueOn": tomorrow.isoformat(),
            },
        )
    assert (
        await db.fetchval("SELECT count(*) FROM work_orders WHERE plan_id = $1", uuid.UUID(plan["id"])) == 0
    )

    # the scheduler's job, run as APScheduler runs it every ten minutes
    assert (generate_planned_maintenance, 600.0) in JOBS
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        created = await run_job(generate_planned_maintenance, JobContext(pool=pool, clock=SystemClock()))
    finally:
        await pool.close()
    assert created == 1
    job = await db.fetchrow(
        "SELECT id::text, kind, channel, status, title FROM work_orders WHERE plan_id = $1",
        uuid.UUID(plan["id"]),
    )
    assert (job["kind"], job["channel"], job["status"]) == ("maintenance", "schedule", "assigned")
    assert tomorrow.isoformat() in job["title"]
    await technician_to_supervisor(
        chromium, live_server, db, tmp_path, job["id"], f"73-maintenance-{lang}", lang
    )
