"""GET /stream: Server-Sent Events of the caller's sites and role, resumable with Last-Event-ID.

EventSource cannot send an Authorization header, so this one endpoint also takes the bearer token as
`?access_token=`. It authenticates itself (it is excluded from the app-wide middleware) so the query
parameter is accepted here and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.security.jwt import Token

from backend.domain.models import CurrentUser
from backend.errors import Unauthorized, ValidationFailed
from backend.notify.hub import StreamEvent, StreamHub

# Proxies and phones close connections that stay silent; a comment line every 15 s keeps them open.
HEARTBEAT_SECONDS = 15.0
# Tells EventSource to come back quickly after a drop (milliseconds).
RETRY_MS = 2000
# Ids already sent, remembered so an event delivered by both replay and live feed is sent once.
SENT_MEMORY = 2048

_encode = msgspec.json.Encoder().encode


async def _authenticate(request: Request[Any, Any, Any], access_token: str | None) -> CurrentUser:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    encoded = credentials.strip() if scheme.lower() == "bearer" else access_token
    if not encoded:
        raise Unauthorized("a bearer token is required", code="not_signed_in")
    jwt_auth = request.app.state.jwt_auth
    try:
        token = Token.decode(
            encoded, secret=jwt_auth.token_secret, algorithm=jwt_auth.algorithm, require_claims=["exp", "sub"]
        )
    except NotAuthorizedException:
        raise Unauthorized("the token is invalid or has expired", code="invalid_token") from None
    user = await jwt_auth.retrieve_user_handler(token, request)
    if user is None:
        raise Unauthorized("the token's user is unknown or inactive", code="invalid_token")
    return user


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


async def _events(
    hub: StreamHub, user: NamedDependency[CurrentUser], resume_after: int | None
) -> AsyncGenerator[Any, None]:
    # subscribe before reading the backlog, so nothing committed in between falls through the gap
    client = hub.subscribe(user)
    sent: set[int] = set()
    order: deque[int] = deque()

    def remember(event_id: int) -> None:
        sent.add(event_id)
        order.append(event_id)
        if len(order) > SENT_MEMORY:
            sent.discard(order.popleft())

    try:
        yield ServerSentEventMessage(comment="connected", retry=RETRY_MS, data=None)
        if resume_after is not None:
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
            if event.id in sent:
                continue
            remember(event.id)
            yield _message(event)
    finally:
        hub.unsubscribe(client)


@get(
    "/api/v1/stream",
    tags=["live"],
    summary="Live events (Server-Sent Events)",
    exclude_from_auth=True,
    description=(
        "alarm.raised, alarm.updated, work_order.created, work_order.updated, escalation — for the caller's "
        "sites and role. Each event's id resumes the stream: send it back as Last-Event-ID "
        "(or ?lastEventId=). "
        "Authenticate with the Authorization header or ?access_token= (EventSource cannot set headers)."
    ),
)
async def stream(
    request: Request[Any, Any, Any],
    access_token: Annotated[str | None, Parameter(query="access_token", max_length=4096)] = None,
    last_event_id_query: Annotated[str | None, Parameter(query="lastEventId", max_length=32)] = None,
    last_event_id: Annotated[str | None, Parameter(header="Last-Event-ID", max_length=32)] = None,
) -> ServerSentEvent:
    """Open the live stream."""
    user = await _authenticate(request, access_token)
    resume_after = _resume_point(last_event_id, last_event_id_query)
    hub: StreamHub = request.app.state.stream_hub
    return ServerSentEvent(
        _events(hub, user, resume_after),
        # proxies (nginx) buffer responses unless told not to, which would hold events back
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
