"""The pure rules of what owners are told and offered: an assignment's message, confirming finished work,
when a planned cut is on the guard's visit list, masked recipients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.owner_messages import (
    PLANNED_VISIT_LEAD,
    assignment_message,
    mask_recipient,
    owner_may_confirm,
    planned_on_visit_list,
    planned_window_text,
)

NOW = datetime.now(UTC)


def test_an_assignment_tells_a_new_technician_a_changed_arrival_or_nothing() -> None:
    told = {"technician": "刘师傅", "window": "12-05 09:00-10:00"}
    assert assignment_message(None, technician="刘师傅", window="12-05 09:00-10:00") == "technician_assigned"
    assert assignment_message(told, technician="陈师傅", window="12-05 09:00-10:00") == "technician_assigned"
    assert assignment_message(told, technician="刘师傅", window="12-05 14:00-15:00") == "arrival_changed"
    assert assignment_message(told, technician="刘师傅", window="12-05 09:00-10:00") is None


def test_an_owner_confirms_finished_repairs_once() -> None:
    assert owner_may_confirm(status="completed", kind="repair", confirmed=False)
    assert owner_may_confirm(status="closed", kind="emergency", confirmed=False)
    assert not owner_may_confirm(status="completed", kind="repair", confirmed=True)
    assert not owner_may_confirm(status="on_site", kind="repair", confirmed=False)
    assert not owner_may_confirm(status="closed", kind="complaint", confirmed=False)


def test_a_planned_cut_is_on_the_visit_list_from_an_hour_before_until_restored() -> None:
    starts = NOW + timedelta(hours=3)
    assert not planned_on_visit_list(starts, False, NOW)
    assert planned_on_visit_list(starts, False, starts - PLANNED_VISIT_LEAD)
    assert planned_on_visit_list(starts, False, starts + timedelta(days=1))
    assert not planned_on_visit_list(starts, True, starts + timedelta(minutes=5))


def test_the_notice_window_is_in_site_time() -> None:
    start = datetime(2030, 1, 2, 1, 0, tzinfo=UTC)  # fixed-date: formatting only, nothing compares it to now
    assert (
        planned_window_text(start, start + timedelta(hours=4), "Asia/Shanghai") == "01-02 09:00至01-02 13:00"
    )


def test_staff_see_recipients_masked() -> None:
    assert mask_recipient("sms", "13900000010") == "139****0010"
    assert mask_recipient("email", "owner@example.test") == "o***@example.test"
