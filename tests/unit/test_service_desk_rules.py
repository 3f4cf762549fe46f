"""Pure rules of the service desk: the satisfaction drivers' weights, NPS, the missed appointment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.kpis import DRIVER_WEIGHTS, net_promoter_score, weighted_satisfaction
from backend.domain.sla import APPOINTMENT_GRACE, missed_appointment_minutes
from backend.domain.workflow import callback_answers
from backend.errors import ValidationFailed

AGREED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # fixed-date: any instant; only offsets from it matter


def test_driver_weights_are_the_seeds_32_28_20_seed_rule() -> None:
    assert DRIVER_WEIGHTS == {"speed": 32, "attitude": 28, "quality": 20}


def test_weighted_satisfaction_rescales_the_attributed_80_percent_seed_rule() -> None:
    assert weighted_satisfaction({"speed": 5.0, "attitude": 5.0, "quality": 5.0}) == 5.0
    # (32*5 + 28*3 + 20*1) / 80 = 264 / 80
    assert weighted_satisfaction({"speed": 5.0, "attitude": 3.0, "quality": 1.0}) == 3.3
    # a driver nobody answered drops out with its weight: (32*4 + 28*2) / 60
    assert weighted_satisfaction({"speed": 4.0, "attitude": 2.0, "quality": None}) == 3.07
    assert weighted_satisfaction({"speed": None, "attitude": None, "quality": None}) is None


def test_nps_is_promoters_minus_detractors_in_points() -> None:
    assert net_promoter_score(promoters=5, detractors=2, answers=10) == 30.0
    assert net_promoter_score(promoters=0, detractors=3, answers=3) == -100.0
    assert net_promoter_score(promoters=0, detractors=0, answers=0) is None


@pytest.mark.parametrize(
    ("arrived_after", "late"),
    [(timedelta(0), None), (APPOINTMENT_GRACE, None), (APPOINTMENT_GRACE + timedelta(minutes=1), 31)],
)
def test_a_missed_appointment_is_arrival_past_the_agreed_time_and_its_grace_seed_rule(
    arrived_after: timedelta, late: int | None
) -> None:
    assert missed_appointment_minutes(AGREED, AGREED + arrived_after) == late
    assert missed_appointment_minutes(None, AGREED + arrived_after) is None


def test_an_unreached_owner_gave_no_answers_seed_rule() -> None:
    assert callback_answers(True, {"speed": 4, "recommend": 9}) == {
        "speed": 4,
        "attitude": None,
        "quality": None,
        "recommend": 9,
    }
    with pytest.raises(ValidationFailed) as refused:
        callback_answers(False, {"attitude": 2})
    assert refused.value.field == "attitude"
