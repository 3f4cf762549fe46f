"""A photo added to a hazard after it was registered: the technician's "hazard found" on a job sends the
hazard first (JSON, through the outbox) and its photo next. The photo is checked, cleaned and thumbnailed as
job photos are (docs/EVIDENCE.md); a hazard keeps the first photo it gets."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backend.domain.hazards import OVERSIGHT, Hazard
from backend.domain.models import CurrentUser
from backend.errors import Forbidden, NotFound
from backend.services.evidence import Storage
from backend.services.hazards import get_hazard
from backend.services.photos import keep_photo


async def add_hazard_photo(
    conn: asyncpg.Connection,
    storage: Storage,
    *,
    actor: CurrentUser,
    hazard_id: UUID,
    photo: tuple[bytes, str | None, str | None],
    now: datetime,
) -> Hazard:
    """Attach the photo to a hazard without one: by who registered it, or a supervisor and up."""
    row = await conn.fetchrow(
        """SELECT h.site_id, h.reported_by, h.photo_sha256, s.timezone
           FROM hazards h JOIN sites s ON s.id = h.site_id WHERE h.id = $1 FOR UPDATE OF h""",
        hazard_id,
    )
    if row is None or not actor.may_see_site(row["site_id"]):
        raise NotFound("no such hazard", code="hazard_not_found")
    if row["reported_by"] != actor.id and actor.role not in OVERSIGHT:
        raise Forbidden("only who registered the hazard adds its photo", code="not_reporter")
    if row["photo_sha256"] is None:
        sha256, thumb_sha256 = await keep_photo(conn, storage, photo, row["timezone"])
        await conn.execute(
            "UPDATE hazards SET photo_sha256 = $2, thumb_sha256 = $3 WHERE id = $1",
            hazard_id,
            sha256,
            thumb_sha256,
        )
    return await get_hazard(conn, viewer=actor, hazard_id=hazard_id, now=now)
