"""A complaint taken by phone and carried through the desk's own flow in the app, by the roles that should.

DOMAIN.md "Complaint" (seeds-digest §2.2, §3.1-3.2): received (时间/事由/接待人) → handler named → same-day
investigation → first reply within 24 h as a recorded contact (this meets the respond clock) → written
solution → owner told the result → follow-up call within 3 days by someone other than the handler → closed.
A complaint never shows a field step (depart, arrive, sign).
"""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
from playwright.async_api import Page

from backend.domain.catalogue import label
from tests.browser.conftest import PHONE_VIEWPORT, log_in, nav_to, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, post

pytestmark = pytest.mark.browser

A302_OWNER_PHONE = "13900000010"
DESK_VIEWPORT = {"width": 1280, "height": 800}
FIELD_STEPS = ("accept", "depart", "arrive", "pause", "resume", "complete", "sign")


async def use_language(page: Page, locale: str) -> None:
    """Switch the interface to `locale` with the app's own language button."""
    if await page.evaluate("document.documentElement.lang") != locale:
        await page.click("#lang")
        await wait_until(page, f"document.documentElement.lang === '{locale}'")


async def log_in_speaking(page: Page, username: str, locale: str) -> None:
    """Choose the language on the login screen, then log in: the first screen is drawn once, in `locale`
    (switching after login redraws the home screen, which may land after a quick move elsewhere)."""
    await page.goto("/")
    await page.wait_for_selector("#login-submit")
    await use_language(page, locale)
    await log_in(page, username)


async def no_field_steps(page: Page, locale: str) -> None:
    """The complaint screen offers none of a field job's steps, as buttons or as words."""
    for step in FIELD_STEPS:
        assert await page.locator(f"[data-action='{step}'], [data-act='{step}']").count() == 0, step
    body = await page.inner_text("#view")
    for step in ("depart", "arrive"):
        assert label("action", step, locale) not in body, step
    assert await page.locator("#signature-pad").count() == 0


