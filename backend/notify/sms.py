"""SMS through Tencent Cloud SMS (tencentcloud-sdk-python-sms), endpoint configurable.

The SDK is synchronous (requests), so calls run in a worker thread. Each message carries its outbox key
as SessionContext, which the provider echoes in its send-status reports: that is how a send left in doubt
by a crash is looked up instead of being sent twice (`was_sent`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from backend.domain.owner_messages import mask_phone, mask_phones_in

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"
SEND_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmsConfig:
    """A Tencent Cloud SMS account: keys, SDK app, approved signature and one template id per kind."""

    secret_id: str
    secret_key: str
    app_id: str
    sign_name: str
    templates: dict[str, str] = field(default_factory=dict)
    region: str = "ap-guangzhou"
    endpoint: str = DEFAULT_ENDPOINT
    protocol: str = "https"


@dataclass(frozen=True)
class SendResult:
    """ok: the provider accepted it (ref is its serial number); otherwise error says why."""

    ok: bool
    ref: str | None = None
    error: str | None = None
    permanent: bool = False
    """A refusal that no retry will change (unknown template, invalid number)."""
    in_doubt: bool = False
    """The connection broke after the message was handed over: it may have been kept (never resent)."""


# Provider codes a retry cannot fix.
_PERMANENT = (
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "UnsupportedOperation",
)


class _MaskPhones(logging.Filter):
    """The SDK logs whole requests at DEBUG, phone numbers included: mask them before any handler sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_phones_in(record.getMessage())
        record.args = None
        return True


# the SDK's own logger name (tencentcloud.common.abstract_client)
logging.getLogger("tencentcloud_sdk_common").addFilter(_MaskPhones())


def _e164(phone: str) -> str:
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentSms:
    """Sends template SMS and looks up whether a message was sent."""

    def __init__(self, config: SmsConfig) -> None:
        self.config = config
        profile = ClientProfile(
            httpProfile=HttpProfile(
                protocol=config.protocol, endpoint=config.endpoint, reqTimeout=SEND_TIMEOUT_SECONDS
            )
        )
        self.client = sms_client.SmsClient(
            credential.Credential(config.secret_id, config.secret_key), config.region, profile
        )

    async def send(self, phone: str, kind: str, params: list[str], session_context: str) -> SendResult:
        template = self.config.templates.get(kind)
        if not template:
            return SendResult(ok=False, error=f"no SMS template configured for {kind}", permanent=True)
        return await asyncio.to_thread(self._send, phone, template, params, session_context)

    def _send(self, phone: str, template: str, params: list[str], session_context: str) -> SendResult:
        req = models.SendSmsRequest()
        req.PhoneNumberSet = [_e164(phone)]
        req.SmsSdkAppId = self.config.app_id
        req.SignName = self.config.sign_name
        req.TemplateId = template
        req.TemplateParamSet = params
        req.SessionContext = session_context
        try:
            resp = self.client.SendSms(req)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or "ClientError"
            error = mask_phones_in(f"{code}: {exc.get_message()}")[:500]
            log.warning("SMS to %s not sent: %s", mask_phone(phone), error)
            return SendResult(ok=False, error=error, permanent=code.startswith(_PERMANENT))
        status = (resp.SendStatusSet or [None])[0]
        if status is None or status.Code != "Ok":
            code = status.Code if status else "NoStatus"
            error = mask_phones_in(f"{code}: {status.Message if status else ''}")[:500]
            log.warning("SMS to %s refused: %s", mask_phone(phone), error)
            return SendResult(ok=False, error=error, permanent=code.startswith(_PERMANENT))
        log.info("SMS to %s accepted (%s)", mask_phone(phone), status.SerialNo)
        return SendResult(ok=True, ref=status.SerialNo)

    async def was_sent(self, phone: str, session_context: str, since: datetime) -> str | None:
        """The serial number of a message sent to `phone` with this SessionContext since `since`, if any."""
        return await asyncio.to_thread(self._was_sent, phone, session_context, since)

    def _was_sent(self, phone: str, session_context: str, since: datetime) -> str | None:
        req = models.PullSmsSendStatusByPhoneNumberRequest()
        req.PhoneNumber = _e164(phone)
        req.SmsSdkAppId = self.config.app_id
        req.BeginTime = int((since - timedelta(minutes=1)).timestamp())
        req.Offset = 0
        req.Limit = 100
        resp = self.client.PullSmsSendStatusByPhoneNumber(req)
        for item in resp.PullSmsSendStatusSet or []:
            if item.SessionContext == session_context:
                return item.SerialNo
        return None
