"""The follow-up call (回访) queue per site; recording a call is the `callback` action of work orders."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from backend.db.queries import callbacks as q
from backend.domain.models import CurrentUser
from backend.domain.work_orders import CallbackDue
from backend.services.sites import site_ids_for


async def callback_queue(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None = None,
    due_before: datetime | None = None,
) -> list[CallbackDue]:
    """Calls still due in the viewer's sites (or one site), earliest due first."""
    return await q.callback_queue(conn, await site_ids_for(conn, viewer, site), due_before)
