"""A sender in a process of its own, for tests that kill one mid-send:
python -m tests.owners.outbox_worker DB_URL SMS_ENDPOINT CLOCK_ISO [SMTP_PORT]
(SMS_ENDPOINT "-": no SMS provider; SMTP_PORT: email through a local SMTP server on that port)"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from backend.db.pool import connect
from backend.domain.clock import ManualClock
from backend.notify.email import SmtpConfig, SmtpEmail
from backend.notify.owner_outbox import OwnerOutbox
from backend.notify.sms import SmsConfig, TencentSms
from tests.owners.conftest import TEMPLATES
from tests.owners.fake_sms_provider import SECRET_ID, SECRET_KEY


async def main(db_url: str, endpoint: str, when: str, smtp_port: str | None = None) -> None:
    config = SmsConfig(
        SECRET_ID, SECRET_KEY, "1400000001", "幸福里物业", TEMPLATES, endpoint=endpoint, protocol="http"
    )
    sms = TencentSms(config) if endpoint != "-" else None
    email = None
    if smtp_port:
        email = SmtpEmail(SmtpConfig(host="127.0.0.1", port=int(smtp_port), sender="wuye@example.test"))
    outbox = OwnerOutbox(clock=ManualClock(datetime.fromisoformat(when)), sms=sms, email=email)
    conn = await connect(db_url)
    try:
        print("sending", flush=True)
        await outbox.run_once(conn)
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
