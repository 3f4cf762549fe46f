"""The PWA under its Content-Security-Policy, and sessions that end as a user would see it.

Every role's path through the app — logging in, the job list and a job with a photo and a signature, the
printable record, the dashboard's charts, the guard console's live stream — runs with no CSP violation,
and no bearer token ever appears in a URL. Logging out ends the session on the server; a session ended
elsewhere takes an open console to the login screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Request
from playwright.async_api import Error as PlaywrightError

from tests.browser.conftest import PHONE_VIEWPORT, LiveServer, log_in, screenshot
from tests.browser.test_dashboard import check_charts, show_known_period
from tests.browser.test_technician_offline import api_login, draw_signature, photo_file, repair_assigned_to
from tests.integration.test_kpis import known_estate

pytestmark = pytest.mark.browser

# Recorded in every document (the receipt's sandboxed frame included) before any of its own code runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = e.sourceFile || e.documentURI;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${where}`);
});
"""


@dataclass
class Watch:
    """What the browser said about the policy, and every URL it asked for."""

    console: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or "Refused to" in message.text:
                self.console.append(message.text)

        def on_request(request: Request) -> None:
            self.urls.append(request.url)

        page.on("console", on_console)
        page.on("request", on_request)
        return page

    async def violations(self, page: Page) -> list[str]:
        reported = []
        for frame in page.frames:
            # a sandboxed frame without scripts may refuse evaluation; its violations reach the console
            with contextlib.suppress(PlaywrightError):
                reported += await frame.evaluate("window.__cspViolations || []")
        return reported + self.console

    async def requested(self, fragment: str) -> None:
        """Wait until the browser has asked for a URL containing `fragment`."""
        for _ in range(200):
            if any(fragment in url for url in self.urls):
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"the browser never asked for {fragment}")


@pytest.fixture
async def watched(phone: BrowserContext) -> Watch:
    """Record CSP violations in every page of the phone's profile."""
    await phone.add_init_script(RECORD_VIOLATIONS)
    return Watch()


async def test_the_app_works_under_its_content_security_policy(
    chromium: Browser,
    phone: BrowserContext,
    watched: Watch,
    live_server: LiveServer,
    db: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 厨房漏水")

    # a technician: the job list (with its live stream), a job with a photo and a signature, the record
    tech = watched.attach(await phone.new_page())
    await log_in(tech, "tech1")
    await tech.wait_for_selector(f"[data-job='{job['id']}']")
    await watched.requested("/api/v1/stream?ticket=")
    await tech.click(f"[data-job='{job['id']}'] a")
    await tech.click("[data-action='accept']")
    await tech.wait_for_selector("[data-action='arrive']")
    await tech.click("[data-action='arrive']")
    await tech.wait_for_selector("#photo-input", state="attached")
    await tech.select_option("#photo-stage", "after")  # on arrival "before" is offered
    await tech.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await tech.wait_for_selector("#view .photos img[src^='blob:']")
    for box in await tech.locator("input[name='check']").all():
        await box.check()
    await tech.fill("#cause", "阀芯老化")
    await tech.fill("#work-done", "更换阀芯")
    await tech.click("#complete")
    await tech.wait_for_selector("#signature-pad")
    await tech.fill("#signer-name", "张三")
    await draw_signature(tech)
    await tech.click("#sign-save")
    await tech.wait_for_selector("#job-status:has-text('已签字')", timeout=20_000)
    await tech.click("a[href^='#/receipt/']")
    # the record opens full page, its own style kept apart in a shadow root the locator reads through
    receipt = tech.locator("#receipt")
    await receipt.locator("text=张三").first.wait_for()
    # the record's own inline style applies there (allowed by its hash): 18pt = 24px headings,
    # and its photo and signature, inlined as data: URLs, are drawn
    assert await receipt.locator("h1").evaluate("(h) => getComputedStyle(h).fontSize") == "24px"
    for image in await receipt.locator("img").all():
        assert await image.evaluate("(img) => img.complete && img.naturalWidth > 0")
    await screenshot(tech, "50-csp-receipt")
    tech_violations = await watched.violations(tech)

    # a manager: the dashboard's charts
    await known_estate(db)
    site_id = str(await db.fetchval("SELECT id FROM sites WHERE code = 'kpi'"))
    desk = await chromium.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url, locale="zh-CN"
    )
    try:
        await desk.add_init_script(RECORD_VIOLATIONS)
        manager = watched.attach(await desk.new_page())
        await log_in(manager, "manager")
        await manager.wait_for_selector("#dash-body[data-loaded]:not([aria-busy])")
        await show_known_period(manager, site_id)
        await check_charts(manager)
        await screenshot(manager, "51-csp-dashboard")
        manager_violations = await watched.violations(manager)
    finally:
        await desk.close()

    # a guard: the console's live stream
    guard_context = await chromium.new_context(
        viewport=PHONE_VIEWPORT, base_url=live_server.url, locale="zh-CN"
    )
    try:
        await guard_context.add_init_script(RECORD_VIOLATIONS)
        guard = watched.attach(await guard_context.new_page())
        await log_in(guard, "guard1")
        await guard.wait_for_selector("#stream-state:has-text('实时')", timeout=10_000)
        guard_violations = await watched.violations(guard)
    finally:
        await guard_context.close()

    assert tech_violations == [] and manager_violations == [] and guard_violations == []
    streams = [url for url in watched.urls if "/api/v1/stream?" in url]
    assert streams and all("ticket=" in url for url in streams)
    assert [url for url in watched.urls if "access_token" in url or "token=ey" in url] == []


async def _open_sessions(db: asyncpg.Connection, username: str) -> list[str | None]:
    return [
        r["ended_why"]
        for r in await db.fetch(
            """SELECT s.ended_why FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE u.username = $1 ORDER BY s.created_at""",
            username,
        )
    ]


async def test_the_logout_button_ends_the_session_on_the_server(
    phone: BrowserContext, db: asyncpg.Connection
) -> None:
    page = await phone.new_page()
    await log_in(page, "tech2")
    assert await _open_sessions(db, "tech2") == [None]
    await page.click("#logout")
    await page.wait_for_selector("#login-submit")
    assert await _open_sessions(db, "tech2") == ["logout"]
    assert await page.evaluate("location.hash") == "#/login"


async def test_signing_out_everywhere_takes_an_open_console_to_the_login_screen(
    phone: BrowserContext, live_server: LiveServer
) -> None:
    page = await phone.new_page()
    await log_in(page, "guard2")
    await page.wait_for_selector("#stream-state:has-text('实时')", timeout=10_000)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        elsewhere = await api_login(http, "guard2")
        r = await http.post("/api/v1/auth/logout-all", headers=elsewhere)
        assert r.status_code == 200, r.text
    await page.wait_for_selector("#login-submit", timeout=10_000)
    assert (await page.evaluate("location.hash")).startswith("#/login")
    await screenshot(page, "52-signed-out-elsewhere")
