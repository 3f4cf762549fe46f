"""Sites (estates) by code."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg


async def site_ids_by_code(conn: asyncpg.Connection, codes: Sequence[str]) -> dict[str, UUID]:
    """{code: id} of the sites among these codes that exist."""
    rows = await conn.fetch("SELECT code, id FROM sites WHERE code = ANY($1::text[])", list(codes))
    return {r["code"]: r["id"] for r in rows}
