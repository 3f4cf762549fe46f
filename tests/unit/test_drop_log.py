"""The gateway's drop log under a flood: the first lines per reason in full, then one count per interval."""

from __future__ import annotations

import logging

import pytest

from iot_gateway.drop_log import DropLog


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    """Time as the drop log sees it."""
    return Ticks()


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "iot_gateway.handlers"]


def test_a_flood_writes_the_first_lines_then_one_count_per_reason_and_interval(
    ticks: Ticks, caplog: pytest.LogCaptureFixture
) -> None:
    drops = DropLog(full_lines=3, interval_seconds=10, monotonic=ticks)
    with caplog.at_level(logging.WARNING, logger="iot_gateway.handlers"):
        for i in range(1000):
            drops.note("unknown_device", "dropped ghost-%d", i)
        for i in range(2):
            drops.note("malformed_topic", "dropped junk/%d", i)
        assert _lines(caplog) == [
            "dropped ghost-0", "dropped ghost-1", "dropped ghost-2", "dropped junk/0", "dropped junk/1"
        ]  # fmt: skip
        ticks.now = 10.0
        drops.note("unknown_device", "dropped ghost-%d", 1000)  # the next interval: in full again
    assert _lines(caplog)[5:] == [
        "dropped 997 more message(s) as unknown_device in the last 10 s (not logged one by one)",
        "dropped ghost-1000",
    ]


def test_flush_writes_what_is_pending_once(ticks: Ticks, caplog: pytest.LogCaptureFixture) -> None:
    drops = DropLog(full_lines=1, interval_seconds=10, monotonic=ticks)
    with caplog.at_level(logging.WARNING, logger="iot_gateway.handlers"):
        for _ in range(5):
            drops.note("too_large", "dropped big")
        ticks.now = 4.0
        drops.flush()
        drops.flush()  # nothing more held back: nothing more written
    assert _lines(caplog) == [
        "dropped big",
        "dropped 4 more message(s) as too_large in the last 4 s (not logged one by one)",
    ]


def test_a_failure_keeps_its_traceback(ticks: Ticks, caplog: pytest.LogCaptureFixture) -> None:
    drops = DropLog(monotonic=ticks)
    with caplog.at_level(logging.WARNING, logger="iot_gateway.handlers"):
        try:
            raise RuntimeError("bug")
        except RuntimeError:
            drops.note("failed", "could not record message on %r", "caretaker/demo/x/event", exc_info=True)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
