"""The login throttle: failures only, per account and address with backoff, a ceiling per address."""

from __future__ import annotations

import pytest

from backend.api.login_throttle import (
    ADDRESS_WINDOW_SECONDS,
    BACKOFF_MAX_SECONDS,
    PAIR_MEMORY_SECONDS,
    LoginThrottle,
)
from backend.errors import TooManyRequests

ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _throttle(clock: Clock, free: int = 3, per_address: int = 20) -> LoginThrottle:
    return LoginThrottle(free_failures=free, failures_per_address=per_address, clock=clock)


def _retry_after(throttle: LoginThrottle, username: str, address: str) -> int | None:
    try:
        throttle.check(username, address)
    except TooManyRequests as refused:
        return refused.retry_after
    return None


def test_free_failures_then_a_wait_that_doubles(clock: Clock) -> None:
    throttle = _throttle(clock)
    for _ in range(3):
        assert _retry_after(throttle, "tech1", ATTACKER) is None
        throttle.failed("tech1", ATTACKER)
    assert _retry_after(throttle, "tech1", ATTACKER) is None
    waits = []
    for _ in range(4):
        throttle.failed("tech1", ATTACKER)
        waits.append(_retry_after(throttle, "tech1", ATTACKER))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8]


def test_the_wait_is_capped(clock: Clock) -> None:
    throttle = _throttle(clock, free=1)
    for _ in range(40):
        throttle.failed("tech1", ATTACKER)
        clock.now += _retry_after(throttle, "tech1", ATTACKER) or 0
    throttle.failed("tech1", ATTACKER)
    assert _retry_after(throttle, "tech1", ATTACKER) == BACKOFF_MAX_SECONDS


def test_the_owner_at_another_address_is_not_held_up(clock: Clock) -> None:
    throttle = _throttle(clock)
    for _ in range(10):
        throttle.failed("tech1", ATTACKER)
    assert _retry_after(throttle, "tech1", ATTACKER)
    assert _retry_after(throttle, "TECH1 ", ATTACKER), "the same account however it is spelt"
    assert _retry_after(throttle, "tech1", OWNER) is None


def test_successes_never_count(clock: Clock) -> None:
    throttle = _throttle(clock, free=1, per_address=1)
    for n in range(500):
        assert _retry_after(throttle, f"user{n}", OWNER) is None
        throttle.succeeded(f"user{n}", OWNER)


def test_a_success_clears_the_pair(clock: Clock) -> None:
    throttle = _throttle(clock)
    for _ in range(3):
        throttle.failed("tech1", OWNER)
    throttle.succeeded("tech1", OWNER)
    throttle.failed("tech1", OWNER)
    assert _retry_after(throttle, "tech1", OWNER) is None


def test_a_pair_quiet_for_an_hour_starts_afresh(clock: Clock) -> None:
    throttle = _throttle(clock)
    for _ in range(6):
        throttle.failed("tech1", OWNER)
    clock.now += PAIR_MEMORY_SECONDS
    throttle.failed("tech1", OWNER)
    assert _retry_after(throttle, "tech1", OWNER) is None


def test_one_address_spraying_many_accounts_meets_the_ceiling(clock: Clock) -> None:
    throttle = _throttle(clock, free=3, per_address=5)
    for n in range(5):
        throttle.failed(f"user{n}", ATTACKER)
    wait = _retry_after(throttle, "someone-else", ATTACKER)
    assert wait is not None and 0 < wait <= ADDRESS_WINDOW_SECONDS
    assert _retry_after(throttle, "someone-else", OWNER) is None
    clock.now += wait
    assert _retry_after(throttle, "someone-else", ATTACKER) is None


def test_memory_stays_bounded(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backend.api.login_throttle.MAX_TRACKED", 50)
    throttle = _throttle(clock, per_address=10_000)
    for n in range(500):
        throttle.failed(f"user{n}", f"10.0.{n // 250}.{n % 250}")
    assert len(throttle._pairs) <= 50 and len(throttle._addresses) <= 50
