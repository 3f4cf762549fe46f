"""Idempotent mutations: the same key from the same user returns the first answer, never a second effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries import idempotency as q
from backend.errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 200


class StoredResponse(msgspec.Struct, frozen=True):
    """The first answer to a keyed request: status and JSON body."""

    status: int
    body: bytes
    replayed: bool


async def run_once(
    conn: asyncpg.Connection,
    user_id: UUID,
    key: str | None,
    request: str,
    action: Callable[[], Awaitable[Any]],
    status: int = 200,
) -> StoredResponse:
    """Run `action` unless this key already ran; either way return the (first) encoded answer."""
    if key is None:
        return StoredResponse(status, msgspec.json.encode(await action()), replayed=False)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    earlier = await q.claim_key(conn, user_id, key, request)
    if earlier is not None:
        if earlier["request"] != request:
            raise Conflict(
                "this Idempotency-Key was already used for another request", code="idempotency_key_reused"
            )
        return StoredResponse(earlier["status"], bytes(earlier["body"]), replayed=True)
    body = msgspec.json.encode(await action())
    await q.store_response(conn, user_id, key, status, body)
    return StoredResponse(status, body, replayed=False)
