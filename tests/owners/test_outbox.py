"""The owners' outbox against a local Tencent-SMS stand-in and a local SMTP server: each message once,
across provider failures, a sender killed mid-send and two senders at once; quiet hours, opt-out, masking."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import asyncpg
import pytest

from backend.db.pool import connect
from backend.db.queries import owners as q
from backend.domain.clock import ManualClock
from backend.notify.email import SmtpEmail
from backend.notify.owner_outbox import LEASE_SECONDS, MAX_ATTEMPTS, OwnerOutbox, retry_delay
from backend.notify.sms import SmsConfig, TencentSms
from backend.services.messages import notify_unit
from tests.owners.conftest import Owners, at_site_time, kill_sender_once
from tests.owners.fake_sms_provider import FakeSmsProvider


async def _owner(db: asyncpg.Connection) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT id, site_id, unit_id, phone FROM residents WHERE phone IS NOT NULL ORDER BY phone LIMIT 1"
    )


async def _queue(
    db: asyncpg.Connection, clock: ManualClock, owner: asyncpg.Record, event: str, kind: str = "case_received"
) -> list[int]:
    return await notify_unit(
        db,
        now=clock.now(),
        site_id=owner["site_id"],
        unit_id=owner["unit_id"],
        kind=kind,
        event_key=event,
        params={
            "number": "WO-1",
            "link": "http://x/o/1",
            "technician": "王师傅",
            "badge": "T01",
            "window": "10:00-11:00",
        },
    )


async def _status(db: asyncpg.Connection, message_id: int) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT status, attempts, last_error FROM owner_messages WHERE id = $1", message_id
    )


async def test_a_wrong_key_is_refused_by_the_provider_signature_check(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    [message_id] = await _queue(db, day_clock, owner, "e:bad-key")
    wrong = SmsConfig(**{**sms_config.__dict__, "secret_key": "not-the-key"})
    report = await OwnerOutbox(day_clock, TencentSms(wrong), None).run_once(db)
    assert report.retried == [message_id]
    assert fake_sms.rejected_signatures == 1 and fake_sms.accepted == []
    assert "AuthFailure" in (await _status(db, message_id))["last_error"]


async def test_provider_failures_are_retried_with_backoff_and_one_sms_goes(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    [message_id] = await _queue(db, day_clock, owner, "e:retry")
    assert await _queue(db, day_clock, owner, "e:retry") == []  # the same fact queued again is a no-op
    fake_sms.fail_first = 2
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None)
    assert (await outbox.run_once(db)).retried == [message_id]
    day_clock.advance(retry_delay(1) - timedelta(seconds=1))
    assert (await outbox.run_once(db)).retried == []  # not due yet: backoff holds
    day_clock.advance(timedelta(seconds=1))
    assert (await outbox.run_once(db)).retried == [message_id]
    day_clock.advance(retry_delay(2))
    assert (await outbox.run_once(db)).sent == [message_id]
    day_clock.advance(timedelta(hours=1))
    assert (await outbox.run_once(db)).sent == []
    assert len(fake_sms.to(owner["phone"])) == 1 and fake_sms.send_calls == 3
    sms = fake_sms.to(owner["phone"])[0]
    assert sms.params[1] == "WO-1" and sms.template
    row = await _status(db, message_id)
    assert row["status"] == "sent" and row["attempts"] == 3


async def test_failures_end_failed_and_listed_for_staff(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    [message_id] = await _queue(db, day_clock, owner, "e:fail")
    fake_sms.fail_first = 100
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None)
    for _ in range(MAX_ATTEMPTS):
        await outbox.run_once(db)
        day_clock.advance(timedelta(hours=1))
    assert (await _status(db, message_id))["status"] == "failed"
    rows, total = await q.failed_messages(db, owner["site_id"], 50, 0)
    assert total == 1 and rows[0]["id"] == message_id and "InternalError" in rows[0]["last_error"]
    assert fake_sms.accepted == []


async def test_a_sender_killed_mid_send_does_not_send_twice(
    db: asyncpg.Connection,
    db_url: str,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
) -> None:
    owner = await _owner(db)
    [message_id] = await _queue(db, day_clock, owner, "e:killed")
    fake_sms.hold_next = True  # the provider takes the message, then the sender dies before the answer
    await kill_sender_once(fake_sms.held, db_url, fake_sms.endpoint, day_clock.now().isoformat())
    fake_sms.release()
    assert (await _status(db, message_id))["status"] == "sending"
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None)
    assert (await outbox.run_once(db)).sent == []  # still leased to the dead sender
    day_clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    report = await outbox.run_once(db)
    assert report.found_sent == [message_id] and report.sent == []
    assert len(fake_sms.to(owner["phone"])) == 1
    assert (await _status(db, message_id))["status"] == "sent"


async def test_a_sender_that_died_before_reaching_the_provider_is_sent_once(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    [message_id] = await _queue(db, day_clock, owner, "e:died-early")
    now = day_clock.now()
    # a sender leased the row and died before its request left
    assert [m.id for m in await q.claim_due(db, now, now + timedelta(seconds=LEASE_SECONDS), 10)] == [
        message_id
    ]
    day_clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    report = await OwnerOutbox(day_clock, TencentSms(sms_config), None).run_once(db)
    assert report.sent == [message_id]
    assert len(fake_sms.to(owner["phone"])) == 1


async def test_two_senders_share_the_outbox_without_sending_twice(owners: Owners, db_url: str) -> None:
    db, day_clock, fake_sms = owners.db, owners.clock, owners.sms
    owner = await _owner(db)
    ids = []
    for n in range(12):
        ids += await _queue(db, day_clock, owner, f"e:many:{n}")
    conns = [await connect(db_url), await connect(db_url)]
    try:
        senders = [owners.outbox(batch_size=3) for _ in conns]

        async def drain(sender: OwnerOutbox, conn: asyncpg.Connection) -> list[int]:
            sent: list[int] = []
            while report := await sender.run_once(conn):
                if not report.sent:
                    return sent
                sent += report.sent
            return sent

        first, second = await asyncio.gather(*(drain(s, c) for s, c in zip(senders, conns, strict=True)))
    finally:
        for conn in conns:
            await conn.close()
    assert sorted(first + second) == sorted(ids) and not set(first) & set(second)
    contexts = [s.session_context for s in fake_sms.to(owner["phone"])]
    assert len(contexts) == 12 == len(set(contexts))


async def test_quiet_hours_hold_non_urgent_sms_until_eight(
    db: asyncpg.Connection, clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    at_site_time(clock, 23)
    [routine] = await _queue(db, clock, owner, "e:night")
    [urgent] = await _queue(db, clock, owner, "e:night-cut", kind="building_outage")
    outbox = OwnerOutbox(clock, TencentSms(sms_config), None)
    assert (await outbox.run_once(db)).sent == [urgent]
    at_site_time(clock, 7, 59)
    assert (await outbox.run_once(db)).sent == []
    at_site_time(clock, 8)
    assert (await outbox.run_once(db)).sent == [routine]


async def test_an_owner_who_opted_out_gets_only_urgent_messages(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    await db.execute("UPDATE residents SET messages_opt_out = true WHERE id = $1", owner["id"])
    await _queue(db, day_clock, owner, "e:optout")
    routine = await db.fetchval("SELECT status FROM owner_messages WHERE event_key = 'e:optout'")
    assert routine == "suppressed"
    [urgent] = await _queue(db, day_clock, owner, "e:optout-cut", kind="building_outage")
    report = await OwnerOutbox(day_clock, TencentSms(sms_config), None).run_once(db)
    assert report.sent == [urgent]
    assert [s.template for s in fake_sms.to(owner["phone"])] == [sms_config.templates["building_outage"]]


async def test_a_site_can_switch_a_message_off(
    db: asyncpg.Connection, day_clock: ManualClock, fake_sms: FakeSmsProvider, sms_config: SmsConfig
) -> None:
    owner = await _owner(db)
    await db.execute(
        """UPDATE sites SET settings = settings || '{"ownerMessagesOff": ["on_the_way"]}'::jsonb
           WHERE id = $1""",
        owner["site_id"],
    )
    await _queue(db, day_clock, owner, "e:off", kind="on_the_way")
    assert await db.fetchval("SELECT status FROM owner_messages WHERE event_key = 'e:off'") == "suppressed"
    assert (await OwnerOutbox(day_clock, TencentSms(sms_config), None).run_once(db)).sent == []


async def test_email_goes_over_smtp_in_the_owners_language(
    db: asyncpg.Connection, day_clock: ManualClock, smtp_server
) -> None:
    config, inbox = smtp_server
    owner = await _owner(db)
    await db.execute(
        "UPDATE residents SET email = 'owner@example.test', locale = 'en' WHERE id = $1", owner["id"]
    )
    ids = await _queue(db, day_clock, owner, "e:mail")
    report = await OwnerOutbox(day_clock, None, SmtpEmail(config)).run_once(db)
    email_id = await db.fetchval(
        "SELECT id FROM owner_messages WHERE event_key = 'e:mail' AND channel = 'email'"
    )
    assert email_id in report.sent and len(ids) == 2
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "owner@example.test"
    assert "We have your request WO-1" in message.get_payload(decode=True).decode()


async def test_logs_never_carry_a_whole_phone_number(
    db: asyncpg.Connection,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = await _owner(db)
    fake_sms.fail_first = 1
    await _queue(db, day_clock, owner, "e:log")
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None)
    await outbox.run_once(db)
    day_clock.advance(timedelta(hours=1))
    await outbox.run_once(db)
    phone = owner["phone"]
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{phone[:3]}****{phone[-4:]}" in text
    assert phone not in text
