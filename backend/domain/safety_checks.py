"""The quarterly safety check (季度安全检查): its checklist of focus points, which quarter a day falls in,
and what an answer needs. Pure rules and data.

Every site is checked in full once a quarter (seeds-digest §2.6: fire exits, lifts, power distribution,
stair lighting, access control as the fixed focus points; structure, fire equipment, public areas and plant
in the scope). A point is either in order or a finding; a finding goes into the hazard ledger at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, NamedTuple
from uuid import UUID

import msgspec

from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.models import Model


class FocusPoint(NamedTuple):
    """One point of the quarterly check: a stable code, what to look at (Chinese, English)."""

    code: str
    label_zh: str
    label_en: str
    hint_zh: str
    hint_en: str


# The template, in the order the check is walked. The codes are stored with each answer: keep them.
FOCUS_POINTS: tuple[FocusPoint, ...] = (
    FocusPoint(
        "fire_exits",
        "消防通道与安全出口",
        "Fire lanes and emergency exits",
        "畅通无堆物，疏散指示与应急照明完好，防火门闭合",
        "Clear of storage, exit signs and emergency lights work, fire doors close",
    ),
    FocusPoint(
        "fire_equipment",
        "消防设施器材",
        "Fire equipment",
        "灭火器在有效期内，消火栓箱完整，报警主机无故障",
        "Extinguishers in date, hydrant boxes complete, alarm panel without faults",
    ),
    FocusPoint(
        "lifts",
        "电梯运行",
        "Lifts",
        "年检合格证在有效期内，紧急呼叫可用，运行无异响",
        "Inspection certificate valid, emergency call works, no unusual noise",
    ),
    FocusPoint(
        "power_distribution",
        "配电系统与配电房",
        "Power distribution and switch rooms",
        "配电房上锁、无杂物、防鼠板完好，柜体无发热",
        "Switch rooms locked and clear, rodent guards in place, no hot cabinets",
    ),
    FocusPoint(
        "stair_lighting",
        "楼道照明",
        "Stair and corridor lighting",
        "各楼层照明与应急照明正常",
        "Lighting and emergency lighting work on every floor",
    ),
    FocusPoint(
        "access_control",
        "门禁系统",
        "Access control",
        "单元门禁、闭门器、对讲正常",
        "Entrance readers, door closers and intercoms work",
    ),
    FocusPoint(
        "water_tanks",
        "水箱与水泵房",
        "Water tanks and pump rooms",
        "水箱加盖上锁，水泵房无渗漏、排水畅通",
        "Tanks covered and locked, pump rooms dry with clear drains",
    ),
    FocusPoint(
        "roofs",
        "屋面与天台",
        "Roofs and terraces",
        "天台门管控，屋面无积水、无坠物隐患，防雷设施完好",
        "Roof doors controlled, no standing water or loose objects, lightning protection intact",
    ),
    FocusPoint(
        "structure",
        "建筑结构与外立面",
        "Building structure and facades",
        "外墙、栏杆、雨棚无开裂、松动、脱落",
        "Walls, railings and canopies without cracks, loose or falling parts",
    ),
    FocusPoint(
        "construction",
        "施工与装修现场",
        "Construction and renovation sites",
        "动火有审批，围挡完好，材料不占用通道",
        "Hot work approved, hoardings intact, no materials in escape routes",
    ),
    FocusPoint(
        "public_areas",
        "公共区域",
        "Public areas",
        "地面、井盖、游乐设施完好，警示标识齐全",
        "Paving, manhole covers and play equipment sound, warning signs in place",
    ),
)
POINT_CODES = frozenset(p.code for p in FOCUS_POINTS)
# Who carries out the quarterly check and reads it.
CHECK_ROLES = frozenset({"admin", "manager", "supervisor"})
OUTCOMES = ("ok", "finding")

Outcome = Literal["ok", "finding"]
RiskLevel = Literal["major", "high", "medium", "low"]  # as the hazard ledger's RISK_LEVELS


def quarter_of(day: date) -> str:
    """The quarter a (site-local) day falls in: '2026Q4'."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the quarter a day falls in."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def answer_problem(outcome: str, note: str, has_photo: bool, risk_level: str | None) -> str | None:
    """Why an answer cannot be recorded (the field to point at), or None: a finding says what is wrong (a note
    or a photo) and how serious it is."""
    if outcome == "finding":
        if not note.strip() and not has_photo:
            return "note"
        if risk_level is None:
            return "riskLevel"
    return None


class AnswerForm(ClientBody, frozen=True):
    """One point's answer (a form; multipart when it carries a photo in `file`)."""

    outcome: Outcome
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    risk_level: RiskLevel | None = None
    client_at: ClientTime | None = None


class CheckPointAnswer(Model, frozen=True):
    """One focus point of a check, with its answer once given."""

    code: str
    position: int
    label_zh: str
    label_en: str
    hint_zh: str
    hint_en: str
    outcome: str | None = None
    note: str = ""
    risk_level: str | None = None
    hazard_id: UUID | None = None
    hazard_number: str | None = None
    has_photo: bool = False
    answered_by_name: str | None = None
    answered_at: datetime | None = None


class SafetyCheck(Model, frozen=True):
    """One site's check of one quarter."""

    id: UUID
    site_id: UUID
    site_name: str
    quarter: str
    period_start: date
    due_on: date
    status: str  # open | done
    created_at: datetime
    completed_at: datetime | None = None
    point_count: int = 0
    answered: int = 0
    findings: int = 0
    points: list[CheckPointAnswer] = msgspec.field(default_factory=list)


class SafetyCheckPage(Model, frozen=True):
    """A page of checks, newest quarter first."""

    items: list[SafetyCheck]
    total: int
    limit: int
    offset: int
