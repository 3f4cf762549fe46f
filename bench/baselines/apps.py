"""The three apps `bench/api.py` serves with identical uvicorn settings (`uvicorn --factory apps:<name>`).

- hello: a Litestar app answering a constant JSON document — the floor for this server stack;
- one_query: the same app plus an asyncpg pool (same size as Caretaker's) and one endpoint that runs a
  single one-row select — the floor for "a request that touches PostgreSQL";
- caretaker: the real app, from the environment (DATABASE_URL, CARETAKER_SECRET_KEY …).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.datastructures import State

from backend.app import create_app
from backend.db.pool import create_pool
from backend.settings import Settings, load_settings


@get("/hello")
async def hello_world() -> dict[str, str]:
    """A constant answer."""
    return {"hello": "world"}


def hello() -> Litestar:
    """Litestar with one constant endpoint."""
    return Litestar(route_handlers=[hello_world])


@get("/one-row")
async def one_row(state: State) -> dict[str, str]:
    """One user row by username through the pool: about the cheapest query a real request makes."""
    async with state.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT id, username, role FROM users WHERE username = $1", "tech1")
    return {"id": str(row["id"]), "username": row["username"], "role": row["role"]}


def one_query() -> Litestar:
    """Litestar with an asyncpg pool sized like Caretaker's and one single-query endpoint."""
    defaults = Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        app.state.pool = await create_pool(
            os.environ["DATABASE_URL"], min_size=defaults.db_pool_min, max_size=defaults.db_pool_max
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[hello_world, one_row], lifespan=[lifespan])


def caretaker() -> Litestar:
    """The Caretaker app for this process's environment."""
    return create_app(load_settings())
