"""Intake: categories per kind and the suggested priority from category and keywords."""

from __future__ import annotations

import pytest

from backend.domain.intake import check_category, suggest_priority
from backend.errors import ValidationFailed


@pytest.mark.parametrize(
    ("category", "text", "expected"),
    [
        ("water", "卫生间漏水，楼下天花板滴水", 1),
        ("electrical", "整户停电", 1),
        ("elevator", "电梯困人", 1),
        ("other", "闻到燃气味", 1),
        ("water", "Kitchen pipe burst", 1),
        ("doors_windows", "窗户关不严", 3),
        ("doors_windows", "门锁坏了进不了门", 2),
        ("structure", "墙面裂缝", 3),
        ("gas", "燃气表检查", 1),
        ("elevator", "电梯按钮不灵", 2),
    ],
)
def test_priority_suggestion(category: str, text: str, expected: int) -> None:
    assert suggest_priority("repair", category, text) == expected


def test_complaints_and_planned_work() -> None:
    assert suggest_priority("complaint", "attitude", "态度差") == 3
    assert suggest_priority("complaint", "attitude", "态度差", major=True) == 2
    assert suggest_priority("complaint", "repair_delay", "") == 2
    assert suggest_priority("emergency", "other", "") == 1
    assert suggest_priority("maintenance", "elevator", "漏水") == 3


def test_category_belongs_to_the_kind() -> None:
    check_category("repair", "fire_safety")
    check_category("complaint", "fee_dispute")
    for kind, category in (("repair", "fee_dispute"), ("complaint", "water")):
        with pytest.raises(ValidationFailed) as err:
            check_category(kind, category)
        assert err.value.field == "category"
