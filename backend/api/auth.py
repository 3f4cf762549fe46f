"""Logging in and out, changing one's password, and saying who I am."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import Body
from litestar.security.jwt import Token

from backend.api.deps import Call
from backend.api.security import forget_user, token_session
from backend.domain.models import Me, Model
from backend.errors import Unauthorized, ValidationFailed
from backend.services import sessions
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


class PasswordChange(Model):
    """The current password (proof it is really me) and the new one."""

    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class SessionsEnded(Model):
    """How many sessions a sign-out or password change ended."""

    sessions_ended: int


def _session_id(request: Request[Any, Token, Any]) -> UUID:
    named = token_session(request.auth)
    if named is None:  # the middleware already refused such tokens; this keeps the type honest
        raise Unauthorized("the token names no session", code="invalid_token")
    return named[0]


class AuthController(Controller):
    """Login, logout (this session or all), password change, and GET /me."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["auth"]

    @post("/auth/login", status_code=200, summary="Log in with username and password")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginRequest, Body()],
        conn: NamedDependency[asyncpg.Connection],
    ) -> LoginResponse:
        """Exchange credentials for a bearer token naming a new session; wrong passwords are throttled."""
        throttle = request.app.state.login_throttle
        address = request.app.state.client_address.of(request)
        throttle.check(data.username, address)
        try:
            user = await authenticate(conn, data.username, data.password)
        except Unauthorized:
            throttle.failed(data.username, address)
            raise
        throttle.succeeded(data.username, address)
        auth = request.app.state.jwt_auth
        ttl = int(auth.default_token_expiration.total_seconds())
        session_id = await sessions.start_session(conn, user.id, ttl)
        token = auth.create_token(
            identifier=str(user.id), token_unique_jwt_id=str(session_id), token_extras={"role": user.role}
        )
        return LoginResponse(
            token=token,
            token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
            expires_in=ttl,
            user=await profile(conn, user),
        )

    @post("/auth/logout", status_code=200, summary="Log out: end this token's session")
    async def logout(self, call: Call) -> SessionsEnded:
        """The token stops working at once and its live streams close; other sessions go on."""
        await sessions.log_out(call.conn, _session_id(call.request))
        forget_user(call.request, call.user.id)
        return SessionsEnded(sessions_ended=1)

    @post("/auth/logout-all", status_code=200, summary="Sign out everywhere: end every session of mine")
    async def logout_all(self, call: Call) -> SessionsEnded:
        """Every token of the caller, this one included, stops working; every live stream of theirs closes."""
        ended = await sessions.log_out_everywhere(call.conn, call.user.id)
        forget_user(call.request, call.user.id)
        return SessionsEnded(sessions_ended=ended)

    @get("/me", summary="The signed-in user")
    async def me(self, call: Call) -> Me:
        """Who the bearer token belongs to, with role, sites and the time zone their screens show."""
        return await profile(call.conn, call.user)

    @post("/me/password", status_code=200, summary="Change my password (ends my other sessions)")
    async def change_password(self, call: Call, data: Annotated[PasswordChange, Body()]) -> SessionsEnded:
        """Needs the current password (wrong guesses are throttled like logins); this session stays."""
        request, user = call.request, call.user
        throttle = request.app.state.login_throttle
        address = request.app.state.client_address.of(request)
        throttle.check(user.username, address)
        try:
            ended = await sessions.change_own_password(
                call.conn, user, _session_id(request), data.current_password, data.new_password
            )
        except ValidationFailed as refused:
            if refused.code == "wrong_current_password":
                throttle.failed(user.username, address)
            raise
        forget_user(request, user.id)
        return SessionsEnded(sessions_ended=ended)
