"""A freshly started scheduler runs each job within FIRST_RUN_WITHIN, however long its interval: a process
started (or restarted) must not wait an hour for the month's callback sample or the quarter's check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from backend.scheduling import FIRST_RUN_WITHIN, start_scheduler


async def hourly(ctx: Any) -> None:
    """A job with a long interval."""


async def every_five_seconds(ctx: Any) -> None:
    """A job with a short interval."""


async def test_every_job_runs_soon_after_start_then_at_its_interval() -> None:
    before = datetime.now(UTC)
    scheduler = start_scheduler(ctx=None, jobs=[(hourly, 3600.0), (every_five_seconds, 5.0)])  # type: ignore[arg-type]
    try:
        first_hourly = scheduler.get_job("hourly").next_run_time
        first_short = scheduler.get_job("every_five_seconds").next_run_time
        assert before < first_hourly <= before + FIRST_RUN_WITHIN + timedelta(seconds=2)
        assert before < first_short <= before + timedelta(seconds=7)
        assert scheduler.get_job("hourly").trigger.interval == timedelta(hours=1)
    finally:
        scheduler.shutdown(wait=False)
