"""Request-scoped dependencies: a transaction per request, the caller, the clock, idempotent execution, and
`Call`, the three of them with the request in one parameter."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency

from backend.domain.clock import Clock
from backend.domain.models import CurrentUser
from backend.services.idempotency import run_once

IDEMPOTENCY_HEADER = "Idempotency-Key"


async def provide_conn(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """A connection in a transaction: committed when the handler returns, rolled back when it raises.

    Cleanup runs before the response is sent, so a 2xx means the change is committed.
    """
    async with state.pool.acquire() as conn, conn.transaction():
        yield conn


def provide_clock(state: State) -> Clock:
    """The app's clock (tests swap in a ManualClock)."""
    return state.clock


def provide_user(request: Request[CurrentUser, Any, Any]) -> CurrentUser:
    """The authenticated caller."""
    return request.user


async def idempotent(
    request: Request[CurrentUser, Any, Any],
    conn: asyncpg.Connection,
    action: Callable[[], Awaitable[Any]],
    status: int = 200,
) -> Response[Any]:
    """Run a mutation under the request's Idempotency-Key and answer with its (first) result."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    stored = await run_once(
        conn, request.user.id, key, f"{request.method} {request.url.path}", action, status=status
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(stored.body, status_code=stored.status, media_type="application/json", headers=headers)


@dataclass(frozen=True, slots=True)
class StaffCall:
    """What a staff handler works with: the request, its transaction, the caller and the clock."""

    request: Request[CurrentUser, Any, Any]
    conn: asyncpg.Connection
    user: CurrentUser
    clock: Clock

    def now(self) -> datetime:
        """The app's time now."""
        return self.clock.now()

    async def once(self, action: Callable[[], Awaitable[Any]], status: int = 200) -> Response[Any]:
        """Run a mutation under the request's Idempotency-Key (see `idempotent`)."""
        return await idempotent(self.request, self.conn, action, status=status)


# A staff handler's `call` parameter, named as the dependency it is (Litestar stops inferring them in 3.0).
Call = NamedDependency[StaffCall]


def provide_call(
    request: Request[CurrentUser, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    user: NamedDependency[CurrentUser],
    clock: NamedDependency[Clock],
) -> StaffCall:
    """The request's call (the app provides it as `call`)."""
    return StaffCall(request, conn, user, clock)
