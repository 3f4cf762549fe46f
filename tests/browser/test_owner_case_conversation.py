"""The conversation on a case at phone size, in both languages: the owner writes from the owner's page, the
agent finds it on the list of owners waiting for an answer, opens the job (the message marked new, then
read) and replies; the owner sees the reply in the case's thread and gets it by SMS once."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from backend.domain.clock import ManualClock
from tests.browser.conftest import (
    SCREENSHOTS,
    LiveServer,
    OwnerSms,
    log_in,
    nav_to,
    new_phone,
    screenshot,
    wait_until,
)
from tests.browser.test_nav import assert_one_row_of_big_tabs
from tests.owners.conftest import at_site_time


async def test_an_owner_and_the_desk_talk_on_a_case(
    phone: BrowserContext, chromium: Browser, live_server: LiveServer, owner_sms: OwnerSms
) -> None:
    db, home, fake_sms, sms_config = owner_sms.db, owner_sms.home, owner_sms.sms, owner_sms.config
    # the outbox's own clock at 10:00 site time: past quiet hours whenever the test runs
    clock = ManualClock()
    at_site_time(clock, 10)
    outbox = owner_sms.outbox(clock, batch_size=50)

    owner = await phone.new_page()
    await owner_sms.sign_in_on(owner, outbox)
    await owner.fill("textarea[name=description]", "阳台地漏堵了，下雨会倒灌")
    await owner.click("#report button[type=submit]")
    await owner.wait_for_selector("li[data-case] [data-thread]")
    case_id = await owner.get_attribute("li[data-case]", "data-case")
    number = await db.fetchval("SELECT number FROM work_orders WHERE id = $1::uuid", case_id)

    # the owner opens the case's messages and writes
    await owner.click(f"[data-thread='{case_id}']")
    await owner.wait_for_selector("#message textarea")
    assert number in await owner.inner_text("#thread-section h2")
    await owner.fill("#message textarea", "明天下午两点以后家里有人，来之前请先打电话。")
    await owner.click("#message button[type=submit]")
    await owner.wait_for_selector("ul.thread li[data-from=owner]")
    assert "物业会尽快回复" in await owner.inner_text("#thread-msg")
    await screenshot(owner, "owner-thread-written-zh")

    # the agent sees the owner waiting, opens the job: the message is there, new, and gets read
    agent = await phone.new_page()
    await log_in(agent, "agent")
    # the navigation says so before anyone looks: on the agent's tab, and on a supervisor's "更多" (the tab
    # is inside it)
    count = agent.locator("[data-nav='ownerMessages'] [data-nav-count]:not([hidden])")
    assert await count.inner_text() == "1"
    assert await count.get_attribute("aria-label") == "1 位业主在等答复"
    await screenshot(agent, "owner-waiting-badge-zh")
    await assert_one_row_of_big_tabs(agent)
    await agent.click("#lang")
    # the navigation is drawn again in English (after the page's language changes): its count with it
    await wait_until(
        agent,
        "document.querySelector(\"[data-nav='ownerMessages'] [data-nav-count]:not([hidden])\")"
        "?.getAttribute('aria-label') === '1 owners waiting for an answer'",
    )
    await assert_one_row_of_big_tabs(agent)  # the longer English words and the count still fit
    await screenshot(agent, "owner-waiting-badge-en")
    await agent.click("#lang")
    await wait_until(agent, "document.documentElement.lang === 'zh-CN'")
    supervisors_phone = await new_phone(chromium, live_server)
    supervisor = await supervisors_phone.new_page()
    await log_in(supervisor, "supervisor")
    assert await supervisor.inner_text("[data-nav-count='more']:not([hidden])") == "1"
    await supervisor.click("#nav-more")
    assert await supervisor.inner_text("[data-nav='ownerMessages'] [data-nav-count]") == "1"
    await nav_to(agent, "ownerMessages")
    await agent.wait_for_selector(f"[data-waiting='{case_id}']")
    assert "明天下午两点以后" in await agent.inner_text(f"[data-waiting='{case_id}']")
    await screenshot(agent, "owner-waiting-zh")
    async with agent.expect_response(lambda r: r.url.endswith(f"/{case_id}/owner-messages/read")) as read:
        await agent.click(f"[data-waiting='{case_id}'] [data-case-link]")
    assert (await (await read.value).json()) == {"read": 1}
    incoming = "#owner-messages li[data-direction=in]"
    await agent.wait_for_selector(f"{incoming} [data-unread]")
    assert "明天下午两点以后家里有人" in await agent.inner_text(incoming)
    assert "业主留言" in await agent.inner_text(incoming)
    await agent.fill("#owner-reply-text", "好的，师傅明天下午三点上门，先打电话")
    await agent.evaluate("window.jobScreenSeen = document.querySelector('#owner-messages')")
    await agent.click("#owner-reply-send")
    await wait_until(agent, "document.querySelector('#owner-reply-result').textContent !== ''")
    # the card redraws itself; the job screen around it is not drawn again (past its 300 ms debounce)
    await agent.wait_for_timeout(800)
    assert await agent.evaluate("window.jobScreenSeen.isConnected") is True
    # answered: nobody waits any more, and the navigation's count goes at once
    await wait_until(agent, "[...document.querySelectorAll('[data-nav-count]')].every((e) => e.hidden)")
    await supervisor.reload()
    await supervisor.wait_for_selector("#nav-more")
    assert await supervisor.locator("[data-nav-count]:not([hidden])").count() == 0
    await supervisors_phone.close()
    await agent.locator("#owner-messages li[data-owner-message]:has-text('师傅明天下午三点上门')").wait_for()
    await agent.locator("#owner-messages").scroll_into_view_if_needed()
    await screenshot(agent, "owner-conversation-job-zh")
    # the card itself (the whole job screen is taller than its full-page shot shows)
    await card_screenshot(agent, "owner-conversation-card-zh")

    # answered: off the waiting list; the reply goes by SMS once
    await nav_to(agent, "ownerMessages")
    await agent.wait_for_selector(".owners-waiting")
    assert await agent.locator(f"[data-waiting='{case_id}']").count() == 0
    await outbox.run_once(db)
    await outbox.run_once(db)
    replies = [s for s in fake_sms.to(home["phone"]) if s.template == sms_config.templates["staff_reply"]]
    assert [s.params[2] for s in replies] == ["好的，师傅明天下午三点上门，先打电话"]

    # the owner sees the reply in the thread, by role and name (on a phone that now also runs the staff app,
    # whose service worker must leave the owner's page alone)
    await owner.reload()
    await owner.wait_for_selector("ul.thread li[data-from=staff]")
    staff_line = await owner.inner_text("ul.thread li[data-from=staff]")
    assert "师傅明天下午三点上门" in staff_line and "客服" in staff_line
    await screenshot(owner, "owner-thread-replied-zh")

    await owner.click("#lang")
    await wait_until(owner, "document.documentElement.lang === 'en'")
    # the thread draws again once it is back from the server: wait for the English words
    await wait_until(owner, "document.querySelector('#message button').textContent.includes('Send message')")
    assert "Customer service" in await owner.inner_text("ul.thread li[data-from=staff]")
    assert "You" in await owner.inner_text("ul.thread li[data-from=owner]")
    assert "Send message" in await owner.inner_text("#message button[type=submit]")
    await screenshot(owner, "owner-thread-replied-en")
    await owner.click("#back")
    await owner.wait_for_selector(f"[data-thread='{case_id}']")
    assert "Messages with the office" in await owner.inner_text(f"[data-thread='{case_id}']")
    # a case that is not the home's: refused, and the way back is there
    await owner.evaluate("location.hash = '#case/00000000-0000-4000-8000-000000000000'")
    await owner.wait_for_selector(".card.error")
    assert "No such case" in await owner.inner_text(".card.error")
    await owner.click("a.back")
    await owner.wait_for_selector(f"[data-thread='{case_id}']")
    assert await owner.evaluate("window.__i18nMissing") == []

    await agent.click("#lang")
    await wait_until(agent, "document.documentElement.lang === 'en'")
    await nav_to(agent, "ownerMessages")
    await wait_until(
        agent, "document.querySelector('#view').textContent.includes('Owners waiting for an answer')"
    )
    await screenshot(agent, "owner-waiting-en")
    await agent.goto(f"/#/job/{case_id}")
    await agent.wait_for_selector(f"{incoming}")
    assert "Message from the owner" in await agent.inner_text(incoming)
    assert await agent.locator(f"{incoming} [data-unread]").count() == 0
    await agent.locator("#owner-messages").scroll_into_view_if_needed()
    await screenshot(agent, "owner-conversation-job-en")
    # the card itself (the whole job screen is taller than its full-page shot shows)
    await card_screenshot(agent, "owner-conversation-card-en")
    assert await agent.evaluate("window.__i18nMissing") == []


async def card_screenshot(page: Page, name: str) -> None:
    """The messages card alone; the job screen may still be redrawing from the reply's delivery, so a card
    replaced under the camera is taken again."""
    for _ in range(5):
        try:
            await page.locator("#owner-messages").screenshot(path=str(SCREENSHOTS / f"{name}.png"))
            return
        except PlaywrightError:
            await page.wait_for_timeout(200)
    await page.locator("#owner-messages").screenshot(path=str(SCREENSHOTS / f"{name}.png"))
