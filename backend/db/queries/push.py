"""SQL for Web Push: the VAPID key, subscriptions, claiming due notifications and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec


class PushSubscription(msgspec.Struct, frozen=True):
    """A browser's push endpoint and the keys its payloads are encrypted for."""

    id: UUID
    user_id: UUID
    endpoint: str
    p256dh: str
    auth: str


class DueNotification(msgspec.Struct, frozen=True):
    """An outbox row ready to send."""

    id: int
    site_id: UUID | None
    recipient_id: UUID | None
    kind: str
    urgency: str
    title: str
    body: str
    data: dict[str, Any]
    attempts: int


async def get_secret(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> str | None:
    """An app-wide secret by name."""
    return await conn.fetchval("SELECT value FROM app_secrets WHERE name = $1", name)


async def put_secret_once(conn: asyncpg.Connection | asyncpg.Pool, name: str, value: str) -> str:
    """Store the secret unless one exists; returns the stored value (the first writer wins)."""
    await conn.execute(
        "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, value
    )
    return await conn.fetchval("SELECT value FROM app_secrets WHERE name = $1", name)


async def save_subscription(
    conn: asyncpg.Connection, *, user_id: UUID, endpoint: str, p256dh: str, auth: str
) -> PushSubscription | None:
    """Store a subscription, or refresh its keys; None when another user holds the endpoint with other keys.

    The same keys under another user are the same browser signed in by someone else: the row moves to them.
    """
    row = await conn.fetchrow(
        """INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
           ON CONFLICT (endpoint) DO UPDATE
               SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
               -- its holder refreshing the keys, or the browser that has the keys changing hands
               WHERE push_subscriptions.user_id = EXCLUDED.user_id
                  OR (push_subscriptions.p256dh = EXCLUDED.p256dh AND push_subscriptions.auth = EXCLUDED.auth)
           RETURNING id, user_id, endpoint, p256dh, auth""",
        user_id,
        endpoint,
        p256dh,
        auth,
    )
    return PushSubscription(**dict(row)) if row else None


async def delete_user_subscription(conn: asyncpg.Connection, *, user_id: UUID, endpoint: str) -> bool:
    """Remove one of the user's subscriptions; False when they had none at that endpoint."""
    result = await conn.execute(
        "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2", user_id, endpoint
    )
    return result != "DELETE 0"


async def delete_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> None:
    """Forget a subscription the push service says is gone."""
    await conn.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)


async def subscriptions_of(conn: asyncpg.Connection, user_id: UUID) -> list[PushSubscription]:
    """Every subscription of one user (a phone and a guard-room screen, say)."""
    rows = await conn.fetch(
        """SELECT id, user_id, endpoint, p256dh, auth FROM push_subscriptions
           WHERE user_id = $1 ORDER BY created_at""",
        user_id,
    )
    return [PushSubscription(**dict(r)) for r in rows]


async def claim_due_notifications(
    conn: asyncpg.Connection, *, now: datetime, lease_until: datetime, limit: int
) -> list[DueNotification]:
    """Take due, unsent notifications for sending, leasing them until `lease_until`.

    The lease (next_attempt_at moved forward) is committed before any HTTP call, so no row lock is held
    while a push service is slow; a dispatcher that dies mid-send leaves rows that fall due again.
    """
    rows = await conn.fetch(
        """WITH due AS (
               SELECT id FROM notifications
               WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1
               -- urgent first, then oldest
               ORDER BY (urgency = 'high') DESC, next_attempt_at, id
               LIMIT $3
               -- other dispatchers (other API processes) take other rows
               FOR UPDATE SKIP LOCKED)
           UPDATE notifications n SET next_attempt_at = $2 FROM due WHERE n.id = due.id
           RETURNING n.id, n.site_id, n.recipient_id, n.kind, n.urgency, n.title, n.body, n.data,
                     n.attempts""",
        now,
        lease_until,
        limit,
    )
    return sorted((DueNotification(**dict(r)) for r in rows), key=lambda n: (n.urgency != "high", n.id))


async def subscriptions_to_reach(
    conn: asyncpg.Connection, notification_id: int, user_id: UUID
) -> list[PushSubscription]:
    """The user's subscriptions that have not yet accepted this notification (a retry skips those)."""
    rows = await conn.fetch(
        """SELECT s.id, s.user_id, s.endpoint, s.p256dh, s.auth FROM push_subscriptions s
           WHERE s.user_id = $2
             AND NOT EXISTS (SELECT 1 FROM push_deliveries d
                             WHERE d.notification_id = $1 AND d.endpoint = s.endpoint
                               AND d.status BETWEEN 200 AND 299)
           ORDER BY s.created_at""",
        notification_id,
        user_id,
    )
    return [PushSubscription(**dict(r)) for r in rows]


async def mark_sent(conn: asyncpg.Connection, notification_id: int, *, at: datetime) -> None:
    """The notification reached every live subscription (or there was none to reach)."""
    await conn.execute(
        "UPDATE notifications SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1",
        notification_id,
        at,
    )


async def mark_retry(
    conn: asyncpg.Connection, notification_id: int, *, next_attempt_at: datetime, error: str
) -> None:
    """A delivery failed; try again later."""
    await conn.execute(
        """UPDATE notifications SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
           WHERE id = $1""",
        notification_id,
        next_attempt_at,
        error,
    )


async def mark_failed(conn: asyncpg.Connection, notification_id: int, *, at: datetime, error: str) -> None:
    """Give up on a notification after its last attempt."""
    await conn.execute(
        "UPDATE notifications SET attempts = attempts + 1, failed_at = $2, last_error = $3 WHERE id = $1",
        notification_id,
        at,
        error,
    )


async def log_delivery(
    conn: asyncpg.Connection,
    *,
    notification_id: int,
    endpoint: str,
    status: int | None,
    error: str | None,
    at: datetime,
) -> None:
    """Record one attempt to one endpoint."""
    await conn.execute(
        """INSERT INTO push_deliveries (notification_id, endpoint, status, error, at)
           VALUES ($1, $2, $3, $4, $5)""",
        notification_id,
        endpoint,
        status,
        error,
        at,
    )
