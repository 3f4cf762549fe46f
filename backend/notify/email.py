"""Email over SMTP with aiosmtplib. The Message-ID is the outbox key, so a resend after a crash threads
onto (and is deduplicated by most mail clients against) the first."""

from __future__ import annotations

import logging
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

    async def send(self, address: str, subject: str, body: str, message_key: str) -> SendResult:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = address
        msg["Subject"] = subject
        domain = self.config.sender.rpartition("@")[2] or "localhost"
        msg["Message-ID"] = f"<{message_key}@{domain}>"
        msg.set_content(body)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.config.host,
                port=self.config.port,
                username=self.config.username,
                password=self.config.password,
                start_tls=self.config.start_tls,
                timeout=self.config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult(ok=False, error=str(exc)[:500], permanent=True)
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("email %s not sent: %s", message_key, type(exc).__name__)
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(ok=True, ref=message_key)
