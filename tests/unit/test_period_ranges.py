"""A report period cut into closed days (read from rollups) and the open edge (read from the raw tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from backend.domain.kpis import ROLLUP_SETTLE, period_between, period_ranges

NY = "America/New_York"


def test_closed_days_then_one_open_edge_with_the_periods_own_boundaries():
    today = date.today()
    period = period_between(today - timedelta(days=9), today, NY)
    now = datetime.now(UTC)
    ranges = period_ranges(period, now)
    days = [r.day for r in ranges if r.day is not None]
    assert ranges[-1].day is None and ranges[-1].end == period.end
    assert ranges[0].start == period.start
    for a, b in pairwise(ranges):
        assert a.end == b.start  # no gap, no overlap
    assert days == sorted(days) and all(r.end + ROLLUP_SETTLE <= now for r in ranges if r.day is not None)
    assert all(d < today + timedelta(days=1) for d in days)


def test_a_day_is_closed_only_once_the_settling_time_has_passed():
    day = date.today() - timedelta(days=3)
    period = period_between(day, day, NY)
    just_after_midnight = period.end + ROLLUP_SETTLE - timedelta(seconds=1)
    assert [r.day for r in period_ranges(period, just_after_midnight)] == [None]
    assert [r.day for r in period_ranges(period, period.end + ROLLUP_SETTLE)] == [day]


def test_a_period_in_the_future_is_all_open_edge():
    start = date.today() + timedelta(days=5)
    period = period_between(start, start + timedelta(days=2), NY)
    ranges = period_ranges(period, datetime.now(UTC))
    assert [(r.day, r.start, r.end) for r in ranges] == [(None, period.start, period.end)]
