"""SQL of the quarterly safety check: one check per site and quarter, its points and their answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend.domain.safety_checks import FOCUS_POINTS


async def insert_check(
    conn: asyncpg.Connection,
    *,
    site_id: UUID,
    quarter: str,
    period_start: date,
    due_on: date,
    now: datetime,
) -> UUID | None:
    """The site's check of this quarter with one row per focus point; None if it exists already (another
    process made it: the unique key decides)."""
    check_id = await conn.fetchval(
        """INSERT INTO safety_checks (site_id, quarter, period_start, due_on, created_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (site_id, quarter) DO NOTHING RETURNING id""",
        site_id,
        quarter,
        period_start,
        due_on,
        now,
    )
    if check_id is None:
        return None
    await conn.executemany(
        "INSERT INTO safety_check_points (check_id, code, position) VALUES ($1, $2, $3)",
        [(check_id, p.code, i + 1) for i, p in enumerate(FOCUS_POINTS)],
    )
    return check_id


_CHECKS = """
    SELECT c.*, s.name AS site_name,
           (SELECT count(*) FROM safety_check_points p WHERE p.check_id = c.id) AS point_count,
           (SELECT count(*) FROM safety_check_points p WHERE p.check_id = c.id AND p.outcome IS NOT NULL)
               AS answered,
           (SELECT count(*) FROM safety_check_points p WHERE p.check_id = c.id AND p.outcome = 'finding')
               AS findings
    FROM safety_checks c JOIN sites s ON s.id = c.site_id
"""


async def list_checks(
    conn: asyncpg.Connection, site_ids: Sequence[UUID], *, status: str | None, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    """A page of the sites' checks, newest quarter first, and how many there are."""
    where = "WHERE c.site_id = ANY($1::uuid[]) AND ($2::text IS NULL OR c.status = $2)"
    rows = await conn.fetch(
        f"{_CHECKS} {where} ORDER BY c.period_start DESC, s.name LIMIT $3 OFFSET $4",
        list(site_ids),
        status,
        limit,
        offset,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM safety_checks c {where}", list(site_ids), status)
    return list(rows), total


async def get_check(conn: asyncpg.Connection, check_id: UUID, *, lock: bool = False) -> asyncpg.Record | None:
    """One check (locked for an answer when `lock`)."""
    if lock:
        await conn.execute("SELECT 1 FROM safety_checks WHERE id = $1 FOR UPDATE", check_id)
    return await conn.fetchrow(f"{_CHECKS} WHERE c.id = $1", check_id)


async def points(conn: asyncpg.Connection, check_id: UUID) -> list[asyncpg.Record]:
    """The check's points in order, with who answered and the hazard a finding registered."""
    return list(
        await conn.fetch(
            """SELECT p.*, u.display_name AS answered_by_name, h.number AS hazard_number
               FROM safety_check_points p
               LEFT JOIN users u ON u.id = p.answered_by
               LEFT JOIN hazards h ON h.id = p.hazard_id
               WHERE p.check_id = $1 ORDER BY p.position""",
            check_id,
        )
    )


async def answer_point(conn: asyncpg.Connection, check_id: UUID, code: str, **answer: Any) -> bool:
    """Record a point's answer once; False when it was answered already (or no such point)."""
    result = await conn.execute(
        """UPDATE safety_check_points
           SET outcome = $3, note = $4, risk_level = $5, photo_sha256 = $6, thumb_sha256 = $7,
               answered_by = $8, answered_at = $9, client_at = $10
           WHERE check_id = $1 AND code = $2 AND outcome IS NULL""",
        check_id,
        code,
        answer["outcome"],
        answer["note"],
        answer["risk_level"],
        answer["photo_sha256"],
        answer["thumb_sha256"],
        answer["answered_by"],
        answer["answered_at"],
        answer["client_at"],
    )
    return result == "UPDATE 1"


async def link_hazard(conn: asyncpg.Connection, check_id: UUID, code: str, hazard_id: UUID) -> None:
    """The finding's hazard, both ways: the point names it and the hazard names its check."""
    await conn.execute(
        "UPDATE safety_check_points SET hazard_id = $3 WHERE check_id = $1 AND code = $2",
        check_id,
        code,
        hazard_id,
    )
    await conn.execute("UPDATE hazards SET safety_check_id = $2 WHERE id = $1", hazard_id, check_id)


async def complete_if_answered(conn: asyncpg.Connection, check_id: UUID, now: datetime) -> bool:
    """Mark the check done when every point is answered; True if this call did it."""
    result = await conn.execute(
        """UPDATE safety_checks SET status = 'done', completed_at = $2
           WHERE id = $1 AND status = 'open'
             AND NOT EXISTS (SELECT 1 FROM safety_check_points WHERE check_id = $1 AND outcome IS NULL)""",
        check_id,
        now,
    )
    return result == "UPDATE 1"


async def point_photo(conn: asyncpg.Connection, check_id: UUID, code: str) -> asyncpg.Record | None:
    """A point's photo hashes and media type, with the check's site."""
    return await conn.fetchrow(
        """SELECT c.site_id, p.photo_sha256, p.thumb_sha256, b.media_type
           FROM safety_check_points p JOIN safety_checks c ON c.id = p.check_id
           LEFT JOIN blobs b ON b.sha256 = p.photo_sha256
           WHERE p.check_id = $1 AND p.code = $2""",
        check_id,
        code,
    )
