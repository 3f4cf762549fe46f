"""The escalation ladder as data: which rung is due, and when the next falls due under a site's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain import alarm_ladder
from backend.domain.site_settings import SiteSettings

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # fixed-date: any instant; only offsets from it matter
OWN = SiteSettings(alarm_ack_supervisor_seconds=25, alarm_ack_manager_seconds=90)


def test_default_ladder_is_supervisor_at_60_then_manager_at_180() -> None:
    assert alarm_ladder.deadlines(SiteSettings()) == [(1, 60), (2, 180)]
    assert [alarm_ladder.due_level(s, SiteSettings()) for s in (59, 60, 179, 180, 10_000)] == [0, 1, 1, 2, 2]


def test_next_rung_follows_the_sites_own_setting() -> None:
    due = alarm_ladder.ack_due(
        severity="critical", open=True, acked=False, waiting_since=START, escalation_level=0, settings=OWN
    )
    assert (due.at, due.role) == (START + timedelta(seconds=25), "supervisor")
    due = alarm_ladder.ack_due(
        severity="major", open=True, acked=False, waiting_since=START, escalation_level=1, settings=OWN
    )
    assert (due.at, due.role) == (START + timedelta(seconds=90), "manager")


def test_nothing_is_due_when_acknowledged_closed_at_the_top_or_a_warning() -> None:
    cases = [
        {"severity": "critical", "open": True, "acked": True, "escalation_level": 0},
        {"severity": "critical", "open": False, "acked": False, "escalation_level": 0},
        {"severity": "critical", "open": True, "acked": False, "escalation_level": 2},
        {"severity": "warning", "open": True, "acked": False, "escalation_level": 0},
    ]
    for case in cases:
        assert alarm_ladder.ack_due(waiting_since=START, settings=OWN, **case) == alarm_ladder.NOTHING_DUE
    assert [alarm_ladder.reached_role(level) for level in (0, 1, 2)] == [None, "supervisor", "manager"]
