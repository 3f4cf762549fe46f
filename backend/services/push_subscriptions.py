"""Storing a browser's Web Push subscription for the signed-in user, after checking what it holds."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

import asyncpg

from backend.db.queries import push as q
from backend.domain.models import CurrentUser
from backend.errors import NotFound, ValidationFailed

MAX_ENDPOINT_LENGTH = 2000
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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str) -> None:
    """Push services are HTTPS; plain HTTP only to this machine (a local push service in development)."""
    parts = urlsplit(endpoint)
    if len(endpoint) > MAX_ENDPOINT_LENGTH or not parts.hostname:
        raise ValidationFailed("endpoint must be a push service URL", field="endpoint")
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise ValidationFailed("endpoint must be an https URL", field="endpoint")


async def subscribe(
    conn: asyncpg.Connection, user: CurrentUser, *, endpoint: str, p256dh: str, auth: str
) -> q.PushSubscription:
    """Store (or refresh) the user's subscription at this endpoint."""
    check_endpoint(endpoint)
    _b64url(p256dh, "keys.p256dh", P256DH_BYTES)
    _b64url(auth, "keys.auth", AUTH_BYTES)
    return await q.save_subscription(conn, user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)


async def unsubscribe(conn: asyncpg.Connection, user: CurrentUser, *, endpoint: str) -> None:
    """Remove the user's subscription at this endpoint."""
    if not await q.delete_user_subscription(conn, user_id=user.id, endpoint=endpoint):
        raise NotFound("no such subscription", code="subscription_not_found")
