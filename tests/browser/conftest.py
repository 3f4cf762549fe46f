"""Browser fixtures: the real app under uvicorn on a free port, Debian's Chromium driven by Playwright.

Never `playwright install`: Playwright's own download does not work here; Debian's Chromium does.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from backend.app import create_app
from backend.domain.clock import Clock, SystemClock
from backend.notify.owner_outbox import OwnerOutbox
from backend.notify.sms import SmsConfig, TencentSms
from backend.settings import Settings
from tests.conftest import DEMO_PASSWORD, TEST_SECRET, skip_or_fail
from tests.owners.conftest import fake_sms, sms_config  # noqa: F401 - fixtures the owner's page needs
from tests.owners.fake_sms_provider import FakeSmsProvider

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# An ordinary phone in portrait: what a technician holds.
PHONE_VIEWPORT = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SERVER_START_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """The app listening on 127.0.0.1:port."""

    url: str
    server: uvicorn.Server


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The real app on a free port against the test's demo database (its own thread and event loop)."""
    port = free_port()
    settings = Settings(
        # the address served, as `caretaker api` knows it: printed records link there
        host="127.0.0.1",
        port=port,
        database_url=db_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path / "data",
        scheduler_enabled=False,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),  # its own: a stopping server may still hold the one before
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,  # as `caretaker api` runs it
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", server=server)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat at session start
        skip_or_fail("Chromium is missing (apt-get install -y chromium fonts-liberation fonts-noto-cjk)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def new_phone(chromium: Browser, live_server: LiveServer, scale: int = 2) -> BrowserContext:
    """A fresh phone-sized browser profile pointed at the live server (the caller closes it); `scale` is
    device pixels per CSS pixel."""
    return await chromium.new_context(
        viewport=PHONE_VIEWPORT,
        device_scale_factor=scale,
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )


@pytest.fixture
async def phone(chromium: Browser, live_server: LiveServer) -> AsyncIterator[BrowserContext]:
    """A fresh phone-sized browser profile pointed at the live server."""
    context = await new_phone(chromium, live_server)
    yield context
    await context.close()


@dataclass
class OwnerSms:
    """Unit A-302's registered owner (`home`: id, owner_link, phone) and the fake SMS provider their
    messages reach through the owners' outbox."""

    db: asyncpg.Connection
    home: asyncpg.Record
    sms: FakeSmsProvider
    config: SmsConfig

    def outbox(self, clock: Clock | None = None, **options: Any) -> OwnerOutbox:
        """The outbox on the real clock, unless the test moves its own."""
        return OwnerOutbox(clock or SystemClock(), TencentSms(self.config), None, **options)

    async def sign_in_on(self, page: Page, outbox: OwnerOutbox | None = None) -> None:
        """Sign in on the owner's page as an owner does: the unit's link, the phone, the code by SMS."""
        await page.goto(f"/owner.html#u={self.home['owner_link']}")
        await page.wait_for_selector("#phone")
        await page.fill("#phone", self.home["phone"])
        await page.click("#send")
        await wait_until(page, "document.querySelector('#msg').textContent.length > 0")
        await (outbox or self.outbox()).run_once(self.db)
        await page.fill("#code", self.sms.to(self.home["phone"])[-1].params[1])
        await page.click("#signin")
        await page.wait_for_selector("#report")


@pytest.fixture
async def owner_sms(
    db: asyncpg.Connection,
    fake_sms: FakeSmsProvider,  # noqa: F811
    sms_config: SmsConfig,  # noqa: F811
) -> OwnerSms:
    home = await db.fetchrow(
        """SELECT u.id, u.owner_link, r.phone FROM residents r JOIN units u ON u.id = r.unit_id
           JOIN buildings b ON b.id = u.building_id WHERE b.code = 'A' AND u.number = '302'"""
    )
    return OwnerSms(db, home, fake_sms, sms_config)


async def screenshot(page: Page, name: str) -> Path:
    """Save a full-page phone screenshot for review under tests/browser/screenshots/."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Open the app and log in through the form."""
    await page.goto("/")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#login-submit")
    await page.wait_for_selector("#nav a", timeout=10_000)


async def nav_to(page: Page, name: str) -> None:
    """Open a screen from the navigation, through the "More" menu when its tab is not in the bar."""
    tab = page.locator(f"#nav [data-nav='{name}']")
    await tab.wait_for(state="attached")
    if not await tab.is_visible():
        await page.click("#nav-more")
    await tab.click()


# How often wait_until asks the page again.
POLL_SECONDS = 0.05


async def wait_until(page: Page, expression: str, timeout: float = 30_000) -> None:  # noqa: ASYNC109
    """Wait until a JavaScript expression is true in the page (`timeout` in ms, like Playwright's).

    Playwright's own wait_for_function polls with eval inside the page, which the app's
    Content-Security-Policy (no 'unsafe-eval') forbids; page.evaluate goes through the DevTools protocol.
    """
    deadline = time.monotonic() + timeout / 1000
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} ms: {expression}")
        await asyncio.sleep(POLL_SECONDS)


async def wait_for_service_worker(page: Page) -> None:
    """Wait until a service worker controls the page (it caches the shell on install)."""
    await wait_until(page, "navigator.serviceWorker.controller !== null", timeout=15_000)
