"""Email exactly once: a sender process killed while the SMTP server takes its message does not send it
again after a restart; one that died before handing it over sends it once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import pytest

from backend.db.queries import owners as q
from backend.domain.clock import ManualClock
from backend.notify.email import SmtpConfig, SmtpEmail
from backend.notify.owner_outbox import LEASE_SECONDS, OwnerOutbox
from backend.services.messages import notify_unit
from tests.owners.conftest import kill_sender_once, local_smtp


class HoldingInbox:
    """An SMTP server that keeps every message it receives and, when asked, stalls before answering the
    first one's DATA (as a server does that has the message and is slow to say so)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.hold_next = False
        self.held = threading.Event()
        self.released = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope.content)
        if self.hold_next:
            self.hold_next = False
            self.held.set()
            await asyncio.to_thread(self.released.wait, 60)
        return "250 OK"


@pytest.fixture
def holding_smtp() -> Iterator[tuple[SmtpConfig, HoldingInbox]]:
    inbox = HoldingInbox()
    with local_smtp(inbox) as config:
        try:
            yield config, inbox
        finally:
            inbox.released.set()  # a held DATA must answer before the server can stop


async def _queue_email(db: asyncpg.Connection, clock: ManualClock, event: str) -> int:
    owner = await db.fetchrow(
        "SELECT id, site_id, unit_id FROM residents WHERE phone IS NOT NULL ORDER BY phone LIMIT 1"
    )
    # email only: the owner has an address and no phone, so the SMS side plays no part
    await db.execute(
        "UPDATE residents SET email = 'owner@example.test', phone = NULL WHERE id = $1", owner["id"]
    )
    [message_id] = await notify_unit(
        db,
        now=clock.now(),
        site_id=owner["site_id"],
        unit_id=owner["unit_id"],
        kind="case_received",
        event_key=event,
        params={"number": "WO-9", "link": "/owner.html#u=x"},
    )
    return message_id


async def test_a_sender_killed_while_the_server_takes_the_email_does_not_send_it_again(
    db: asyncpg.Connection, db_url: str, day_clock: ManualClock, holding_smtp
) -> None:
    config, inbox = holding_smtp
    message_id = await _queue_email(db, day_clock, "e:mail-killed")
    inbox.hold_next = True
    await kill_sender_once(inbox.held, db_url, "-", day_clock.now().isoformat(), str(config.port))
    inbox.released.set()
    row = await db.fetchrow("SELECT status, handed_over_at FROM owner_messages WHERE id = $1", message_id)
    assert row["status"] == "sending" and row["handed_over_at"] is not None
    outbox = OwnerOutbox(day_clock, None, SmtpEmail(config))
    assert (await outbox.run_once(db)).sent == []  # still leased to the dead sender
    day_clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    report = await outbox.run_once(db)
    assert report.found_sent == [message_id] and report.sent == []
    day_clock.advance(timedelta(hours=1))
    await outbox.run_once(db)
    assert len(inbox.messages) == 1
    row = await db.fetchrow("SELECT status, provider_ref FROM owner_messages WHERE id = $1", message_id)
    assert row["status"] == "sent" and "unconfirmed" in row["provider_ref"]


async def test_a_sender_that_died_before_handing_the_email_over_sends_it_once(
    db: asyncpg.Connection, day_clock: ManualClock, holding_smtp
) -> None:
    config, inbox = holding_smtp
    message_id = await _queue_email(db, day_clock, "e:mail-early")
    now = day_clock.now()
    # a sender leased the row and died before it reached the server
    assert [m.id for m in await q.claim_due(db, now, now + timedelta(seconds=LEASE_SECONDS), 10)] == [
        message_id
    ]
    day_clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    outbox = OwnerOutbox(day_clock, None, SmtpEmail(config))
    assert (await outbox.run_once(db)).sent == [message_id]
    day_clock.advance(timedelta(hours=1))
    await outbox.run_once(db)
    assert len(inbox.messages) == 1
    assert b"Message-ID: <owner-message-" in inbox.messages[0]
