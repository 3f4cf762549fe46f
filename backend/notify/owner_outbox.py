"""Sends owners' messages from the outbox: each message once, across retries, restarts and processes.

A pass leases due rows (SELECT … FOR UPDATE SKIP LOCKED, then status 'sending' with a lease committed
before any send), so concurrent senders never take the same row. A sender that dies mid-send leaves its
row 'sending' past the lease: the send is in doubt. The next sender asks the SMS provider whether a
message with this row's key (SessionContext) went out and marks it sent instead of sending it again;
only when the provider has no trace is it sent once more. Failures back off 30 s, 1 min, 2 min … and
after MAX_ATTEMPTS end `failed`, listed for staff. Quiet hours were applied when the message was queued.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from backend.db.queries import owners as q
from backend.domain.clock import Clock
from backend.domain.owner_messages import KINDS, mask_phone, ordered_params, render, with_links
from backend.notify.email import SmtpConfig, SmtpEmail
from backend.notify.sms import SendResult, SmsConfig, TencentSms
from backend.settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 20
# Longer than any one send (the SDK's timeout is 10 s): a row is not in doubt while its sender is still at it.
LEASE_SECONDS = 60
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60
MAX_ATTEMPTS = 6
POLL_SECONDS = 2.0


class SmsProvider(Protocol):
    async def send(self, phone: str, kind: str, params: list[str], session_context: str) -> SendResult: ...

    async def was_sent(self, phone: str, session_context: str, since: datetime) -> str | None: ...


class EmailProvider(Protocol):
    async def send(
        self,
        address: str,
        subject: str,
        body: str,
        message_key: str,
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> SendResult: ...


class TerminalSms:
    """`caretaker up` with no SMS account: each SMS is printed on its terminal instead of sent, so the demo's
    owners can sign in with the code they are "sent". Never used once an SMS account is configured."""

    async def send(self, phone: str, kind: str, params: list[str], session_context: str) -> SendResult:
        text = render(kind, "zh-CN", dict(zip(KINDS[kind].params, params, strict=False)))
        print(f"[demo SMS to {mask_phone(phone)}] {text}", flush=True)
        return SendResult(ok=True, ref="terminal")

    async def was_sent(self, phone: str, session_context: str, since: datetime) -> str | None:
        return None  # nothing is lost by printing a demo message twice


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


@dataclass
class OutboxReport:
    sent: list[int] = field(default_factory=list)
    found_sent: list[int] = field(default_factory=list)
    """In doubt, and the provider had it: marked sent without sending again."""
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass
class OwnerOutbox:
    """One sender; run several (one per API process) against the same database."""

    clock: Clock
    sms: SmsProvider | None
    email: EmailProvider | None
    batch_size: int = BATCH_SIZE
    public_url: str = ""
    """Prefixed to the links messages carry (they are queued as paths)."""

    async def run_once(self, conn: asyncpg.Connection) -> OutboxReport:
        report = OutboxReport()
        now = self.clock.now()
        due = await q.claim_due(conn, now, now + timedelta(seconds=LEASE_SECONDS), self.batch_size)
        for message in due:
            await self._deliver(conn, message, report)
        return report

    async def _deliver(self, conn: asyncpg.Connection, m: q.DueMessage, report: OutboxReport) -> None:
        shown = mask_phone(m.recipient) if m.channel == "sms" else m.recipient.split("@")[-1]
        if m.channel == "sms":
            if self.sms is None:
                result = SendResult(ok=False, error="no SMS provider configured")
            else:
                if m.in_doubt:
                    started = m.last_attempt_started - timedelta(seconds=LEASE_SECONDS)
                    try:
                        ref = await self.sms.was_sent(m.recipient, m.key, started)
                    except Exception as exc:  # the lookup failing must not turn into a second SMS
                        error = f"status lookup: {type(exc).__name__}"
                        await q.keep_in_doubt(conn, m.id, m.attempts, self._later(m), error)
                        report.retried.append(m.id)
                        return
                    if ref is not None:
                        log.info("owner message %s to %s was sent before a restart (%s)", m.id, shown, ref)
                        await q.mark_sent(conn, m.id, m.attempts, self.clock.now(), ref)
                        await q.scrub_code_message(conn, m.id)
                        report.found_sent.append(m.id)
                        return
                params = with_links(m.params, self.public_url)
                result = await self.sms.send(m.recipient, m.kind, ordered_params(m.kind, params), m.key)
        elif self.email is None:
            result = SendResult(ok=False, error="no SMTP server configured")
        elif m.in_doubt and m.handed_over:
            # its sender died after handing the message to the SMTP server: SMTP cannot be asked whether
            # the server kept it, and sending again is what "once" forbids
            log.warning(
                "owner message %s to %s was handed over before a restart: not sent again", m.id, shown
            )
            await q.mark_sent(conn, m.id, m.attempts, self.clock.now(), "handed over; unconfirmed")
            report.found_sent.append(m.id)
            return
        else:
            subject = (
                m.body.split("】", 1)[0].lstrip("【") if m.locale != "en" else m.body.split("]", 1)[0][1:]
            )
            body = render(m.kind, m.locale, with_links(m.params, self.public_url))

            async def handing_over() -> None:
                await q.mark_handed_over(conn, m.id, m.attempts, self.clock.now())

            result = await self.email.send(m.recipient, subject, body, m.key, before_data=handing_over)
        now = self.clock.now()
        if result.in_doubt:
            log.warning(
                "owner message %s to %s: connection lost after handing over, not sent again", m.id, shown
            )
            await q.mark_sent(conn, m.id, m.attempts, now, f"handed over; unconfirmed ({result.error})"[:200])
            report.found_sent.append(m.id)
            return
        if result.ok:
            await q.mark_sent(conn, m.id, m.attempts, now, result.ref)
            await q.scrub_code_message(conn, m.id)
            report.sent.append(m.id)
            log.info("owner message %s (%s) sent to %s", m.id, m.channel, shown)
        elif result.permanent or m.attempts >= MAX_ATTEMPTS:
            await q.mark_failed(conn, m.id, m.attempts, now, result.error or "failed")
            await q.scrub_code_message(conn, m.id)
            report.failed.append(m.id)
            log.warning("owner message %s to %s failed for good: %s", m.id, shown, result.error)
        else:
            await q.mark_retry(
                conn, m.id, m.attempts, now + retry_delay(m.attempts), result.error or "failed"
            )
            report.retried.append(m.id)

    def _later(self, m: q.DueMessage) -> datetime:
        return self.clock.now() + retry_delay(m.attempts)


async def run_forever(outbox: OwnerOutbox, pool: asyncpg.Pool, poll_seconds: float = POLL_SECONDS) -> None:
    """Poll the outbox until cancelled; a failing pass is logged and the loop goes on."""
    while True:
        try:
            async with pool.acquire() as conn:
                report = await outbox.run_once(conn)
        except Exception:  # a bad pass must not stop the sender; the rows stay leased and come back
            log.exception("owner outbox pass failed")
            report = OutboxReport()
        if not (report.sent or report.retried or report.failed or report.found_sent):
            await asyncio.sleep(poll_seconds)


def parse_templates(raw: str) -> dict[str, str]:
    """ "kind=id,kind=id" (CARETAKER_SMS_TEMPLATES) as a dict."""
    pairs = [item.partition("=") for item in raw.replace(" ", ",").split(",") if item]
    return {kind.strip(): template.strip() for kind, _, template in pairs if template.strip()}


def outbox_from_settings(settings: Settings, clock: Clock) -> OwnerOutbox | None:
    """The sender this process runs, or None when neither SMS nor SMTP is configured."""
    sms = None
    if settings.sms_secret_id and settings.sms_secret_key and settings.sms_app_id:
        endpoint, protocol = settings.sms_endpoint, "https"
        if endpoint.startswith(("http://", "https://")):
            protocol, _, endpoint = endpoint.partition("://")
        sms = TencentSms(
            SmsConfig(
                secret_id=settings.sms_secret_id,
                secret_key=settings.sms_secret_key,
                app_id=settings.sms_app_id,
                sign_name=settings.sms_sign_name or "",
                templates=parse_templates(settings.sms_templates),
                region=settings.sms_region,
                endpoint=endpoint,
                protocol=protocol,
            )
        )
    email = None
    if settings.smtp_host:
        email = SmtpEmail(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                start_tls=settings.smtp_starttls,
            )
        )
    if sms is None and settings.sms_to_terminal:
        sms = TerminalSms()
    if sms is None and email is None:
        return None
    return OwnerOutbox(clock=clock, sms=sms, email=email, public_url=settings.reach_url)
