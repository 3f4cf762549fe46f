"""GET /stream: Server-Sent Events of the caller's sites and role, resumable with Last-Event-ID.

EventSource cannot send an Authorization header, and a bearer token in a URL ends up in access logs, so a
browser first asks `POST /stream/tickets` (with its bearer token) for a single-use ticket that lives thirty
seconds, and opens `GET /stream?ticket=…`. Other clients may send `Authorization: Bearer …` as usual. A
token in the query (`?access_token=`) is refused. The stream authenticates itself (it is excluded from the
app-wide middleware) and closes when the session it was opened with ends or its rights change
(backend/notify/hub.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import HeaderParameter, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.security.jwt import Token

from backend.api.security import REQUIRED_CLAIMS, token_session
from backend.domain.models import CurrentUser, Model
from backend.errors import Unauthorized, ValidationFailed
from backend.notify.hub import StreamClosed, StreamEvent, StreamHub
from backend.services import sessions

# Proxies and phones close connections that stay silent; a comment line every 15 s keeps them open.
HEARTBEAT_SECONDS = 15.0
# Tells EventSource to come back quickly after a drop (milliseconds).
RETRY_MS = 2000
# Ids already sent, remembered so an event delivered by both replay and live feed is sent once.
SENT_MEMORY = 2048

_encode = msgspec.json.Encoder().encode


class StreamTicket(Model):
    """A single-use ticket for `GET /stream?ticket=…`."""

    ticket: str
    expires_in: int


async def _from_bearer(request: Request[Any, Any, Any], encoded: str) -> tuple[UUID, CurrentUser]:
    jwt_auth = request.app.state.jwt_auth
    try:
        token = Token.decode(
            encoded,
            secret=jwt_auth.token_secret,
            algorithm=jwt_auth.algorithm,
            require_claims=REQUIRED_CLAIMS,
        )
    except NotAuthorizedException:
        raise Unauthorized("the token is invalid or has expired", code="invalid_token") from None
    named = token_session(token)
    user = await sessions.session_user(request.app.state.pool, *named) if named else None
    if named is None or user is None:
        raise Unauthorized("the token's session has ended or its user is inactive", code="invalid_token")
    return named[0], user


async def _authenticate(
    request: Request[Any, Any, Any], ticket: str | None, access_token: str | None
) -> tuple[UUID, CurrentUser]:
    if access_token is not None:
        raise Unauthorized(
            "bearer tokens are not accepted in the URL; POST /api/v1/stream/tickets and open ?ticket=",
            code="token_in_url",
        )
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return await _from_bearer(request, credentials.strip())
    if not ticket:
        raise Unauthorized("a stream ticket or a bearer token is required", code="not_signed_in")
    redeemed = await sessions.redeem_stream_ticket(request.app.state.pool, ticket)
    if redeemed is None:
        raise Unauthorized(
            "the stream ticket is unknown, used or expired; ask for a new one", code="invalid_stream_ticket"
        )
    return redeemed


def _resume_point(header: str | None, query: str | None) -> int | None:
    raw = header if header is not None else query
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed("Last-Event-ID must be an event id", field="Last-Event-ID") from None
    if value < 0:
        raise ValidationFailed("Last-Event-ID must be an event id", field="Last-Event-ID")
    return value


def _message(event: StreamEvent) -> ServerSentEventMessage:
    return ServerSentEventMessage(id=event.id, event=event.type, data=_encode(event.data).decode())


def _closing(closed: StreamClosed) -> ServerSentEventMessage:
    # no id: the browser's Last-Event-ID stays at the last real event
    return ServerSentEventMessage(event="stream.closed", data=_encode({"reason": closed.reason}).decode())


async def _events(
    hub: StreamHub, user: NamedDependency[CurrentUser], session_id: UUID, resume_after: int | None
) -> AsyncGenerator[Any, None]:
    # subscribe before reading the backlog, so nothing committed in between falls through the gap
    client = hub.subscribe(user, session_id)
    sent: set[int] = set()
    order: deque[int] = deque()

    def remember(event_id: int) -> None:
        sent.add(event_id)
        order.append(event_id)
        if len(order) > SENT_MEMORY:
            sent.discard(order.popleft())

    try:
        # the session may have ended between the ticket's check and the subscription, unnoticed by the hub
        await hub.recheck([client])
        yield ServerSentEventMessage(comment="connected", retry=RETRY_MS, data=None)
        if resume_after is not None and not client.dropped:
            for event in await hub.replay(user, resume_after):
                remember(event.id)
                yield _message(event)
        while True:
            try:
                event = await asyncio.wait_for(client.queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive", data=None)
                continue
            if event is None:
                return  # dropped for falling behind: the browser reconnects with Last-Event-ID
            if isinstance(event, StreamClosed):
                yield _closing(event)
                return
            if event.id in sent:
                continue
            remember(event.id)
            yield _message(event)
    finally:
        hub.unsubscribe(client)


@post(
    "/api/v1/stream/tickets",
    tags=["live"],
    status_code=201,
    summary="A single-use ticket that opens the live stream",
    description=(
        "For EventSource, which cannot send headers: open `GET /api/v1/stream?ticket=…` within `expiresIn` "
        "seconds. The ticket works once, for this session only; each reconnect needs a new one."
    ),
)
async def stream_ticket(
    request: Request[CurrentUser, Token, Any], conn: NamedDependency[asyncpg.Connection]
) -> StreamTicket:
    """Issue a ticket bound to the caller's session."""
    named = token_session(request.auth)
    if named is None:  # the middleware refuses such tokens already
        raise Unauthorized("the token names no session", code="invalid_token")
    ticket = await sessions.issue_stream_ticket(conn, named[0])
    return StreamTicket(ticket=ticket, expires_in=int(sessions.STREAM_TICKET_TTL.total_seconds()))


@get(
    "/api/v1/stream",
    tags=["live"],
    summary="Live events (Server-Sent Events)",
    exclude_from_auth=True,
    description=(
        "alarm.raised, alarm.updated, work_order.created, work_order.updated, escalation — for the caller's "
        "sites and role. Each event's id resumes the stream: send it back as Last-Event-ID "
        "(or ?lastEventId=). "
        "Authenticate with `?ticket=` from POST /api/v1/stream/tickets (EventSource cannot set headers) or "
        "the Authorization header; a token in the URL (`?access_token=`) is refused. The stream ends with a "
        "`stream.closed` event ({reason: signed_out | access_changed}) when its session ends or its rights "
        "change."
    ),
)
async def stream(
    request: Request[Any, Any, Any],
    ticket: Annotated[str | None, Parameter(query="ticket", max_length=128)] = None,
    access_token: Annotated[str | None, Parameter(query="access_token", max_length=4096)] = None,
    last_event_id_query: Annotated[str | None, Parameter(query="lastEventId", max_length=32)] = None,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID", max_length=32)] = None,
) -> ServerSentEvent:
    """Open the live stream."""
    session_id, user = await _authenticate(request, ticket, access_token)
    resume_after = _resume_point(last_event_id, last_event_id_query)
    hub: StreamHub = request.app.state.stream_hub
    return ServerSentEvent(
        _events(hub, user, session_id, resume_after),
        # proxies (nginx) buffer responses unless told not to, which would hold events back
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
