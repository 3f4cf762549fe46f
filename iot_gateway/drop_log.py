"""The gateway's log of dropped messages, kept readable under a flood.

A broken or hostile device can send thousands of bad messages a second; a warning line for each floods the
log and costs the gateway time it needs for alarms. Per reason, the first FULL_LINES of each interval are
logged in full (enough to recognise the sender); the rest are only counted, and when the interval ends one
summary line per reason says how many more there were. The gateway's counters still count every message.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger("iot_gateway.handlers")

# Lines per reason and interval logged in full: the first few of a burst show what it is.
FULL_LINES = 5
# One summary line per reason this often: a flood of a minute writes a dozen lines per reason, not 100,000.
INTERVAL_SECONDS = 10.0


class DropLog:
    """Logs drops by reason: the first FULL_LINES per interval in full, then a count per interval."""

    def __init__(
        self,
        *,
        full_lines: int = FULL_LINES,
        interval_seconds: float = INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.full_lines = full_lines
        self.interval_seconds = interval_seconds
        self._monotonic = monotonic
        self._started = monotonic()
        self._logged: Counter[str] = Counter()
        self._held_back: Counter[str] = Counter()

    def note(self, reason: str, message: str, *args: Any, exc_info: bool = False) -> None:
        """Log a drop (a warning) or a failure (an error, with its traceback) under `reason`, unless this
        reason has had its full lines this interval: then only count it."""
        self._roll_over()
        if self._logged[reason] < self.full_lines:
            self._logged[reason] += 1
            level = logging.ERROR if exc_info else logging.WARNING
            log.log(level, message, *args, exc_info=exc_info)
        else:
            self._held_back[reason] += 1

    def flush(self) -> None:
        """Write the summary of the interval so far (the runner calls this every interval and at the end)."""
        for reason, count in sorted(self._held_back.items()):
            log.warning(
                "dropped %d more message(s) as %s in the last %.0f s (not logged one by one)",
                count,
                reason,
                self._monotonic() - self._started,
            )
        self._held_back.clear()
        self._logged.clear()
        self._started = self._monotonic()

    def _roll_over(self) -> None:
        if self._monotonic() - self._started >= self.interval_seconds:
            self.flush()
