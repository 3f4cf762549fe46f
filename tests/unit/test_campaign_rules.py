"""The callback campaigns' and promises' rules, pure (backend/domain/campaigns.py, promises.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from backend.domain import campaigns, promises

SHANGHAI = ZoneInfo("Asia/Shanghai")
SITE = uuid.UUID(int=7)
UNITS = [uuid.UUID(int=n) for n in range(1, 101)]


def test_sample_size_is_five_percent_rounded_up_at_least_three_never_more_than_there_are() -> None:
    assert [campaigns.sample_size(n) for n in (0, 2, 3, 10, 60, 61, 100, 360)] == [0, 2, 3, 3, 3, 4, 5, 18]


def test_the_sample_is_the_same_every_time_it_is_drawn_and_differs_from_month_to_month() -> None:
    never = [(u, None) for u in UNITS]
    march = campaigns.pick_sample(never, site_id=SITE, period="2026-03")
    assert march == campaigns.pick_sample(list(reversed(never)), site_id=SITE, period="2026-03")
    assert len(march) == 5 and len(set(march)) == 5
    assert march != campaigns.pick_sample(never, site_id=SITE, period="2026-04")


def test_units_not_sampled_in_the_last_six_months_come_first_then_the_longest_ago() -> None:
    recent = {u: "2026-02" for u in UNITS[:97]}  # all but three were called last month
    older = {UNITS[97]: "2025-12", UNITS[98]: "2025-08", UNITS[99]: None}  # 2025-08: outside six months
    units = [(u, recent.get(u, older.get(u))) for u in UNITS]
    picked = campaigns.pick_sample(units, site_id=SITE, period="2026-03")
    assert set(picked[:2]) == {UNITS[98], UNITS[99]}
    assert picked[2] == UNITS[97]
    assert all(u in recent for u in picked[3:])


def test_the_month_and_its_end_are_the_sites_across_midnight_and_the_year() -> None:
    # 17:30 UTC on 31 March is already 1 April in Shanghai
    late_march = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # fixed-date: pure calendar arithmetic, no clock
    new_year = datetime(2027, 1, 1, tzinfo=SHANGHAI)  # fixed-date: pure calendar arithmetic, no clock
    assert campaigns.month_of(late_march, SHANGHAI) == "2026-04"
    assert campaigns.month_end("2026-12", SHANGHAI) == new_year
    assert campaigns.months_before("2026-02", 6) == "2025-08"


def test_a_promise_is_reminded_15_minutes_before_due_and_broken_once_past_it() -> None:
    due = datetime.now(UTC) + timedelta(hours=1)
    assert not promises.reminder_due(due, due - timedelta(minutes=16))
    assert promises.reminder_due(due, due - timedelta(minutes=15))
    assert not promises.reminder_due(due, due)
    assert promises.promise_state(kept_at=None, due_at=due, now=due - timedelta(seconds=1)) == "open"
    assert promises.promise_state(kept_at=None, due_at=due, now=due) == "broken"
    assert promises.promise_state(kept_at=due + timedelta(hours=1), due_at=due, now=due) == "kept"
    now = datetime.now(UTC)
    assert promises.promise_refusal(now - timedelta(minutes=1), now) is not None
    assert promises.promise_refusal(now + timedelta(days=31), now) is not None
    assert promises.promise_refusal(now + timedelta(hours=2), now) is None
