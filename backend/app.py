"""create_app(): the one place where routes, dependencies, errors, lifespan and the PWA come together."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from backend.api.client_address import ClientAddressResolver
from backend.api.deps import provide_call, provide_clock, provide_conn, provide_user
from backend.api.login_throttle import LoginThrottle
from backend.api.openapi import StrictStructSchema, document_operations
from backend.api.problems import EXCEPTION_HANDLERS
from backend.api.request_limits import TYPE_DECODERS, ClientTimeSchema, LimitedRequest, refuse_nul_in_path
from backend.api.routes import ROUTE_HANDLERS
from backend.api.security import PUBLIC_PATHS, build_jwt_auth
from backend.api.security_headers import add_security_headers
from backend.db.pool import create_pool
from backend.domain.clock import Clock, SystemClock
from backend.notify.notifier import start_notifier
from backend.scheduling import JobContext, start_scheduler
from backend.services.job_health import JobHealth
from backend.services.sessions import SessionCache
from backend.settings import Settings
from backend.storage import build_storage

log = logging.getLogger(__name__)

PWA_DIR = Path(__file__).resolve().parent.parent / "pwa"
# Photos are at most 15 MB; multipart framing adds a little.
MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    """Build the Litestar app for these settings; `settings.secret_key` must be set (the CLI resolves it)."""
    if not settings.secret_key:
        raise ValueError("create_app needs settings.secret_key (the CLI fills it from the database)")
    jwt_auth = build_jwt_auth(settings.secret_key, settings.token_ttl_seconds)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        settings = app.state.settings  # as bound last (see bind_app)
        assert settings.database_url
        app.state.storage = build_storage(settings)
        pool = app.state.pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        notifier = await start_notifier(app.state.pool, settings, app.state.clock)
        app.state.vapid, app.state.stream_hub = notifier.vapid, notifier.hub
        app.state.session_cache = SessionCache(notifier.hub.connected.is_set)
        notifier.hub.access_listeners.append(app.state.session_cache.forget)
        scheduler = None
        if settings.scheduler_enabled:
            scheduler = start_scheduler(
                JobContext(pool=app.state.pool, clock=app.state.clock, health=app.state.job_health)
            )
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await notifier.stop()
            await pool.close()  # this run's pool, whatever the app was bound to since

    route_handlers: list = [*ROUTE_HANDLERS]
    if PWA_DIR.is_dir():
        route_handlers.append(
            Router(
                path="/",
                route_handlers=[
                    create_static_files_router(
                        path="/", directories=[PWA_DIR], html_mode=True, include_in_schema=False, name="pwa"
                    )
                ],
                opt={"exclude_from_auth": True},
            )
        )

    openapi_config = OpenAPIConfig(
        title="Caretaker API",
        version="1.0.0",
        description="Work orders, evidence, alarms and reports for residential property management.",
        path="/schema",
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
    )
    app = Litestar(
        route_handlers=route_handlers,
        dependencies={
            "conn": Provide(provide_conn),
            "clock": Provide(provide_clock, sync_to_thread=False),
            "user": Provide(provide_user, sync_to_thread=False),
            "call": Provide(provide_call, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_send=[add_security_headers],
        on_app_init=[jwt_auth.on_app_init],
        lifespan=[lifespan],
        openapi_config=openapi_config,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
        request_class=LimitedRequest,
        before_request=refuse_nul_in_path,
        type_decoders=TYPE_DECODERS,
        plugins=[ClientTimeSchema(), StrictStructSchema()],
    )
    document_operations(app, PUBLIC_PATHS)
    app.state.jwt_auth = jwt_auth
    return bind_app(app, settings, clock=clock)


def bind_app(app: Litestar, settings: Settings, *, clock: Clock | None = None) -> Litestar:
    """Give a built app its settings, clock and fresh per-run state; the next lifespan uses them.

    Building the routes is the costly part of create_app; tests build an app once and bind it to each
    test's database (the secret key and token lifetime stay those it was built with).
    """
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.job_health = JobHealth()
    app.state.login_throttle = LoginThrottle(
        free_failures=settings.login_failures_before_backoff,
        failures_per_address=settings.login_failures_per_address,
        # the app's clock, so tests move it across a backoff instead of sleeping through one
        clock=lambda: app.state.clock.now().timestamp(),
    )
    app.state.client_address = ClientAddressResolver(settings.trusted_proxies)
    return app
