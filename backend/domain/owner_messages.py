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
            "staff_reply",
            ("site", "number", "reply"),
            False,
            "【{site}】单号{number}：{reply}",
            "[{site}] {number}: {reply}",
        ),
        MessageKind(
            "building_outage",
            ("site", "building", "what"),
            True,
            "【{site}】{building}{what}，物业正在处理，请注意安全。",
            "[{site}] {building}: {what}. The management office is on it.",
        ),
        MessageKind(
            "planned_outage",
            ("site", "building", "what", "window"),
            False,
            "【{site}】{building}计划于{window}{what}，请提前做好准备。",
            "[{site}] {building}: planned {what}, {window}. Please prepare.",
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


def mask_email(address: str) -> str:
    """o***@example.com: the domain and a first letter, for staff screens."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_recipient(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)


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


def assignment_message(told: dict[str, str] | None, *, technician: str, window: str) -> str | None:
    """What an assignment tells the owner, given what they were last told about who comes and when
    (`told`: the technician and window of the last technician_assigned or arrival_changed, None if never):
    a new technician is announced; the same one at another time is an arrival change; the same one at the
    same time tells nothing new."""
    if told is None or told.get("technician") != technician:
        return "technician_assigned"
    if told.get("window") != window:
        return "arrival_changed"
    return None


# Replies staff send to owners by SMS are kept short: the provider's template takes one parameter of text.
STAFF_REPLY_MAX = 60


# A planned outage's kind in the words of its notice.
PLANNED_WORDS: dict[str, tuple[str, str]] = {
    "water": ("停水", "water cut"),
    "power": ("停电", "power cut"),
    "lift": ("停梯", "lift stop"),
}

# A planned outage appears on the guard's visit list this long before it starts, until it is restored.
PLANNED_VISIT_LEAD = timedelta(hours=1)


def planned_words(kind: str, locale: str) -> str:
    zh, en = PLANNED_WORDS[kind]
    return en if locale == "en" else zh


def planned_window_text(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """ "12-05 09:00至12-05 13:00" in the site's time (the notice's window)."""
    zone = ZoneInfo(timezone)
    return f"{starts_at.astimezone(zone):%m-%d %H:%M}至{ends_at.astimezone(zone):%m-%d %H:%M}"


def planned_on_visit_list(starts_at: datetime, restored: bool, now: datetime) -> bool:
    """Whether the guard should be visiting for a planned outage now."""
    return not restored and now >= starts_at - PLANNED_VISIT_LEAD


# Work an owner may confirm as done (a complaint has a result, not work to confirm).
OWNER_CONFIRMABLE_STATUSES = frozenset({"completed", "signed", "closed"})


def owner_may_confirm(*, status: str, kind: str, confirmed: bool) -> bool:
    """Whether the owner's page offers "confirm the work is done" on a case."""
    return not confirmed and status in OWNER_CONFIRMABLE_STATUSES and kind != "complaint"


# What an owner writes to staff about a case from the owner's page (docs/OWNERS.md "Writing to staff").
OWNER_NOTE_MAX = 500
# Messages one owner may write in an hour (all cases together): enough to talk, too few to flood the desk.
OWNER_NOTES_PER_HOUR = 10
# Cases no technician works on any more: an owner's message about one goes to the desk instead.
OWNER_NOTE_DESK_STATUSES = frozenset({"completed", "signed", "closed", "cancelled"})


def owner_note_goes_to_handler(*, status: str, has_handler: bool) -> bool:
    """Whether an owner's message is told to the case's handler (its assignee) rather than the site's
    agents: only while the case is being worked and someone holds it."""
    return has_handler and status not in OWNER_NOTE_DESK_STATUSES
