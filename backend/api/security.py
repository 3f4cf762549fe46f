"""Bearer tokens (Litestar's JWT auth), role guards and login throttling."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from backend.domain.models import CurrentUser
from backend.errors import Forbidden, TooManyRequests
from backend.services.auth import active_user

# Paths reachable without a token (the PWA's files and /health, /ready opt out on their handlers).
PUBLIC_PATHS = [
    "^/schema",
    "^/api/v1/auth/login",
    "^/api/v1/catalogue$",
    "^/api/v1/push/vapid-public-key",
    "^/api/v1/work-orders/[^/]+/verify",
]


async def _retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    try:
        user_id = UUID(token.sub)
    except ValueError:
        return None
    return await active_user(connection.app.state.pool, user_id)


class BearerAuthenticationMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, but only for the Bearer scheme (RFC 6750): `Basic <token>` is refused."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        """Check the scheme, then let Litestar validate the token and load the user."""
        scheme, _, credentials = connection.headers.get(self.auth_header, "").partition(" ")
        if scheme.lower() != "bearer" or not credentials:
            raise NotAuthorizedException("expected 'Authorization: Bearer <token>'")
        return await self.authenticate_token(encoded_token=credentials, connection=connection)


def build_jwt_auth(secret: str, ttl_seconds: int) -> JWTAuth[CurrentUser]:
    """HS256 tokens naming the user id; the user is re-read (and must be active) on every request."""
    return JWTAuth[CurrentUser](
        token_secret=secret,
        retrieve_user_handler=_retrieve_user,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(seconds=ttl_seconds),
        require_claims=["exp", "sub"],
        authentication_middleware_class=BearerAuthenticationMiddleware,
    )


def requires_role(*roles: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard letting only the given roles through."""
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # the auth middleware lets OPTIONS through without a token (as CORS preflights need), so there
        # may be no user at all: that is a 401, not a crash
        user = connection.scope.get("user")
        if not isinstance(user, CurrentUser):
            raise NotAuthorizedException("sign in first")
        if user.role not in allowed:
            raise Forbidden(f"the {user.role} role may not do this", code="role_forbidden")

    guard.__name__ = f"requires_role_{'_'.join(sorted(allowed))}"
    return guard


class LoginThrottle:
    """Sliding one-minute windows per username and per client address.

    Kept in process: with several API replicas the limit applies per replica, which still
    bounds guessing to replicas x limit per minute.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, *keys: str) -> None:
        """Count one attempt under each key; raise TooManyRequests when any window is full."""
        now = self.clock()
        for key in keys:
            window = self._hits[key]
            while window and now - window[0] > self.WINDOW_SECONDS:
                window.popleft()
            if len(window) >= self.per_minute:
                retry = int(self.WINDOW_SECONDS - (now - window[0])) + 1
                raise TooManyRequests("too many login attempts; wait a minute", retry_after=retry)
        for key in keys:
            self._hits[key].append(now)
        if len(self._hits) > 10_000:  # forget idle keys so a scan of usernames cannot grow memory
            for key in [k for k, w in self._hits.items() if not w or now - w[-1] > self.WINDOW_SECONDS]:
                del self._hits[key]
