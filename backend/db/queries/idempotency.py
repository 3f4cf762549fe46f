"""Stored first answers to mutations, keyed by (user, Idempotency-Key)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backend.db.queries.rows import insert_once


async def claim_key(conn: asyncpg.Connection, user_id: UUID, key: str, request: str) -> asyncpg.Record | None:
    """Claim the key for this request; returns the earlier row if the key was used before.

    With a unique key, a concurrent INSERT waits for the first transaction to finish, so two
    identical requests in flight resolve to one effect.
    """
    if await insert_once(
        conn, "idempotency_keys", dict(user_id=user_id, key=key, request=request), "(user_id, key)"
    ):
        return None
    return await conn.fetchrow(
        "SELECT request, status, body FROM idempotency_keys WHERE user_id = $1 AND key = $2", user_id, key
    )


async def store_response(conn: asyncpg.Connection, user_id: UUID, key: str, status: int, body: bytes) -> None:
    """Keep the first answer, in the same transaction as the effect."""
    await conn.execute(
        "UPDATE idempotency_keys SET status = $3, body = $4 WHERE user_id = $1 AND key = $2",
        user_id,
        key,
        status,
        body,
    )


async def forget_older_than(conn: asyncpg.Connection, days: int) -> int:
    """Drop keys older than any phone could still replay; returns how many."""
    result = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1)", days
    )
    return int(result.split()[-1])
