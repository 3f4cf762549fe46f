"""Fixtures for owners' messages: the fake SMS provider, a local SMTP server, a daytime clock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from backend.domain.clock import ManualClock
from backend.domain.owner_messages import KINDS
from backend.notify.email import SmtpConfig
from backend.notify.sms import SmsConfig
from tests.owners.fake_sms_provider import SECRET_ID, SECRET_KEY, FakeSmsProvider

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


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpConfig, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpConfig(host="127.0.0.1", port=port, sender="wuye@example.test"), inbox
    finally:
        controller.stop()


@pytest.fixture
def day_clock(clock: ManualClock) -> ManualClock:
    """The app's clock at 10:00 site time (outside quiet hours)."""
    at_site_time(clock, 10)
    return clock
