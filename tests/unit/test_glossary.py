"""One glossary for the interface in both languages (DOMAIN.md "Vocabulary", backend/domain/catalogue.py):
维修人员 for technician, 紧急 only for the emergency kind, 逾期 for overdue, the same keys in both files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.domain.catalogue import labels

I18N = Path(__file__).resolve().parents[2] / "pwa" / "i18n"
# Words the interface does not use, with the word it uses instead.
NOT_OURS = {"技师": "维修人员", "技术员": "维修人员", "工程师": "维修人员", "超时": "逾期"}


def _interface(locale: str) -> dict[str, str]:
    return json.loads((I18N / f"{locale}.json").read_text(encoding="utf-8"))


def test_both_languages_have_the_same_words() -> None:
    assert set(_interface("zh-CN")) == set(_interface("en"))


@pytest.mark.parametrize("source", ["interface", "catalogue"])
def test_one_word_for_each_thing(source: str) -> None:
    words = _interface("zh-CN") if source == "interface" else labels("zh-CN")
    strays = {key: text for key, text in words.items() if any(word in text for word in NOT_OURS)}
    assert strays == {}, f"use {NOT_OURS}"


def test_urgent_is_said_only_of_the_emergency_kind() -> None:
    words = {**labels("zh-CN"), **_interface("zh-CN")}
    assert {key for key, text in words.items() if "紧急" in text} == {"kind.emergency"}
