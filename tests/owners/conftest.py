"""Fixtures for owners' messages: the fake SMS provider, a local SMTP server, a daytime clock, and `owners`:
the app and its database with owners' SMS going through the outbox to the fake provider (sign-in included)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.domain.owner_messages import KINDS
from backend.notify.email import SmtpConfig
from backend.notify.owner_outbox import OwnerOutbox
from backend.notify.sms import SmsConfig, TencentSms
from tests.owners.fake_sms_provider import SECRET_ID, SECRET_KEY, FakeSmsProvider

API = "/api/v1/owner"
SITE_ZONE = ZoneInfo("Asia/Shanghai")
TEMPLATES = {kind: str(100000 + n) for n, kind in enumerate(sorted(KINDS))}


def at_site_time(clock: ManualClock, hour: int, minute: int = 0) -> None:
    """Move the clock to today's hour:minute at the site (later today or tomorrow, never backwards)."""
    local = clock.now().astimezone(SITE_ZONE)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    clock.set(target)


@pytest.fixture
def fake_sms() -> Iterator[FakeSmsProvider]:
    provider = FakeSmsProvider()
    provider.endpoint = provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def sms_config(fake_sms: FakeSmsProvider) -> SmsConfig:
    return SmsConfig(
        secret_id=SECRET_ID,
        secret_key=SECRET_KEY,
        app_id="1400000001",
        sign_name="幸福里物业",
        templates=TEMPLATES,
        endpoint=fake_sms.endpoint,
        protocol="http",
    )


class _Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@contextmanager
def local_smtp(handler: object) -> Iterator[SmtpConfig]:
    """An SMTP server on a free local port handing what it receives to `handler`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpConfig(host="127.0.0.1", port=port, sender="wuye@example.test")
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpConfig, _Inbox]]:
    inbox = _Inbox()
    with local_smtp(inbox) as config:
        yield config, inbox


async def kill_sender_once(held: threading.Event, *args: str) -> None:
    """Run tests/owners/outbox_worker.py with `args` in a process of its own and kill it once `held` is set
    (the provider or the SMTP server holds the worker's message, so it dies mid-send)."""
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, killed below; nothing awaits it
        [sys.executable, "-m", "tests.owners.outbox_worker", *args], stdout=subprocess.PIPE
    )
    try:
        assert await asyncio.to_thread(held.wait, 60), "the worker never handed its message over"
    finally:
        worker.kill()
        worker.wait()


@pytest.fixture
def day_clock(clock: ManualClock) -> ManualClock:
    """The app's clock at 10:00 site time (outside quiet hours)."""
    at_site_time(clock, 10)
    return clock


@dataclass
class Owners:
    """The app and its database at daytime, owners' SMS sent through the outbox to the fake provider."""

    client: AsyncTestClient
    db: asyncpg.Connection
    clock: ManualClock
    sms: FakeSmsProvider
    sms_config: SmsConfig

    def outbox(self, **options: Any) -> OwnerOutbox:
        return OwnerOutbox(self.clock, TencentSms(self.sms_config), None, **options)

    async def home(self, offset: int = 0) -> asyncpg.Record:
        """A unit with a registered phone (`offset` picks another one): id, owner_link, phone."""
        return await self.db.fetchrow(
            """SELECT u.id, u.owner_link, r.phone FROM residents r JOIN units u ON u.id = r.unit_id
               WHERE r.phone IS NOT NULL ORDER BY r.phone OFFSET $1 LIMIT 1""",
            offset,
        )

    async def code_by_sms(self, home: asyncpg.Record) -> str:
        """Ask for a sign-in code for `home` and read it from the SMS the provider received."""
        r = await self.client.post(f"{API}/codes", json={"link": home["owner_link"], "phone": home["phone"]})
        assert r.status_code == 202, r.text
        await self.outbox().run_once(self.db)
        return self.sms.to(home["phone"])[-1].params[1]

    async def sign_in(self, home: asyncpg.Record) -> dict[str, str]:
        """Bearer headers for the owner of `home`, signed in with the code sent by SMS."""
        code = await self.code_by_sms(home)
        r = await self.client.post(
            f"{API}/sessions", json={"link": home["owner_link"], "phone": home["phone"], "code": code}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def owners(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
) -> Owners:
    return Owners(client, db, day_clock, fake_sms, sms_config)
