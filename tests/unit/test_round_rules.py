"""Rounds' pure rules: when a schedule's slots fall (a window across midnight, fixed times), how a scan is
flagged, what a shift is."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.domain.rounds import (
    PriorScan,
    Schedule,
    check_schedule,
    judged_notice,
    next_slot,
    scan_flags,
    shift_bounds,
    token_of,
)

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = Schedule(every_hours=2, window_start=time(20, 0), window_end=time(6, 0))
WALKS = Schedule(fixed_times=(time(15, 0), time(9, 0)))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ)  # fixed-date: a pure function's input


def test_night_rounds_every_two_hours_across_midnight() -> None:
    starts = []
    at = local(3, 12)
    for _ in range(6):
        at = next_slot(NIGHT, TZ, at)
        starts.append(at.astimezone(TZ))
        at += timedelta(seconds=1)
    assert starts == [local(3, 20), local(3, 22), local(4, 0), local(4, 2), local(4, 4), local(4, 20)]


def test_fixed_times_in_order_and_a_slot_exactly_now_counts() -> None:
    assert next_slot(WALKS, TZ, local(3, 9).astimezone(UTC)).astimezone(TZ) == local(3, 9)
    assert next_slot(WALKS, TZ, local(3, 9, 1)).astimezone(TZ) == local(3, 15)
    assert next_slot(WALKS, TZ, local(3, 15, 1)).astimezone(TZ) == local(4, 9)


def test_a_schedule_names_what_it_lacks() -> None:
    assert check_schedule(Schedule()) == "everyHours"
    assert check_schedule(Schedule(every_hours=2)) == "windowStart"
    assert check_schedule(Schedule(every_hours=2, window_start=time(8), window_end=time(8))) == "windowEnd"
    assert check_schedule(NIGHT) is None and check_schedule(WALKS) is None


def test_scans_are_flagged_out_of_order_too_fast_and_late() -> None:
    start = local(3, 20)
    positions = [1, 2, 3, 4, 5]  # 40 minutes: a leg is 10 minutes, too fast under 2.5
    judge = {"positions": positions, "expected_minutes": 40, "slot_end": start + timedelta(minutes=40)}
    first = PriorScan(position=1, scanned_at=start + timedelta(minutes=1))
    assert scan_flags(position=1, scanned_at=first.scanned_at, prior=[], **judge) == []
    assert scan_flags(position=3, scanned_at=start + timedelta(minutes=11), prior=[first], **judge) == [
        "out_of_order"
    ]
    assert scan_flags(position=2, scanned_at=start + timedelta(minutes=2), prior=[first], **judge) == [
        "too_fast"
    ]
    assert scan_flags(position=2, scanned_at=start + timedelta(minutes=45), prior=[first], **judge) == [
        "late"
    ]


def test_shifts_and_codes() -> None:
    night = shift_bounds(local(3, 0).date(), "night", TZ)
    assert night == (local(3, 20).astimezone(UTC), local(4, 8).astimezone(UTC))
    assert token_of("caretaker:cp:abc") == "abc"
    assert token_of("https://example.com") is None and token_of("caretaker:cp:") is None


def test_a_judged_rounds_notice_says_missed_or_late_in_the_readers_language() -> None:
    missed = judged_notice("夜间巡逻", missed=["南门岗亭", "1栋大堂"], late=[], locale="zh-CN")
    assert missed == ("夜间巡逻 漏巡 2 个点", "漏巡：南门岗亭、1栋大堂")
    late = judged_notice("夜间巡逻", missed=[], late=["1号泵房"], locale="zh-CN")
    assert late == ("夜间巡逻 迟巡 1 个点", "迟巡：1号泵房")
    assert "漏巡" not in late[0]
    both = judged_notice("Night round", missed=["Gate"], late=["Lobby", "Pump"], locale="en")
    assert both == ("Night round: 1 missed, 2 late points", "Missed: Gate\nLate: Lobby, Pump")
    one = judged_notice("Night round", missed=[], late=["Pump"], locale="en")
    assert one[0] == "Night round: 1 late point"
