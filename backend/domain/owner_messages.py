"""What owners are told: message kinds, their templates in zh-CN and en, urgency, quiet hours, masking.

Pure data and rules; the outbox (backend/services/messages.py) renders and sends. SMS templates carry
their parameters in order because a Chinese SMS provider sends only pre-approved templates with
numbered placeholders ({1}, {2}, …); the text here is what the approved template must say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# No non-urgent SMS between these local times (site time zone).
QUIET_START = time(22, 0)
QUIET_END = time(8, 0)


@dataclass(frozen=True)
class MessageKind:
    """One thing owners can be told: its parameters (in template order) and whether it is urgent."""

    code: str
    params: tuple[str, ...]
    urgent: bool
    zh: str
    en: str


KINDS: dict[str, MessageKind] = {
    k.code: k
    for k in (
        MessageKind(
            "case_received",
            ("site", "number", "link"),
            False,
            "【{site}】您的报修已受理，单号{number}，进度查看：{link}",
            "[{site}] We have your request {number}. Follow it here: {link}",
        ),
        MessageKind(
            "technician_assigned",
            ("site", "number", "technician", "badge", "window"),
            False,
            "【{site}】单号{number}：维修师傅{technician}（工号{badge}）将于{window}上门。",
            "[{site}] {number}: technician {technician} (badge {badge}) will arrive {window}.",
        ),
        MessageKind(
            "arrival_changed",
            ("site", "number", "technician", "window"),
            False,
            "【{site}】单号{number}：{technician}师傅的上门时间改为{window}。",
            "[{site}] {number}: {technician}'s arrival is now {window}.",
        ),
        MessageKind(
            "on_the_way",
            ("site", "number", "technician"),
            False,
            "【{site}】单号{number}：{technician}师傅已出发，请留意。",
            "[{site}] {number}: {technician} is on the way.",
        ),
        MessageKind(
            "completed",
            ("site", "number", "link"),
            False,
            "【{site}】单号{number}已完工，服务记录：{link}",
            "[{site}] {number} is done. Service record: {link}",
        ),
        MessageKind(
            "rating_request",
            ("site", "number", "link"),
            False,
            "【{site}】请为单号{number}的服务打分：{link}",
            "[{site}] Please rate the work on {number}: {link}",
        ),
        MessageKind(
            "complaint_first_reply",
            ("site", "number", "reply"),
            False,
            "【{site}】您的投诉{number}已有回复：{reply}",
            "[{site}] Your complaint {number} has a reply: {reply}",
        ),
        MessageKind(
            "complaint_result",
            ("site", "number", "result"),
            False,
            "【{site}】您的投诉{number}处理结果：{result}",
            "[{site}] The outcome of your complaint {number}: {result}",
        ),
        MessageKind(
            "building_outage",
            ("site", "building", "what"),
            True,
            "【{site}】{building}{what}，物业正在处理，请注意安全。",
            "[{site}] {building}: {what}. The management office is on it.",
        ),
        MessageKind(
            "building_restored",
            ("site", "building", "what"),
            True,
            "【{site}】{building}{what}已恢复，感谢您的耐心。",
            "[{site}] {building}: {what} is back. Thank you for your patience.",
        ),
        MessageKind(
            "sign_in_code",
            ("site", "code", "minutes"),
            True,
            "【{site}】您的登录验证码为{code}，{minutes}分钟内有效，请勿告诉他人。",
            "[{site}] Your sign-in code is {code}, valid for {minutes} minutes. Do not share it.",
        ),
    )
}

# Kinds a site may switch off (a sign-in code is never optional).
SWITCHABLE = frozenset(KINDS) - {"sign_in_code"}


def render(kind: str, locale: str, params: dict[str, str]) -> str:
    """The message text in the owner's language (Chinese unless they chose English)."""
    spec = KINDS[kind]
    template = spec.en if locale == "en" else spec.zh
    return template.format(**{name: params.get(name, "") for name in spec.params})


def ordered_params(kind: str, params: dict[str, str]) -> list[str]:
    """Template parameters in the order the provider's approved template numbers them."""
    return [str(params.get(name, "")) for name in KINDS[kind].params]


def in_quiet_hours(now: datetime, timezone: str) -> bool:
    """True between 22:00 and 08:00 at the site."""
    local = now.astimezone(ZoneInfo(timezone)).time()
    return local >= QUIET_START or local < QUIET_END


def quiet_hours_end(now: datetime, timezone: str) -> datetime:
    """The next 08:00 at the site (when a held non-urgent SMS may leave)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    end = local.replace(hour=QUIET_END.hour, minute=QUIET_END.minute, second=0, microsecond=0)
    if local.time() >= QUIET_END:
        end += timedelta(days=1)
    return end


def send_after(now: datetime, timezone: str, *, channel: str, urgent: bool) -> datetime:
    """When a message may leave: now, unless it is a non-urgent SMS in quiet hours."""
    if channel == "sms" and not urgent and in_quiet_hours(now, timezone):
        return quiet_hours_end(now, timezone)
    return now


_DIGITS = re.compile(r"\d{7,}")


def mask_phone(phone: str) -> str:
    """138****5678: enough to tell numbers apart in a log, not enough to call."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_phones_in(text: str) -> str:
    """Every run of 7+ digits in free text (a provider's error message, say) masked."""
    return _DIGITS.sub(lambda m: mask_phone(m.group(0)), text)


# Alarms that cut a building's water or power: every resident is told, and told again when it clears.
OUTAGE_ALARMS: dict[str, tuple[str, str]] = {
    "PUMP_FAILURE": ("停水", "water supply interrupted"),
    "PRESSURE_LOW": ("水压不足", "low water pressure"),
    "TANK_LEVEL_LOW": ("供水紧张", "water supply at risk"),
    "MAINS_LOSS": ("停电", "power cut"),
}


def outage_words(code: str, locale: str) -> str:
    zh, en = OUTAGE_ALARMS[code]
    return en if locale == "en" else zh


def with_links(params: dict[str, str], public_url: str) -> dict[str, str]:
    """Links are queued as paths and sent as full addresses of wherever the app is reached."""
    base = public_url.rstrip("/")
    return {k: (f"{base}{v}" if k == "link" and str(v).startswith("/") else v) for k, v in params.items()}


def case_message(action: str, *, kind: str, first_reply: bool) -> str | None:
    """The owner message a work-order action tells, if any (DESIGN of issue 17, "what owners are told")."""
    if action == "assign":
        return "technician_assigned"
    if action == "depart":
        return "on_the_way"
    if action == "complete":
        return "completed"
    if action == "reply" and kind == "complaint" and first_reply:
        return "complaint_first_reply"
    if action == "inform" and kind == "complaint":
        return "complaint_result"
    return None
