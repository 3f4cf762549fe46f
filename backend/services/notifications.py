"""Telling people: the outbox (push, later SMS) and the live stream, both inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import asyncpg

from backend.db.queries import outbox

# Queue notifications inside the caller's transaction (sent after commit, with retries); returns how many
# were queued, skipping a recipient already queued under the same dedupe key.
notify = outbox.add_notifications
# Put an event on the live stream of the site's screens (all staff roles unless `roles` narrows it); it is
# delivered only if the caller's transaction commits.
publish = outbox.add_stream_event


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
