"""The follow-up call (回访) queue per site; recording a call is the `callback` action of work orders."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from backend.db.queries import callbacks as q
from backend.domain.models import CurrentUser
from backend.domain.work_orders import CallbackPage
from backend.services import personal_data
from backend.services.sites import site_ids_for


async def callback_queue(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None = None,
    due_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    endpoint: str,
    now: datetime,
) -> CallbackPage:
    """Calls still due in the viewer's sites (or one site), earliest due first, each with what was done, by
    whom, and the owner on file (the caller may have given another number, or none)."""
    items, total = await q.callback_queue(
        conn, await site_ids_for(conn, viewer, site), due_before, limit=limit, offset=offset
    )
    owners = await personal_data.owners(
        conn, viewer, [i.unit_id for i in items if i.unit_id], endpoint=endpoint, now=now
    )
    shown = [
        msgspec.structs.replace(item, owner_name=owner.name, owner_phone=owner.phone)
        if item.unit_id and (owner := owners.get(item.unit_id))
        else item
        for item in items
    ]
    return CallbackPage(items=shown, total=total, limit=limit, offset=offset)
