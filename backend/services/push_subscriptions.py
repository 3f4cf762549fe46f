"""Storing a browser's Web Push subscription for the signed-in user, after checking what it holds."""

from __future__ import annotations

import asyncio
import base64
import binascii
import socket

import asyncpg

from backend.db.queries import push as q
from backend.domain import push_endpoints as rules
from backend.domain.models import CurrentUser
from backend.errors import Conflict, NotFound, ValidationFailed

MAX_ENDPOINT_LENGTH = rules.MAX_ENDPOINT_LENGTH
# A push service's name answers at once from any working resolver; longer only holds the request up.
RESOLVE_TIMEOUT_SECONDS = 3.0
# RFC 8291: p256dh is an uncompressed P-256 point (65 bytes), auth a 16-byte secret.
P256DH_BYTES = 65
AUTH_BYTES = 16


def _b64url(value: str, field: str, size: int) -> None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{field} must be base64url", field=field) from None
    if len(raw) != size or (size == P256DH_BYTES and raw[0] != 4):
        raise ValidationFailed(f"{field} must encode {size} bytes", field=field)


async def vet_endpoint(endpoint: str, *, allow_private: bool) -> None:
    """Refuse an endpoint the server must not POST to: not https, or a host on a private address."""
    target = rules.endpoint_target(endpoint, allow_private=allow_private)
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM),
            RESOLVE_TIMEOUT_SECONDS,
        )
    except (OSError, TimeoutError, UnicodeError):
        infos = []
    rules.check_resolved(target, [str(info[4][0]) for info in infos], allow_private=allow_private)


async def subscribe(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    allow_private: bool = False,
) -> q.PushSubscription:
    """Store (or refresh) the user's subscription at this endpoint.

    An endpoint already held by another user moves to this one only when the same keys come with it: the
    browser made those keys and never shows them to anyone but us, so only that browser has them. That is
    a shared guard-room phone changing hands at a shift change (the guard who signed in last gets its
    pushes, the previous one no longer does); without the keys it is somebody else's browser: 409.
    """
    _b64url(p256dh, "keys.p256dh", P256DH_BYTES)
    _b64url(auth, "keys.auth", AUTH_BYTES)
    await vet_endpoint(endpoint, allow_private=allow_private)
    stored = await q.save_subscription(conn, user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)
    if stored is None:
        raise Conflict(
            "this push endpoint is subscribed by another user's browser", code="push_endpoint_taken"
        )
    return stored


async def unsubscribe(conn: asyncpg.Connection, user: CurrentUser, *, endpoint: str) -> None:
    """Remove the user's subscription at this endpoint."""
    if not await q.delete_user_subscription(conn, user_id=user.id, endpoint=endpoint):
        raise NotFound("no such subscription", code="subscription_not_found")
