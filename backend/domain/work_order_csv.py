"""The work-order export as CSV that Excel opens correctly: UTF-8 BOM, CRLF, csv-module quoting, local times.

Headers and the codes (kind, status, category, channel) come in words from the catalogue, in Chinese (the
staff's working language) or English (`lang=en`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from backend.domain import catalogue
from backend.domain.workflow import priority_code

# Excel only detects UTF-8 (and so shows Chinese instead of mojibake) when the file starts with a BOM.
UTF8_BOM = "\ufeff"
ExportLanguage = Literal["zh", "en"]
LANGUAGES = get_args(ExportLanguage)

# (record field, Chinese header, English header), in column order.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("number", "工单号", "Number"),
    ("kind", "类型", "Kind"),
    ("status", "状态", "Status"),
    ("priority", "优先级", "Priority"),
    ("category", "类别", "Category"),
    ("channel", "渠道", "Channel"),
    ("title", "标题", "Title"),
    ("place", "位置", "Location"),
    ("reporter_name", "报修人", "Reporter"),
    ("reporter_phone", "联系电话", "Phone"),
    ("assignee", "处理人", "Assignee"),
    ("created_at", "创建时间", "Created"),
    ("responded_at", "响应时间", "Responded"),
    ("arrived_at", "到场时间", "Arrived"),
    ("completed_at", "完工时间", "Completed"),
    ("closed_at", "关闭时间", "Closed"),
    ("reopen_count", "重开次数", "Reopened"),
    ("overdue", "是否逾期", "Overdue"),
    ("satisfaction", "满意度", "Satisfaction"),
)

# Columns whose codes are written in words, from the catalogue's group of the same meaning.
_LABELLED = {"kind": "kind", "status": "status", "category": "category", "channel": "channel"}
_YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}
# A cell starting with one of these is a formula to Excel: quote it with an apostrophe (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def header(lang: str) -> list[str]:
    """The header row in the language asked for."""
    return [zh if lang == "zh" else en for _, zh, en in COLUMNS]


def _cell(field: str, value: Any, lang: str, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        yes, no = _YES_NO[lang]
        return yes if value else no
    if isinstance(value, datetime):
        # site-local wall time without offset: what Excel parses as a date-time
        return value.astimezone(zone).strftime(TIME_FORMAT)
    if field in _LABELLED:
        return catalogue.label(_LABELLED[field], str(value), "zh-CN" if lang == "zh" else "en")
    if field == "priority" and isinstance(value, int):
        return priority_code(value)
    text = str(value)
    if field != "reopen_count" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def row(record: Mapping[str, Any], lang: str) -> list[str]:
    """One work order as CSV cells; `record` carries the site's `timezone`."""
    zone = ZoneInfo(record["timezone"])
    return [_cell(field, record[field], lang, zone) for field, _, _ in COLUMNS]


def encode_lines(rows: Iterable[list[str]]) -> bytes:
    """CSV lines (CRLF, minimal quoting) as UTF-8 bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def preamble(lang: str) -> bytes:
    """The BOM and the header line: the first bytes of every export."""
    return UTF8_BOM.encode("utf-8") + encode_lines([header(lang)])
