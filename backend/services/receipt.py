"""The printable service record (技服表格): job, timeline, checklist, photos, signature, record hash.

The page is self-contained — thumbnails and the signature are inlined as data: URIs and the QR code as
SVG — so it prints the same from the browser, from a saved file, or offline on the technician's phone.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
from datetime import datetime
from importlib import resources
from string import Template
from typing import Any, Literal, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import segno

from backend.db.queries import evidence as q
from backend.domain import catalogue
from backend.domain.completion import applicable_checklist, job_checklist
from backend.domain.models import CurrentUser
from backend.domain.workflow import priority_code
from backend.errors import NotFound, ValidationFailed
from backend.services.evidence import verify_record
from backend.storage import Storage

ReceiptLanguage = Literal["zh-CN", "en"]
LANGUAGES = get_args(ReceiptLanguage)

_TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "维修服务记录",
        "printed": "打印时间",
        "job": "工单",
        "timeline": "处理过程",
        "checklist": "现场检查项",
        "photos": "现场照片",
        "signature": "业主签名",
        "hash": "记录校验码 (SHA-256)",
        "hash_note": "扫描二维码可核验本记录自签名后是否被改动。",
        "number": "工单号",
        "kind": "类型",
        "category": "类别",
        "priority": "优先级",
        "title_field": "标题",
        "description": "描述",
        "place": "地点",
        "reporter": "报修人",
        "assignee": "维修人员",
        "created": "报修时间",
        "arrived": "到场时间",
        "completed": "完成时间",
        "status": "状态",
        "resolution": "处理结果",
        "no_checklist": "无检查项",
        "no_photos": "无照片",
        "not_signed": "尚未签名",
        "signer": "签名人",
        "relation": "关系",
        "signed_at": "签名时间",
        "no_sign": "未签名原因",
        "unsigned_hash": "尚未签名：无记录校验码",
        "verified": "记录与签名时一致",
        "tampered": "记录已被改动，与签名时不一致",
        "client_at": "手机时间",
        "yes": "是",
        "no": "否",
        "before": "维修前",
        "during": "维修中",
        "after": "维修后",
    },
    "en": {
        "title": "Service record",
        "printed": "Printed",
        "job": "Work order",
        "timeline": "Timeline",
        "checklist": "On-site checklist",
        "photos": "Photos",
        "signature": "Owner's signature",
        "hash": "Record hash (SHA-256)",
        "hash_note": "Scan the QR code to check that this record has not changed since it was signed.",
        "number": "Number",
        "kind": "Kind",
        "category": "Category",
        "priority": "Priority",
        "title_field": "Title",
        "description": "Description",
        "place": "Place",
        "reporter": "Reported by",
        "assignee": "Technician",
        "created": "Reported at",
        "arrived": "Arrived at",
        "completed": "Completed at",
        "status": "Status",
        "resolution": "Resolution",
        "no_checklist": "No checklist items",
        "no_photos": "No photos",
        "not_signed": "Not signed yet",
        "signer": "Signed by",
        "relation": "Relation",
        "signed_at": "Signed at",
        "no_sign": "Not signed because",
        "unsigned_hash": "Not signed yet: no record hash",
        "verified": "The record matches what was signed",
        "tampered": "The record has changed since it was signed",
        "client_at": "phone time",
        "yes": "yes",
        "no": "no",
        "before": "before",
        "during": "during",
        "after": "after",
    },
}

# Resolution keys shown on the record, in this order, with their labels.
_RESOLUTION_LABELS = {
    "cause": ("原因", "Cause"),
    "workDone": ("处理内容", "Work done"),
    "parts": ("更换配件", "Parts"),
    "chargeable": ("是否收费", "Chargeable"),
    "advice": ("建议", "Advice"),
}


@functools.cache
def _template_text() -> str:
    return resources.files("backend").joinpath("templates/receipt.html").read_text("utf-8")


def _template() -> Template:
    return Template(_template_text())


@functools.cache
def receipt_style_source() -> str:
    """The Content-Security-Policy hash-source (`'sha256-…'`) of the record's one inline <style>.

    The record stays one self-contained file (it prints the same saved or offline), so its style is inline;
    a policy that names this hash lets exactly that style in, and no other inline style. The block holds no
    template fields, so the hash of the template's text is the hash of every rendered record's.
    """
    text = _template_text()
    start, end = text.index("<style>") + len("<style>"), text.index("</style>")
    digest = hashlib.sha256(text[start:end].encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _word(lang: str, group: str, value: str | None) -> str:
    """A code in words, from the one catalogue of labels."""
    return "" if value is None else catalogue.label(group, value, lang)


def _local(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def _data_uri(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{_esc(label)}</th><td>{value}</td></tr>"


def _checklist_answers(resolution: dict[str, Any]) -> dict[str, Any]:
    """Checklist answers by item code, whether stored as {code: answer} or as a list of {code, ...}."""
    answers = resolution.get("checklist")
    if isinstance(answers, dict):
        return answers
    if isinstance(answers, list):
        found: dict[str, Any] = {}
        for entry in answers:
            if isinstance(entry, dict) and "code" in entry:
                found[str(entry["code"])] = entry
        return found
    return {}


def _answer_text(lang: str, answer: Any) -> str:
    text = _TEXT[lang]
    if isinstance(answer, dict):
        value = next((answer[k] for k in ("done", "ok", "checked", "answer", "value") if k in answer), None)
        note = answer.get("note") or answer.get("comment")
        shown = _answer_text(lang, value) if value is not None else ""
        return f"{shown} — {_esc(note)}" if note else shown
    if answer is True:
        return "✓ " + text["yes"]
    if answer is False:
        return "✗ " + text["no"]
    return _esc(answer)


def verify_url(public_url: str, work_order_id: UUID) -> str:
    """The public address that says whether the record still matches its hash."""
    return f"{public_url.rstrip('/')}/api/v1/work-orders/{work_order_id}/verify"


async def render_receipt(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    work_order_id: UUID,
    viewer: CurrentUser,
    lang: str,
    public_url: str,
    now: datetime,
) -> str:
    """The service record as a printable HTML page in zh-CN or English."""
    if lang not in LANGUAGES:
        raise ValidationFailed(f"lang must be one of {', '.join(LANGUAGES)}", field="lang")
    target = await q.get_evidence_target(conn, work_order_id)
    if target is None or not viewer.may_see_site(target.site_id):
        raise NotFound("no such work order", code="work_order_not_found")
    work_order = await q.record_work_order(conn, work_order_id)
    header = await q.receipt_header(conn, work_order_id)
    assert work_order is not None and header is not None  # the target above proved the row exists
    tz = ZoneInfo(header.site_timezone)
    text = _TEXT[lang]
    zh = lang == "zh-CN"

    place = " · ".join(p for p in (header.unit_label, header.asset_name, work_order.location) if p)
    reporter = " ".join(p for p in (work_order.reporter_name, work_order.reporter_phone) if p)
    job_rows = [
        _row(text["number"], _esc(work_order.number)),
        _row(text["kind"], _esc(_word(lang, "kind", work_order.kind))),
        _row(text["category"], _esc(_word(lang, "category", work_order.category))),
        _row(text["priority"], _esc(_word(lang, "priority", priority_code(work_order.priority)))),
        _row(text["status"], _esc(_word(lang, "status", header.status))),
        _row(text["title_field"], _esc(work_order.title)),
        _row(text["description"], _esc(work_order.description)),
        _row(text["place"], _esc(place)),
        _row(text["reporter"], _esc(reporter)),
        _row(text["assignee"], _esc(header.assignee_name)),
        _row(text["created"], _local(work_order.created_at, tz)),
        _row(text["arrived"], _local(header.arrived_at, tz)),
        _row(text["completed"], _local(work_order.completed_at, tz)),
    ]
    for key, (label_zh, label_en) in _RESOLUTION_LABELS.items():
        if key in work_order.resolution and work_order.resolution[key] not in (None, "", []):
            value = work_order.resolution[key]
            if isinstance(value, bool):
                shown = text["yes"] if value else text["no"]
            elif isinstance(value, list):
                shown = ", ".join(str(v if not isinstance(v, dict) else v.get("name", v)) for v in value)
            else:
                shown = str(value)
            job_rows.append(_row(label_zh if zh else label_en, _esc(shown)))

    timeline_rows = []
    for entry in await q.timeline(conn, work_order_id):
        when = _local(entry.at, tz)
        if entry.client_at and abs((entry.client_at - entry.at).total_seconds()) >= 60:
            when += f" <span class='muted'>({text['client_at']} {_local(entry.client_at, tz)})</span>"
        timeline_rows.append(
            f"<tr><td>{when}</td><td>{_esc(_word(lang, 'status', entry.to_status))}</td>"
            f"<td>{_esc(_word(lang, 'action', entry.action))}</td><td>{_esc(entry.actor_name)}</td></tr>"
        )

    answers = _checklist_answers(work_order.resolution)
    checklist_rows = [
        f"<tr><td>{_esc(item.label_zh if zh else item.label_en)}</td>"
        f"<td>{_answer_text(lang, answers[item.code]) if item.code in answers else '—'}</td></tr>"
        # the same list completion demands: the items of the kind's checklist that apply at this place
        for item in applicable_checklist(
            job_checklist(
                target.kind,
                asset_kind=(
                    await conn.fetchval("SELECT kind FROM assets WHERE id = $1", work_order.asset_id)
                    if work_order.asset_id
                    else None
                ),
                kind_checklist=await q.checklist(conn, target.site_id, target.kind),
            ),
            in_home=target.in_home,
        )
    ] or [f"<tr><td class='muted'>{text['no_checklist']}</td></tr>"]

    figures = []
    for photo in await q.list_photos(conn, work_order_id):
        thumb = await storage.get(photo.thumb_sha256)
        caption = f"{_word(lang, 'stage', photo.stage)} · {_local(photo.taken_at or photo.uploaded_at, tz)}"
        figures.append(
            f'<figure><img class="photo" data-photo-id="{photo.id}" data-sha256="{photo.sha256}" '
            f'src="{_data_uri("image/webp", thumb)}" alt="{_esc(caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>"
        )
    if not figures:
        figures.append(f"<p class='muted'>{text['no_photos']}</p>")

    signature = await q.get_signature(conn, work_order_id)
    if signature is None:
        signature_block = f"<p class='muted'>{text['not_signed']}</p>"
        hash_text = text["unsigned_hash"]
        hash_note = ""
    else:
        parts = []
        if signature.sha256:
            png = await storage.get(signature.sha256)
            parts.append(f'<img alt="{_esc(text["signature"])}" src="{_data_uri("image/png", png)}">')
            parts.append(
                f"<p>{_esc(text['signer'])}: {_esc(signature.signer_name)} "
                f"({_esc(_word(lang, 'relation', signature.relation))})</p>"
            )
        else:
            parts.append(
                f"<p>{_esc(text['no_sign'])}: {_esc(_word(lang, 'noSign', signature.no_sign_reason))}</p>"
            )
        parts.append(f"<p>{_esc(text['signed_at'])}: {_local(signature.signed_at, tz)}</p>")
        signature_block = "".join(parts)
        hash_text = signature.record_hash
        check = await verify_record(conn, work_order_id)
        hash_note = f"{text['verified'] if check.matches else text['tampered']}. {text['hash_note']}"

    url = verify_url(public_url, work_order_id)
    qr_svg = segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True)
    return _template().substitute(
        lang=lang,
        title_text=_esc(text["title"]),
        number=_esc(work_order.number),
        site_name=_esc(header.site_name),
        printed_label=_esc(text["printed"]),
        printed_at=_local(now, tz),
        qr_svg=qr_svg,
        verify_url=_esc(url),
        job_heading=_esc(text["job"]),
        job_rows="".join(job_rows),
        timeline_heading=_esc(text["timeline"]),
        timeline_rows="".join(timeline_rows),
        checklist_heading=_esc(text["checklist"]),
        checklist_rows="".join(checklist_rows),
        photos_heading=_esc(text["photos"]),
        photo_figures="".join(figures),
        signature_heading=_esc(text["signature"]),
        signature_block=signature_block,
        hash_heading=_esc(text["hash"]),
        record_hash=_esc(hash_text),
        hash_note=_esc(hash_note),
    )
