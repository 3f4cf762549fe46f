"""Logging in and saying who I am."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body

from backend.domain.models import CurrentUser, Me, Model
from backend.services.auth import authenticate, profile


class LoginRequest(Model):
    """Username and password."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class LoginResponse(Model):
    """A bearer token and the user it belongs to."""

    token: str
    token_type: str
    expires_in: int
    user: Me


class AuthController(Controller):
    """POST /auth/login and GET /me."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["auth"]

    @post("/auth/login", status_code=200, summary="Log in with username and password")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginRequest, Body()],
        conn: NamedDependency[asyncpg.Connection],
    ) -> LoginResponse:
        """Exchange credentials for a bearer token; throttled per username and per client address."""
        client = request.client.host if request.client else "unknown"
        request.app.state.login_throttle.check(f"user:{data.username.lower()}", f"ip:{client}")
        user = await authenticate(conn, data.username, data.password)
        auth = request.app.state.jwt_auth
        token = auth.create_token(identifier=str(user.id), token_extras={"role": user.role})
        ttl = int(auth.default_token_expiration.total_seconds())
        return LoginResponse(
            token=token,
            token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
            expires_in=ttl,
            user=await profile(conn, user),
        )

    @get("/me", summary="The signed-in user")
    async def me(self, user: NamedDependency[CurrentUser], conn: NamedDependency[asyncpg.Connection]) -> Me:
        """Who the bearer token belongs to, with role, sites and the time zone their screens show."""
        return await profile(conn, user)


__all__ = ["AuthController", "LoginRequest", "LoginResponse", "Response"]
