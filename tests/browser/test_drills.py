"""The manager keeps the drill and training registers on the phone and reads and edits the site's emergency
plans (steps and numbers), in Chinese and English at phone size; a supervisor reads them only."""

from __future__ import annotations

import asyncpg
import pytest
from playwright.async_api import Page

from tests.browser.conftest import log_in, nav_to, screenshot

pytestmark = [pytest.mark.browser]

WORDS = {
    "zh-CN": {
        "nav": "应急演练",
        "fire": "火灾",
        "saved": "已登记",
        "words": "中文和英文",
        "limit": "整数分钟",
        "network": "联网",
    },
    "en": {
        "nav": "Drills",
        "fire": "Fire",
        "saved": "Registered",
        "words": "Chinese and in English",
        "limit": "whole minutes",
        "network": "network",
    },
}


async def _log_in(page: Page, username: str, language: str) -> None:
    await log_in(page, username)
    if language == "en":
        await page.click("#lang")
        await page.locator("[data-nav='safety']:has-text('Drills')").wait_for(state="attached")
    if username == "manager":
        # the dashboard opens first: let it finish drawing before leaving it (a late draw covers the next)
        await page.locator("#dash-body[data-loaded]").wait_for()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_manager_registers_a_drill_and_a_training_session(
    phone, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    page = await phone.new_page()
    await _log_in(page, "manager", language)
    await nav_to(page, "safety")
    assert words["nav"] in await page.locator("[data-nav='safety']").inner_text()
    await page.locator("[data-plan-scenario='fire']").wait_for()
    assert words["fire"] in await page.locator("[data-plan-scenario='fire'] summary").inner_text()
    # the manager fills in the lift contractor's number: later entrapments carry it
    await page.click("[data-plan-scenario='entrapment'] summary")
    await page.fill("#phone-entrapment-0", "400-800-1234")
    await page.click("[data-plan-form='entrapment'] [data-plan-save]")
    await page.locator(
        f"[data-plan-form='entrapment'] [data-plan-note]:has-text('{words['saved']}')"
    ).wait_for()
    phones = await db.fetchval("SELECT phones FROM emergency_plans WHERE scenario = 'entrapment'")
    assert phones[0]["number"] == "400-800-1234"
    plan = page.locator("[data-plan-scenario='entrapment']")
    assert "400-800-1234" in await plan.locator("p .badge").first.inner_text()

    await page.select_option("#drill-scenario", "fire")
    await page.fill("#drill-participants", "王强、李娜\n张伟")
    await page.fill("#drill-timing", "1栋全部撤离")
    await page.fill("#drill-minutes", "6.5")
    await page.fill("#drill-evaluation", "疏散有序,广播声音偏小")
    await page.fill("#drill-actions", "更换1栋广播喇叭")
    await page.click("#drill-save")
    await page.locator("#drill-list [data-drill]").wait_for()
    assert words["saved"] in await page.locator("#drill-note").inner_text()
    drill = await db.fetchrow("SELECT scenario, participants, timings, actions FROM drills")
    assert drill["scenario"] == "fire" and list(drill["participants"]) == ["王强", "李娜", "张伟"]
    assert drill["timings"] == [{"label": "1栋全部撤离", "minutes": 6.5}]

    await page.fill("#training-topic", "灭火器使用")
    await page.fill("#training-attendees", "王强, 李娜")
    await page.fill("#training-trainer", "消防站")
    await page.click("#training-save")
    await page.locator("#training-list [data-training]").wait_for()
    assert await db.fetchval("SELECT count(*) FROM trainings WHERE topic = '灭火器使用'") == 1
    boxes = await page.locator(
        "#drill-save, #training-save, #nav [data-nav]:visible, #nav-more"
    ).evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert all(h >= 44 for h in boxes), boxes
    await screenshot(page, f"75-drills-{language}")


DUE_WORDS = {
    "zh-CN": {"title": "一年内未演练的预案", "fire": "火灾", "flooding": "水浸", "never": "从未演练"},
    "en": {
        "title": "Plans not drilled within a year",
        "fire": "Fire",
        "flooding": "Flooding",
        "never": "Never",
    },
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_dashboard_names_the_plans_not_drilled_within_a_year(
    phone, db: asyncpg.Connection, language: str
) -> None:
    words = DUE_WORDS[language]
    # entrapment and power cut drilled last month, flooding 400 days ago, fire never
    for scenario, days in (("entrapment", 30), ("power_cut", 30), ("flooding", 400)):
        await db.execute(
            """INSERT INTO drills (site_id, scenario, held_on, recorded_at)
               SELECT id, $1, (now() - make_interval(days => $2))::date, now()
               FROM sites WHERE code = 'demo'""",
            scenario,
            days,
        )
    flooded_on = await db.fetchval("SELECT held_on FROM drills WHERE scenario = 'flooding'")
    page = await phone.new_page()
    await log_in(page, "manager")
    if language == "en":
        await page.click("#lang")
        await page.locator("#dash-drills h3:has-text('Plans not drilled')").wait_for()
    due = page.locator("[data-drills-due]")
    await due.wait_for()
    assert words["title"] in await page.locator("#dash-drills h3").inner_text()
    items = due.locator("li")
    assert await items.evaluate_all("els => els.map(e => e.dataset.drillDue)") == ["flooding", "fire"]
    flooding = await due.locator("[data-drill-due='flooding']").inner_text()
    assert words["flooding"] in flooding and flooded_on.isoformat() in flooding
    fire = await due.locator("[data-drill-due='fire']").inner_text()
    assert words["fire"] in fire and words["never"] in fire
    # the heading's link leads to the register
    await page.locator("#dash-drills").scroll_into_view_if_needed()
    await screenshot(page, f"76-dashboard-drills-due-{language}")
    await page.click("#dash-drills a[href='#/safety']")
    await page.locator("#drill-save").wait_for()


async def _open_plans(page: Page, username: str, language: str) -> None:
    await _log_in(page, username, language)
    await page.goto("/#/safety")
    await page.locator("[data-plan-scenario='entrapment']").wait_for()


def _step(i: int, field: str) -> str:
    return f"[data-plan-form='entrapment'] [data-edit-step='{i}'] [data-field='{field}']"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_the_manager_edits_a_plans_steps_and_keeps_what_was_typed_when_refused(
    phone, db: asyncpg.Connection, language: str
) -> None:
    words = WORDS[language]
    page = await phone.new_page()
    await _open_plans(page, "manager", language)
    await page.click("[data-plan-scenario='entrapment'] summary")
    steps = page.locator("[data-plan-form='entrapment'] [data-edit-step]")
    assert await steps.count() == 6
    assert await page.input_value(_step(0, "labelZh")) == "用对讲安抚被困乘客"

    # reworded, the second step moved first, the last removed, a step added at the end
    await page.fill(_step(0, "labelZh"), "用对讲机安抚乘客")
    await page.fill(_step(0, "labelEn"), "Calm the passengers on the intercom")
    await page.click("[data-plan-form='entrapment'] [data-step-up='1']")
    assert await page.input_value(_step(0, "labelEn")) == "Call the lift contractor"
    assert await page.input_value(_step(1, "labelEn")) == "Calm the passengers on the intercom"
    await page.click("[data-plan-form='entrapment'] [data-step-remove='5']")
    await page.click("[data-plan-form='entrapment'] [data-step-add]")
    assert await steps.count() == 6
    assert await page.evaluate("document.activeElement.dataset.field") == "labelZh"
    await page.fill(_step(5, "labelZh"), "通知业主电梯恢复")
    await page.select_option(_step(5, "role"), "supervisor")
    await page.fill(_step(5, "dueMinutes"), "0")

    # refused here: words missing in English and a limit of zero; each step says what is wrong
    await page.click("[data-plan-form='entrapment'] [data-plan-save]")
    error = page.locator("[data-plan-form='entrapment'] [data-edit-step='5'] [data-step-error]")
    await error.wait_for()
    assert words["words"] in await error.inner_text()
    await page.fill(_step(5, "labelEn"), "Tell the owners the lift is back")
    await page.click("[data-plan-form='entrapment'] [data-plan-save]")
    await page.locator(
        f"[data-plan-form='entrapment'] [data-edit-step='5'] [data-step-error]:has-text('{words['limit']}')"
    ).wait_for()
    await screenshot(page, f"76-plan-edit-refused-{language}")

    # refused for want of a network: nothing typed is lost, saved once the network is back
    await page.fill(_step(5, "dueMinutes"), "")
    await page.context.set_offline(True)
    await page.click("[data-plan-form='entrapment'] [data-plan-save]")
    await page.locator(
        f"[data-plan-form='entrapment'] [data-plan-note]:has-text('{words['network']}')"
    ).wait_for()
    assert await page.input_value(_step(5, "labelEn")) == "Tell the owners the lift is back"
    assert await page.input_value(_step(0, "labelEn")) == "Call the lift contractor"
    assert await db.fetchval("SELECT count(*) FROM emergency_plans WHERE scenario = 'entrapment'") == 0
    await page.context.set_offline(False)
    await page.click("[data-plan-form='entrapment'] [data-plan-save]")
    await page.locator(
        f"[data-plan-form='entrapment'] [data-plan-note]:has-text('{words['saved']}')"
    ).wait_for()

    stored = await db.fetchval("SELECT steps FROM emergency_plans WHERE scenario = 'entrapment'")
    assert [(s["labelEn"], s["role"], s.get("dueMinutes")) for s in stored] == [
        ("Call the lift contractor", "guard", 5),
        ("Calm the passengers on the intercom", "guard", 5),
        ("Technician on site", "technician", 30),
        ("Passengers out", "technician", 60),
        ("Lift locked out", "technician", 90),
        ("Tell the owners the lift is back", "supervisor", None),
    ]
    assert stored[1]["labelZh"] == "用对讲机安抚乘客"
    # the plan as read now is the saved one
    read = page.locator("[data-plan-scenario='entrapment'] ol li")
    assert await read.count() == 6
    assert ("通知业主电梯恢复" if language == "zh-CN" else "Tell the owners") in await read.nth(
        5
    ).inner_text()
    boxes = await page.locator("[data-plan-form='entrapment'] button").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert all(w >= 44 and h >= 44 for w, h in boxes), boxes
    await page.locator("[data-plan-form='entrapment'] [data-edit-step='5']").scroll_into_view_if_needed()
    await screenshot(page, f"77-plan-edit-saved-{language}")
    assert await page.evaluate("window.__i18nMissing.length") == 0


async def test_a_supervisor_reads_the_plans_without_an_editor(phone, db: asyncpg.Connection) -> None:
    page = await phone.new_page()
    await _open_plans(page, "supervisor", "zh-CN")
    await page.click("[data-plan-scenario='entrapment'] summary")
    assert await page.locator("[data-plan-scenario='entrapment'] ol li").count() == 6
    assert await page.locator("[data-plan-form]").count() == 0
