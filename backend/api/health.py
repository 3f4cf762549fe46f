"""Liveness and readiness, outside the API prefix.

Readiness says whether this process can serve (database and broker reachable: otherwise 503) and what its
periodic jobs had to skip in their latest runs: a bad site's setting or row makes it `degraded`, still 200,
because the process serves every other site and a load balancer must not take it out for that.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, Response, get

from backend.services.job_health import JobFault

# A load balancer polls often; a dead dependency must answer fast rather than hang the probe.
READY_TIMEOUT_SECONDS = 2.0


class Health(msgspec.Struct):
    """Liveness: the process answers."""

    status: str


class Readiness(msgspec.Struct):
    """Readiness: each dependency and whether it answered; what the jobs skipped (job, site, why)."""

    status: str
    database: str
    broker: str
    jobs: list[JobFault]


@get("/health", tags=["health"], summary="Liveness", exclude_from_auth=True)
async def health() -> Health:
    """The process is up."""
    return Health(status="ok")


async def _database_ok(request: Request[Any, Any, Any]) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await request.app.state.pool.fetchval("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "not ready"; say which
        return f"error: {type(exc).__name__}"


async def _broker_ok(request: Request[Any, Any, Any]) -> str:
    settings = request.app.state.settings
    if not settings.mqtt_url:
        return "not configured"
    host, port = settings.mqtt_host_port
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            _, writer = await asyncio.open_connection(host, port)
        writer.close()
        return "ok"
    except Exception as exc:  # unreachable broker, refused connection, timeout
        return f"error: {type(exc).__name__}"


@get("/ready", tags=["health"], summary="Readiness: database and broker reachable", exclude_from_auth=True)
async def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    """200 when the database and (if configured) the broker answer, 503 otherwise; `degraded` (still 200)
    when a periodic job had to skip a site or a row in its latest run."""
    database, broker = await asyncio.gather(_database_ok(request), _broker_ok(request))
    ok = database == "ok" and broker in {"ok", "not configured"}
    jobs = request.app.state.job_health.faults()
    status = ("degraded" if jobs else "ok") if ok else "unavailable"
    body = Readiness(status=status, database=database, broker=broker, jobs=jobs)
    return Response(body, status_code=200 if ok else 503)
