"""Bearer tokens (Litestar's JWT auth) bound to sessions, and role guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from backend.domain.models import CurrentUser
from backend.errors import Forbidden
from backend.services.sessions import cached_session_user

# Paths reachable without a token (the PWA's files and /health, /ready opt out on their handlers).
PUBLIC_PATHS = [
    "^/schema",
    "^/api/v1/auth/login",
    "^/api/v1/catalogue$",
    "^/api/v1/push/vapid-public-key",
    "^/api/v1/work-orders/[^/]+/verify",
    # owners sign in with an SMS code and carry an owner token, checked by backend/api/owner.py
    "^/api/v1/owner/",
]


def token_session(token: Token) -> tuple[UUID, UUID] | None:
    """(session id, user id) a token names, or None when it names them badly."""
    if not isinstance(token.jti, str):
        return None
    try:
        return UUID(token.jti), UUID(token.sub)
    except ValueError:
        return None


async def _retrieve_user(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    named = token_session(token)
    if named is None:
        return None
    state = connection.app.state
    return await cached_session_user(
        state.get("session_cache"), state.pool, *named, lapses=token.exp.timestamp()
    )


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


# Every token names its user (sub), its session (jti) and when it lapses (exp).
REQUIRED_CLAIMS = ["exp", "sub", "jti"]


def build_jwt_auth(secret: str, ttl_seconds: int) -> JWTAuth[CurrentUser]:
    """HS256 tokens naming the user and the session; on every request the session must be open and the
    user active, and the user (role, sites) is read afresh."""
    return JWTAuth[CurrentUser](
        token_secret=secret,
        retrieve_user_handler=_retrieve_user,
        exclude=PUBLIC_PATHS,
        default_token_expiration=timedelta(seconds=ttl_seconds),
        require_claims=REQUIRED_CLAIMS,
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


def forget_user(request: Request[Any, Any, Any], user_id: UUID) -> None:
    """This process forgets the user's remembered sessions now, so its next request reads them afresh; the
    NOTIFY at commit tells every other process (backend/services/sessions.py `SessionCache`)."""
    cache = request.app.state.get("session_cache")
    if cache is not None:
        cache.forget(user_id)
