"""Faults of periodic jobs: a bad site or row is skipped, logged as an error naming the job and the site, and
shown by /ready until a run of that job goes by without it.

The scheduler runs every job inside `JobHealth.run`; the job's code reports what it had to skip with
`report_fault` from wherever it is (a context variable carries the running job, and asyncio copies it into
the tasks a job starts), so services need no extra parameter and still log the error when a test calls them
outside the scheduler. Each process knows the faults of its own runs: every API replica runs every job, so a
bad setting shows on each, and a bad row on the replica that claimed it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from backend.domain.models import Model

log = logging.getLogger(__name__)

# A fault's text reaches an unauthenticated probe (/ready): our own words, never an exception's message.
MAX_ERROR_CHARS = 300


class JobFault(Model, frozen=True):
    """One thing a job's latest run had to skip or fall back on, and why."""

    job: str
    site: str | None
    subject: str
    error: str
    at: datetime


@dataclass
class _Run:
    job: str
    at: datetime
    faults: list[JobFault] = field(default_factory=list)


_running: ContextVar[_Run | None] = ContextVar("caretaker_job_run", default=None)


def failure(exc: BaseException) -> str:
    """An unforeseen exception as a fault shows it: its type only (the traceback goes to the log)."""
    return f"failed with {type(exc).__name__}"


def report_fault(*, site: str | None, subject: str, error: str, exc: BaseException | None = None) -> None:
    """Log what the running job skipped (or read with a default) as an error, and keep it for /ready."""
    run = _running.get()
    job = run.job if run is not None else "job"
    log.error(
        "%s: site %s: %s: %s", job, site or "(every site)", subject, error, exc_info=exc if exc else None
    )
    if run is not None:
        fault = JobFault(job=job, site=site, subject=subject, error=error[:MAX_ERROR_CHARS], at=run.at)
        run.faults.append(fault)


@asynccontextmanager
async def savepoint_skipped_on_failure(
    conn: asyncpg.Connection, *, site: str | None, subject: str
) -> AsyncIterator[None]:
    """One site's or row's work in a savepoint: if it fails, it is rolled back, reported and skipped (it
    stays due, so the next run tries again) and the caller goes on with the next one."""
    try:
        async with conn.transaction():
            yield
    except Exception as exc:
        report_fault(site=site, subject=subject, error=failure(exc), exc=exc)


class JobHealth:
    """The faults of each job's latest run in this process."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[JobFault, ...]] = {}

    @contextmanager
    def run(self, job: str, at: datetime) -> Iterator[None]:
        """One run of `job`: what it reports replaces what its previous run reported."""
        run = _Run(job=job, at=at)
        token = _running.set(run)
        try:
            yield
        finally:
            _running.reset(token)
            self._latest[job] = tuple(run.faults)

    def faults(self) -> list[JobFault]:
        """Every fault of every job's latest run, by job."""
        return [f for job in sorted(self._latest) for f in self._latest[job]]
