"""Telling people: the outbox (push, later SMS) and the live stream, both inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import outbox


async def notify(
    conn: asyncpg.Connection,
    *,
    site_id: UUID | None,
    recipient_ids: Iterable[UUID],
    kind: str,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
    urgency: str = "normal",
    dedupe_key: str | None = None,
) -> int:
    """Queue notifications (sent after commit, with retries); returns how many were queued."""
    return await outbox.add_notifications(
        conn,
        site_id=site_id,
        recipient_ids=recipient_ids,
        kind=kind,
        title=title,
        body=body,
        data=data,
        urgency=urgency,
        dedupe_key=dedupe_key,
    )


async def notify_roles(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    roles: Iterable[str],
    on_duty_only_for: Iterable[str] = ("technician",),
    **message: Any,
) -> list[UUID]:
    """Notify the site's staff in these roles (technicians only when on duty); returns who was told."""
    recipients = await outbox.site_staff_ids(conn, site_id, roles, on_duty_only_for=on_duty_only_for)
    await notify(conn, site_id=site_id, recipient_ids=recipients, **message)
    return recipients


async def publish(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    type: str,
    data: dict[str, Any],
    roles: Iterable[str] | None = None,
) -> int:
    """Put an event on the live stream of the site's screens (all staff roles unless `roles` narrows it)."""
    return await outbox.add_stream_event(conn, site_id=site_id, type=type, data=data, roles=roles)
