"""Reading a home's address as people say or type it, and the near misses offered when it matches none."""

from __future__ import annotations

import pytest

from backend.domain.unit_address import (
    Candidate,
    NearReason,
    UnitAddress,
    building_matches,
    chinese_number,
    near_misses,
    number_candidates,
    one_slip_apart,
    parse_unit_address,
)


@pytest.mark.parametrize(
    ("said", "building", "stairwell", "room"),
    [
        ("3栋1单元1201", "3", "1", "1201"),
        ("3栋1单元1201室", "3", "1", "1201"),
        ("3号楼1单元1201", "3", "1", "1201"),
        ("3座1单元1201", "3", "1", "1201"),
        ("3幢2单元1201", "3", "2", "1201"),
        ("3号1单元1201", "3", "1", "1201"),
        ("三栋一单元一二零一", "3", "1", "1201"),
        ("三号楼二单元一二〇一室", "3", "2", "1201"),
        ("三栋幺二零幺", "3", None, "1201"),
        ("十二栋一千二百零一", "12", None, "1201"),
        ("3-1-1201", "3", "1", "1201"),
        ("3－1－1201", "3", "1", "1201"),
        ("3 1 1201", "3", "1", "1201"),
        ("3/1/1201", "3", "1", "1201"),
        ("3栋1201", "3", None, "1201"),
        ("3栋 1201", "3", None, "1201"),
        ("3-1201", "3", None, "1201"),
        ("３栋１２０１", "3", None, "1201"),
        ("03栋1201", "3", None, "1201"),
        ("A栋302", "A", None, "302"),
        ("a座302室", "A", None, "302"),
        ("A-302", "A", None, "302"),
        ("A302", "A", None, "302"),
        ("C-1-1004", "C", "1", "1004"),
        ("1单元1201", None, "1", "1201"),
        ("1201", None, None, "1201"),
        ("1201室", None, None, "1201"),
        ("1201号", None, None, "1201"),
        ("3栋12楼1201", "3", None, "1201"),
        ("3栋", "3", None, None),
        ("C座", "C", None, None),
    ],
)
def test_addresses_as_people_say_them(said: str, building: str, stairwell: str, room: str) -> None:
    assert parse_unit_address(said) == UnitAddress(building=building, stairwell=stairwell, room=room)


@pytest.mark.parametrize("said", ["", "   ", "楼下那家", "3栋4栋1201", "1-2-3-4", "3栋A"])
def test_what_cannot_be_read_is_none(said: str) -> None:
    assert parse_unit_address(said) is None


@pytest.mark.parametrize(
    ("numerals", "digits"),
    [("一二零一", "1201"), ("幺零零三", "1003"), ("十", "10"), ("十二", "12"), ("二十三", "23"),
     ("一百零一", "101"), ("一千二百零一", "1201"), ("两千", "2000")],
)  # fmt: skip
def test_chinese_numerals(numerals: str, digits: str) -> None:
    assert chinese_number(numerals) == digits


@pytest.mark.parametrize(
    ("said", "code", "name", "matches"),
    [
        ("3", "C", "3栋", True),
        ("三", "C", "3栋", True),
        ("C", "C", "3栋", True),
        ("c", "C", "3栋", True),
        ("3栋", "C", "3栋", True),
        ("3", "C", "3号楼", True),
        ("2", "C", "3栋", False),
        ("A", "C", "3栋", False),
        ("1", "A", "A栋", False),
    ],
)
def test_building_said_by_number_code_or_name(said: str, code: str, name: str, matches: bool) -> None:
    assert building_matches(said, code=code, name=name) is matches


def test_stairwell_numbers_are_tried_before_the_room_alone() -> None:
    assert number_candidates(UnitAddress("3", "1", "1201")) == ["1-1201", "1201"]
    assert number_candidates(UnitAddress("3", None, "1201")) == ["1201"]
    assert number_candidates(UnitAddress("3", None, None)) == []


@pytest.mark.parametrize(
    ("a", "b", "slip"),
    [("1201", "1202", True), ("1201", "1001", True), ("1201", "121", True), ("1201", "12011", True),
     ("1201", "1210", True), ("1201", "2101", True), ("1201", "1201", False), ("1201", "1111", False),
     ("1201", "12", False), ("1201", "2110", False)],
)  # fmt: skip
def test_one_slip_of_the_finger(a: str, b: str, slip: bool) -> None:
    assert one_slip_apart(a, b) is slip


def test_near_misses_offer_other_buildings_then_stairwells_then_typos() -> None:
    candidates = [
        Candidate("b-1201", in_said_building=False, number="1201"),
        Candidate("c-2-1201", in_said_building=True, number="2-1201"),
        Candidate("c-1202", in_said_building=True, number="1202"),
        Candidate("c-1001", in_said_building=True, number="1001"),
        Candidate("c-904", in_said_building=True, number="904"),
        Candidate("b-1202", in_said_building=False, number="1202"),
    ]
    assert near_misses(UnitAddress("3", "1", "1201"), candidates) == [
        ("b-1201", NearReason.OTHER_BUILDING),
        ("c-2-1201", NearReason.OTHER_STAIRWELL),
        ("c-1001", NearReason.TYPO),
        ("c-1202", NearReason.TYPO),
    ]
    assert near_misses(UnitAddress("3", None, None), candidates) == []
