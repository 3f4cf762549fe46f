"""Email over SMTP with aiosmtplib, one step at a time so the outbox can mark the moment the message is
handed over (just before DATA): a sender that dies after that is not sent again (SMTP has no way to ask
whether the server kept it, and a server that has the whole message has almost always kept it). The
Message-ID is the outbox key, so a resend threads onto the first."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from backend.notify.sms import SendResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    sender: str = "noreply@localhost"
    username: str | None = None
    password: str | None = None
    start_tls: bool = False
    timeout: float = 15.0


class SmtpEmail:
    """Sends one plain-text message per call."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(
        self,
        address: str,
        subject: str,
        body: str,
        message_key: str,
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> SendResult:
        """Send one message; `before_data` runs (and must be durable) after the server took the sender
        and recipient, before the message itself goes. An error after that point is `in_doubt`."""
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = address
        msg["Subject"] = subject
        domain = self.config.sender.rpartition("@")[2] or "localhost"
        msg["Message-ID"] = f"<{message_key}@{domain}>"
        msg.set_content(body)
        handed_over = False
        smtp = aiosmtplib.SMTP(
            hostname=self.config.host,
            port=self.config.port,
            username=self.config.username,
            password=self.config.password,
            start_tls=self.config.start_tls,
            timeout=self.config.timeout,
        )
        try:
            await smtp.connect()
            try:
                await smtp.mail(self.config.sender)
                await smtp.rcpt(address)
                if before_data is not None:
                    await before_data()
                handed_over = True
                await smtp.data(msg.as_bytes())
            finally:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()
        except aiosmtplib.SMTPRecipientRefused as exc:
            return SendResult(ok=False, error=str(exc)[:500], permanent=True)
        except aiosmtplib.SMTPResponseException as exc:
            # the server answered: 5xx will not change, 4xx may; either way it did not keep the message
            log.warning("email %s refused: %s", message_key, exc.code)
            return SendResult(ok=False, error=f"{exc.code} {exc.message}"[:500], permanent=exc.code >= 500)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("email %s not sent: %s", message_key, type(exc).__name__)
            error = f"{type(exc).__name__}: {exc}"[:500]
            return SendResult(ok=False, error=error, in_doubt=handed_over)
        return SendResult(ok=True, ref=message_key)
