"""The follow-up call (回访) queue per site; recording a call is the `callback` action of work orders."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from backend.db.queries import callbacks as q
from backend.db.queries import work_orders as wq
from backend.domain.models import CurrentUser
from backend.domain.work_orders import CallbackDue
from backend.errors import ValidationFailed


async def callback_queue(
    conn: asyncpg.Connection,
    *,
    viewer: CurrentUser,
    site: str | None = None,
    due_before: datetime | None = None,
) -> list[CallbackDue]:
    """Calls still due in the viewer's sites (or one site), earliest due first."""
    site_ids = list(viewer.site_ids)
    if site is not None:
        found = await wq.find_site(conn, site)
        if found is None or not viewer.may_see_site(found["id"]):
            raise ValidationFailed(f"no site {site}", field="site")
        site_ids = [found["id"]]
    return await q.callback_queue(conn, site_ids, due_before)