async def act(page: Page, action: str) -> None:
    """Press an action's button and wait for the screen drawn from the server's answer."""
    before = await page.get_attribute("[data-complaint]", "data-render")
    await page.click(f"[data-act='{action}']")
    await wait_until(
        page, f"document.querySelector('[data-complaint]').dataset.render !== '{before}'", 10_000
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("size", ["phone", "desk"])
async def test_complaint_taken_by_phone_handled_and_called_back_by_another_agent_seed_rule(
    chromium, live_server, db: asyncpg.Connection, size: str, locale: str
) -> None:
    viewport = PHONE_VIEWPORT if size == "phone" else DESK_VIEWPORT
    context = await chromium.new_context(
        viewport=viewport, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        page = await context.new_page()
        await log_in(page, "agent")
        await page.wait_for_selector("#intake-form")
        await use_language(page, locale)
        await page.wait_for_selector("#intake-form")
        await page.click("[data-kind='complaint']")
        await page.fill("#lookup-phone", A302_OWNER_PHONE)
        await page.click("#lookup")
        await page.wait_for_selector("#unit-results input[name='unit']")
        await page.select_option("#category", "repair_delay")
        await page.fill("#title", "报修三天没人来")
        await page.fill("#description", "业主来电：卫生间漏水报修后无人上门")
        # read back to the caller before saving (复述): the summary names the home, the matter, the caller
        read_back = await page.inner_text("#read-back")
        assert "报修三天没人来" in read_back and "302" in read_back and A302_OWNER_PHONE in read_back
        await page.click("#intake-submit")
        await page.wait_for_selector("#intake-done a.button")
        await page.click("#intake-done a.button")
        await page.wait_for_selector("[data-complaint]")
        job_id = uuid.UUID(await page.get_attribute("[data-complaint]", "data-complaint"))

        # received: time, matter, who took it; the deadlines are there at once
        assert await page.inner_text("[data-received-by]") == "张客服"
        assert await page.locator("#complaint-clocks [data-clock='investigate']").count() == 1
        assert await page.locator("#complaint-clocks [data-clock='respond']").count() == 1
        await no_field_steps(page, locale)

        # the agent names themself as the handler
        agent_id = await db.fetchval("SELECT id FROM users WHERE username = 'agent'")
        await page.select_option("#handler", str(agent_id))
        await act(page, "assign")
        assert await page.inner_text("[data-handler]") == "张客服"

        # nothing found yet: refused next to the control, nothing sent
        await page.click("[data-act='investigate']")
        error = page.locator("[data-error-for='investigate']")
        assert await error.is_visible()
        assert await error.inner_text() == (
            "请填写调查经过与结果" if locale == "zh-CN" else "Write down what the investigation found"
        )
        await page.fill("#findings", "维修单派给了休假的师傅，无人跟进")
        await act(page, "investigate")
        await screenshot(page, f"30-complaint-investigated-{size}-{locale}")

        # the first reply to the owner is a recorded contact, and it meets the respond clock
        await page.select_option("#reply-via", "phone")
        await page.fill("#reply-summary", "已致电业主致歉，今天下午安排师傅上门")
        await act(page, "reply")
        respond = page.locator("#complaint-clocks [data-clock='respond']")
        assert await respond.locator(".countdown").count() == 0  # met: no countdown left
        assert await page.locator("#contacts [data-contact='reply']").count() == 1
        await no_field_steps(page, locale)

        await page.fill("#solution", "当天修复漏水，派单规则改为休假自动改派")
        await page.fill("#compensation", "减免当月物业费 50 元")
        await page.fill("#approved-by", "李主管")
        await act(page, "solve")
        await page.select_option("#inform-via", "visit")
        await page.fill("#inform-summary", "上门告知已修复并减免 50 元，业主接受")
        await act(page, "inform")
        assert await page.inner_text("#job-status") == label("status", "completed", locale)
        # the handler does not call their own complainant back
        assert await page.locator("#form-callback").count() == 0
        await screenshot(page, f"31-complaint-result-told-{size}-{locale}")

        # another agent makes the follow-up call, which closes it
        other = await context.browser.new_context(
            viewport=viewport, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
        )
        try:
            page2 = await other.new_page()
            await log_in(page2, "agent2")
            # the app lands on the agent's home after login; only then open the complaint
            await page2.wait_for_selector("#intake-form")
            await use_language(page2, locale)
            await page2.wait_for_selector("#intake-form")
            await page2.goto(f"/#/job/{job_id}")
            await page2.wait_for_selector("#form-callback")
            await page2.check("#form-callback [data-reached]")
            await page2.check("#form-callback [data-score][value='5']")
            # the seeds' drivers and willingness to recommend
            await page2.select_option("#form-callback [data-driver='speed']", "4")
            await page2.select_option("#form-callback [data-driver='attitude']", "5")
            await page2.select_option("#form-callback [data-driver='quality']", "5")
            await page2.select_option("#form-callback [data-recommend]", "9")
            await page2.fill("#form-callback [data-comment]", "满意，谢谢")
            await screenshot(page2, f"32-complaint-callback-{size}-{locale}")
            await act(page2, "callback")
            assert await page2.inner_text("#job-status") == label("status", "closed", locale)
            await no_field_steps(page2, locale)
            assert await page2.evaluate("window.__i18nMissing") == []
        finally:
            await other.close()
        assert await page.evaluate("window.__i18nMissing") == []
    finally:
        await context.close()

    row = await db.fetchrow(
        """SELECT w.status, w.resolution, w.channel,
                  (SELECT username FROM users WHERE id = c.called_by) AS caller
           FROM work_orders w JOIN callbacks c ON c.work_order_id = w.id WHERE w.id = $1""",
        job_id,
    )
    assert (row["status"], row["channel"], row["caller"]) == ("closed", "phone", "agent2")
    answers = await db.fetchrow(
        "SELECT satisfaction, speed, attitude, quality, recommend FROM callbacks WHERE work_order_id = $1",
        job_id,
    )
    assert tuple(answers) == (5, 4, 5, 5, 9)
    actions = [
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM work_order_events WHERE work_order_id = $1 ORDER BY seq", job_id
        )
    ]
    assert actions == ["created", "assign", "investigate", "reply", "solve", "inform", "callback"]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_manual_escalation_and_a_major_complaint_reach_the_managers_screen_live_seed_rule(
    chromium, live_server, db: asyncpg.Connection, locale: str
) -> None:
    """Digest §2.2: major complaints go to management at once (对于重大投诉,需上报管理层) and the
    manager calls to apologise (管理層親自致電道歉). On the manager's desk screen a major complaint is
    announced and listed the moment it is taken; a complaint escalated by hand on the agent's phone moves
    to the manager, who holds it from then on, sees it arrive without a reload, records the apology call,
    and the list shows it made. The supervisors' own worklist lists the same complaints with who holds them
    and their clocks."""
    manager_context = await chromium.new_context(
        viewport=DESK_VIEWPORT, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
    )
    agent_context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        manager_page = await manager_context.new_page()
        await log_in_speaking(manager_page, "manager", locale)
        await manager_page.wait_for_selector("#dash-body[data-loaded]")
        await nav_to(manager_page, "escalated")
        # the worklist of its own (the dashboard's figures are gone), drawn from the server
        await wait_until(manager_page, "!document.querySelector('#dash-body')")
        await manager_page.wait_for_selector("#dash-escalated h3")
        await wait_until(manager_page, "document.querySelectorAll('[data-escalated]').length === 0")

        async with httpx.AsyncClient(base_url=live_server.url) as http:
            agent = await api_login(http, "agent")
            ordinary = await post(http, "/api/v1/work-orders", agent, {
                "kind": "complaint", "category": "attitude", "channel": "phone", "title": "保安态度恶劣",
                "site": "demo", "building": "A", "unitNumber": "304",
            })  # fmt: skip
            major = await post(http, "/api/v1/work-orders", agent, {
                "kind": "complaint", "category": "fee_dispute", "channel": "counter",
                "title": "业主群体投诉收费", "site": "demo", "building": "B", "unitNumber": "304",
                "major": True,
            })  # fmt: skip
        # the major complaint is announced and listed on the manager's screen at once, live
        alert = manager_page.locator(f"#escalated-alert[data-alert-for='{major['id']}']")
        await alert.wait_for(timeout=20_000)
        assert "业主群体投诉收费" in await alert.inner_text()
        await manager_page.locator(f"[data-escalated='{major['id']}']").wait_for(timeout=20_000)
        assert await manager_page.locator(f"[data-escalated='{ordinary['id']}']").count() == 0
        await screenshot(manager_page, f"35-manager-major-complaint-announced-{locale}")

        # the agent escalates the ordinary one by hand, on the complaint screen
        agent_page = await agent_context.new_page()
        await log_in_speaking(agent_page, "agent", locale)
        await agent_page.wait_for_selector("#intake-form")
        await agent_page.goto(f"/#/job/{ordinary['id']}")
        await agent_page.wait_for_selector("#form-escalate")
        await agent_page.select_option("#escalate-reason", "agitated")
        await agent_page.select_option("#escalate-to", "manager")
        await agent_page.fill("#escalate-note", "业主情绪激动，要求经理出面")
        await act(agent_page, "escalate")
        assert await agent_page.locator("#complaint-escalated").count() == 1
        assert "业主情绪激动" in await agent_page.inner_text("#escalations")
        # the manager holds it now; the agent keeps no handler's step, and the history says who handed over
        assert await agent_page.inner_text("[data-handler]") == "王经理"
        assert "王经理" in await agent_page.inner_text("[data-handover]")
        assert await agent_page.locator("#form-investigate, #form-apology").count() == 0
        await screenshot(agent_page, f"36-agent-escalated-to-manager-{locale}")
        assert await agent_page.evaluate("window.__i18nMissing") == []

        item = manager_page.locator(f"[data-escalated='{ordinary['id']}']")
        await item.wait_for(timeout=20_000)
        await manager_page.locator(f"#escalated-alert[data-alert-for='{ordinary['id']}']").wait_for()
        text = await item.inner_text()
        assert label("escalationReason", "agitated", locale) in text
        assert "王经理" in await item.locator("[data-holder]").inner_text()
        assert await item.locator("[data-apology='owed']").count() == 1
        assert await item.locator("[data-clock='respond'] .countdown").count() == 1
        await screenshot(manager_page, f"33-manager-escalated-complaints-{locale}")

        # the manager makes the apology call and records it on the complaint
        await item.locator("a").click()
        await manager_page.wait_for_selector("#form-apology")
        assert await manager_page.locator("[data-offers='apology_call_done']").count() == 1
        assert await manager_page.locator("#form-investigate").count() == 1  # the manager handles it now
        await manager_page.select_option("#apology-via", "phone")
        await manager_page.fill("#apology-summary", "代表公司向业主致歉，保安已调岗")
        await act(manager_page, "apology_call_done")
        assert await manager_page.get_attribute("#apology-task", "data-done") == "true"
        assert await manager_page.locator("#form-apology").count() == 0
        assert "代表公司向业主致歉" in await manager_page.inner_text("#contacts")
        await screenshot(manager_page, f"37-manager-apology-call-made-{locale}")
        await manager_page.goto("/#/escalated")
        done = manager_page.locator(f"[data-escalated='{ordinary['id']}'] [data-apology='done']")
        await done.wait_for()
        assert "王经理" in await done.inner_text()
        assert await manager_page.evaluate("window.__i18nMissing") == []
    finally:
        await agent_context.close()
        await manager_context.close()

    told = await db.fetchval(
        """SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE u.username = 'manager' AND n.kind IN ('major_complaint', 'complaint_escalation')"""
    )
    assert told == 2

    # the supervisor's own worklist (not the manager's dashboard): both, with who holds them and the clocks
    supervisor_context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, base_url=live_server.url, locale=locale, timezone_id="Asia/Shanghai"
    )
    try:
        page = await supervisor_context.new_page()
        await log_in_speaking(page, "supervisor", locale)
        await nav_to(page, "escalated")
        for wo in (ordinary, major):
            await page.locator(f"[data-escalated='{wo['id']}']").wait_for()
        row = page.locator(f"[data-escalated='{major['id']}']")
        assert await row.locator("[data-clock] .countdown").count() >= 1
        await screenshot(page, f"38-supervisor-escalated-worklist-{locale}")
        assert await page.evaluate("window.__i18nMissing") == []
    finally:
        await supervisor_context.close()


