"""Intake rules: the categories of repairs and complaints, channels, and the suggested priority."""

from __future__ import annotations

from typing import Literal, get_args

from backend.errors import ValidationFailed

REPAIR_CATEGORIES = (
    "water",
    "electrical",
    "elevator",
    "doors_windows",
    "structure",
    "gas",
    "fire_safety",
    "other",
)
COMPLAINT_CATEGORIES = (
    "repair_delay",
    "communication",
    "attitude",
    "fee_dispute",
    "facilities",
    "transparency",
    "neighbour_noise",
    "neighbour_leak",
    "neighbour_parking",
)
# Neighbour disputes (DOMAIN.md "Complaint"): mediated first (先调解、后处理) — the solution of one of these
# records the mediation with both parties before anything else is decided.
MEDIATION_FIRST = ("neighbour_noise", "neighbour_leak", "neighbour_parking")
CHANNELS = ("phone", "counter", "app", "sensor", "patrol", "schedule")
# Channels a person at the desk may record; "schedule" is for planned maintenance only.
DeskChannel = Literal["phone", "counter", "app", "sensor", "patrol"]
DESK_CHANNELS = get_args(DeskChannel)
# What the desk records; maintenance and inspections come from plans and rounds.
DeskKind = Literal["repair", "complaint", "emergency"]

# Unsafe or damaging at once: the fast lane (DOMAIN.md "Repair" 1: leaks, power cuts, anything unsafe).
URGENT_KEYWORDS = (
    "困人",
    "被困",
    "trapped",
    "entrapment",
    "漏水",
    "爆管",
    "水浸",
    "leak",
    "burst",
    "flood",
    "停电",
    "断电",
    "power cut",
    "outage",
    "燃气味",
    "煤气味",
    "漏气",
    "gas smell",
    "着火",
    "冒烟",
    "fire",
    "smoke",
    "触电",
    "漏电",
    "shock",
)
# Needs doing today but is not dangerous.
SOON_KEYWORDS = ("堵", "blocked", "没水", "no water", "跳闸", "tripped", "门锁", "lock", "不亮", "no light")

# Category baseline: what is usually urgent when reported with no further words.
_CATEGORY_PRIORITY = {
    "gas": 1,
    "fire_safety": 1,
    "elevator": 2,
    "water": 2,
    "electrical": 2,
    "doors_windows": 3,
    "structure": 3,
    "other": 3,
}


def categories_for(kind: str) -> tuple[str, ...]:
    """The categories a kind of work order may carry."""
    return COMPLAINT_CATEGORIES if kind == "complaint" else REPAIR_CATEGORIES


def check_category(kind: str, category: str) -> None:
    """Raise ValidationFailed(field='category') for a category not of this kind."""
    if category not in categories_for(kind):
        raise ValidationFailed(
            f"category must be one of {', '.join(categories_for(kind))} for a {kind}", field="category"
        )


def check_home_named(kind: str, in_home: bool, has_unit: bool) -> None:
    """A job in somebody's home needs the home: the technician goes there, the owner signs, the callback
    calls them. Raise ValidationFailed(code='unit_required', field='unitId') when it is missing."""
    if in_home and kind != "complaint" and not has_unit:
        raise ValidationFailed(
            "a repair in a home needs the unit: find it by address or the caller's phone",
            field="unitId",
            code="unit_required",
        )


def suggest_priority(kind: str, category: str, text: str = "", *, major: bool = False) -> int:
    """Suggested priority 1 (emergency) to 4 (whenever convenient) from kind, category and keywords."""
    lowered = text.lower()
    if kind == "emergency":
        return 1
    if kind == "complaint":
        return 2 if major or category == "repair_delay" else 3
    if kind in ("maintenance", "inspection"):
        return 3
    if any(word in lowered for word in URGENT_KEYWORDS):
        return 1
    baseline = _CATEGORY_PRIORITY.get(category, 3)
    if any(word in lowered for word in SOON_KEYWORDS):
        return min(baseline, 2)
    return baseline


# DOMAIN.md "Complaint": a complaint from the same home, about the same member of staff or the same facility
# within this many days of an earlier one is a repeat, flagged on the complaint and counted in the KPIs.
REPEAT_COMPLAINT_DAYS = 30
