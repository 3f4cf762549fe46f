"""The hazard ledger as a printable page (A4 landscape): one site, optionally narrowed by status and risk
level, with the ledger's Chinese headings (or English ones), the site's local times and a sign-off line.
Besides the CSV (backend/services/hazards.py); the same rows, read through the same listing."""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg

from backend.domain import hazards as rules
from backend.domain.hazards import Hazard
from backend.domain.models import CurrentUser
from backend.errors import Forbidden, ValidationFailed
from backend.services.hazards import RISK_LABELS, SOURCE_LABELS, STATUS_LABELS, list_hazards
from backend.services.sites import site_for

LANGS = ("zh-CN", "en")
# (field, Chinese heading, English heading, column width in mm of the 277 mm landscape line)
COLUMNS = (
    ("number", "编号", "No.", 18),
    ("status", "状态", "Status", 13),
    ("riskLevel", "风险等级", "Risk", 12),
    ("source", "来源", "Source", 14),
    ("place", "部位", "Place", 26),
    ("description", "隐患描述", "Description", 40),
    ("reported", "登记", "Registered", 24),
    ("responsible", "整改责任人 / 期限", "Responsible / deadline", 24),
    ("controlMeasure", "临时管控措施", "Temporary control", 30),
    ("rectificationNumber", "整改工单", "Work order", 18),
    ("recheck", "复查", "Re-check", 26),
    ("closed", "销号", "Closed", 32),
)
# The one stylesheet: inline, so the page prints on its own; its CSP admits it by hash.
LEDGER_STYLE = """
@page { size: A4 landscape; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; font-size: 9pt; margin: 0; color: #000; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
.meta { margin: 0 0 3mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.3mm solid #444; padding: 1mm 1.2mm; vertical-align: top; word-break: break-word; }
th { background: #e8e8e8; font-weight: 600; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.overdue td:first-child { font-weight: 700; }
.sign { margin-top: 8mm; display: flex; gap: 30mm; }
@media screen { body { margin: 8mm; } }
""" + "".join(f"col.c-{field} {{ width: {width}mm; }}\n" for field, _, _, width in COLUMNS)
# The stylesheet's hash-source: the page's own policy, and the app's (which a copy opened from the app keeps).
LEDGER_STYLE_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(LEDGER_STYLE.encode()).digest()).decode() + "'"
)
LEDGER_POLICY = (
    f"default-src 'none'; style-src {LEDGER_STYLE_SOURCE}; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
WORDS = {
    "zh-CN": {
        "title": "安全隐患台账",
        "site": "项目",
        "printed": "打印时间",
        "filter": "筛选",
        "all": "全部",
        "count": "共 {n} 条",
        "none": "没有符合条件的隐患",
        "overdue": "逾期",
        "prepared": "制表人：",
        "checked": "审核人：",
        "status": STATUS_LABELS,
        "risk": RISK_LABELS,
        "source": SOURCE_LABELS,
    },
    "en": {
        "title": "Hazard ledger",
        "site": "Site",
        "printed": "Printed",
        "filter": "Filter",
        "all": "all",
        "count": "{n} hazards",
        "none": "No hazard matches",
        "overdue": "overdue",
        "prepared": "Prepared by:",
        "checked": "Checked by:",
        "status": {
            "registered": "Registered",
            "analysed": "Analysed",
            "controlled": "Controlled",
            "rectifying": "Rectifying",
            "rechecked": "Re-checked",
            "closed": "Closed",
        },
        "risk": {"major": "Major", "high": "High", "medium": "Medium", "low": "Low"},
        "source": {
            "round": "Round",
            "job": "Found on a job",
            "quarterly_check": "Quarterly check",
            "manual": "By hand",
        },
    },
}


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _cells(h: Hazard, words: dict, tz: ZoneInfo) -> dict[str, str]:
    """The printed text of each column of one hazard (escaped)."""

    def both(*parts: object) -> str:
        return "<br>".join(html.escape(str(p)) for p in parts if p)

    overdue = f" ({words['overdue']})" if h.overdue else ""
    return {
        "number": both(h.number),
        "status": both(words["status"].get(h.status, h.status) + overdue),
        "riskLevel": both(words["risk"].get(h.risk_level, h.risk_level)),
        "source": both(words["source"].get(h.source, h.source)),
        "place": both(h.place),
        "description": both(h.description, h.cause),
        "reported": both(h.reported_by_name, _when(h.reported_at, tz)),
        "responsible": both(h.responsible_name, h.deadline.isoformat() if h.deadline else None),
        "controlMeasure": both(h.control_measure),
        "rectificationNumber": both(h.rectification_number, h.rectified_by_name),
        "recheck": both(h.rechecked_by_name, h.recheck_note),
        "closed": both(h.closed_by_name, _when(h.closed_at, tz), h.closing_evidence),
    }


async def ledger_page(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None,
    status: str | None,
    risk: str | None,
    lang: str,
    now: datetime,
) -> str:
    """The printable ledger of one site (the viewer's only site when none is named)."""
    if viewer.role not in rules.OVERSIGHT:
        raise Forbidden("the ledger print is for supervisors and up", code="role_forbidden")
    if lang not in LANGS:
        raise ValidationFailed(f"lang must be one of {', '.join(LANGS)}", field="lang")
    risks = [r for r in (risk or "").split(",") if r]
    if any(r not in rules.RISK_LEVELS for r in risks):
        raise ValidationFailed(f"risk must be among {', '.join(rules.RISK_LEVELS)}", field="risk")
    found = await site_for(conn, viewer, site)
    page = await list_hazards(
        conn,
        viewer=viewer,
        site=str(found.id),
        status=status,
        overdue=False,
        now=now,
        limit=100_000,
        offset=0,
    )
    items = [h for h in page.items if not risks or h.risk_level in risks]
    words = WORDS[lang]
    zh = lang == "zh-CN"
    tz = ZoneInfo(found.timezone)
    colgroup = "".join(f'<col class="c-{c[0]}">' for c in COLUMNS)
    head = "".join(f"<th>{html.escape(c[1] if zh else c[2])}</th>" for c in COLUMNS)
    rows = []
    for h in items:
        cells = _cells(h, words, tz)
        rows.append(
            f'<tr class="{"overdue" if h.overdue else ""}">'
            + "".join(f"<td>{cells[c[0]]}</td>" for c in COLUMNS)
            + "</tr>"
        )
    if not rows:
        rows.append(f'<tr><td colspan="{len(COLUMNS)}">{html.escape(words["none"])}</td></tr>')
    shown_status = (
        ", ".join(words["status"].get(s, s) for s in (status or "").split(",") if s) or words["all"]
    )
    shown_risk = ", ".join(words["risk"].get(r, r) for r in risks) or words["all"]
    title = f"{html.escape(found.name)} · {words['title']}"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>{LEDGER_STYLE}</style></head>
<body><h1>{title}</h1>
<p class="meta">{words["site"]}: {html.escape(found.name)} · {words["printed"]}: {_when(now, tz)} ·
{words["filter"]}: {html.escape(shown_status)} / {html.escape(shown_risk)} ·
{words["count"].format(n=len(items))}</p>
<table><colgroup>{colgroup}</colgroup><thead><tr>{head}</tr></thead>
<tbody>
{"".join(rows)}
</tbody></table>
<p class="sign"><span>{words["prepared"]}</span><span>{words["checked"]}</span></p>
</body></html>"""
