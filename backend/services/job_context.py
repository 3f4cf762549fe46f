"""What a scheduled job receives: the scheduler's JobContext (backend/scheduling.py) fits this shape."""

from __future__ import annotations

from typing import Protocol

import asyncpg

from backend.domain.clock import Clock


class JobContext(Protocol):
    """The pool to open a transaction on and the clock to read now from."""

    pool: asyncpg.Pool
    clock: Clock