async def test_a_server_refusal_shows_next_to_its_control_in_chinese_neighbour_dispute_seed_rule(
    phone, live_server, db: asyncpg.Connection
) -> None:
    """先调解、后处理: solving a neighbour dispute without the mediation is refused by the server; the
    refusal's code is shown in the user's language next to the solve button, then the mediation is kept."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        agent = await api_login(http, "agent")
        wo = await post(http, "/api/v1/work-orders", agent, {
            "kind": "complaint", "category": "neighbour_noise", "channel": "phone", "title": "楼上夜间噪音",
            "site": "demo", "building": "C", "unitNumber": "501",
        })  # fmt: skip
        agent_id = str(await db.fetchval("SELECT id FROM users WHERE username = 'agent'"))
        await post(http, f"/api/v1/work-orders/{wo['id']}/assign", agent, {"assigneeId": agent_id})
        await post(http, f"/api/v1/work-orders/{wo['id']}/investigate", agent, {"findings": "C-601 夜间装修"})
    page = await phone.new_page()
    await log_in(page, "agent")
    await page.wait_for_selector("#intake-form")
    await page.goto(f"/#/job/{wo['id']}")
    await page.wait_for_selector("#form-solve #mediation-parties")
    await page.fill("#solution", "约定装修时间 8:00-18:00")
    await page.click("[data-act='solve']")
    error = page.locator("[data-error-for='solve']")
    await error.wait_for()
    assert await error.inner_text() == "邻里纠纷须先调解：请记录双方当事人和调解结果"
    assert await page.locator("#conflicts .conflict").count() == 0  # said once, next to the button
    await screenshot(page, "34-complaint-mediation-refused")
    await page.fill("#mediation-parties", "C-501 业主、C-601 业主")
    await page.fill("#mediation-agreed", "601 夜间停止施工")
    await act(page, "solve")
    assert "601 夜间停止施工" in await page.inner_text("[data-mediation]")
    assert await page.inner_text("#job-status") == "已定方案"
