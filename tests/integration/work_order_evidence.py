"""Test arrangement for work orders: photo rows straight into the database (the upload endpoint is tested
with the evidence code), the checklist answers a completion needs, and HTTP shorthands."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

API = "/api/v1/work-orders"
FIELD_CHECKLIST = {
    "introduce": True,
    "consent": True,
    "covers": True,
    "photo_fault": True,
    "test_explain": True,
    "clean_up": True,
    "parts_taken": True,
}
# A public area or a plant room: its own list (migration 0014), not the home-visit items.
COMMON_CHECKLIST = {
    "isolate_lockout": True,
    "safety_gear": True,
    "photo_fault_area": True,
    "test_restore": True,
    "tidy_area": True,
    "record_readings": True,
}
MAINTENANCE_CHECKLIST = {"inspect": True, "record": True, "test_run": True, "clean_up": True}


async def add_photo(db: asyncpg.Connection, work_order_id: str, stage: str = "after", visit: int = 1) -> str:
    """Insert a blob and a photo row for the work order (of a visit); returns the photo id."""
    content = uuid.uuid4().bytes
    sha = hashlib.sha256(content).hexdigest()
    thumb = hashlib.sha256(content + b"thumb").hexdigest()
    await db.execute(
        "INSERT INTO blobs (sha256, size, media_type) VALUES ($1, 16, 'image/jpeg'), ($2, 8, 'image/jpeg')",
        sha,
        thumb,
    )
    return str(
        await db.fetchval(
            """INSERT INTO photos (work_order_id, stage, sha256, thumb_sha256, width, height, visit)
               VALUES ($1, $2, $3, $4, 800, 600, $5) RETURNING id""",
            uuid.UUID(work_order_id),
            stage,
            sha,
            thumb,
            visit,
        )
    )


def completion(checklist: dict[str, bool] | None = None) -> dict[str, Any]:
    """A complete 'complete' body: resolution fields and the checklist."""
    return {
        "checklist": checklist if checklist is not None else FIELD_CHECKLIST,
        "cause": "阀芯老化",
        "workDone": "更换角阀阀芯并试水",
        "parts": [{"name": "角阀阀芯", "quantity": 1}],
        "chargeable": False,
        "advice": "定期检查角阀",
    }


async def act(
    client: AsyncTestClient,
    headers: dict[str, str],
    wo_id: str,
    action: str,
    body: dict[str, Any] | None = None,
) -> Any:
    """POST an action with a fresh Idempotency-Key; returns the response."""
    return await client.post(
        f"{API}/{wo_id}/{action}",
        json=body or {},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )


async def complete_repair(
    client: AsyncTestClient, db: asyncpg.Connection, headers: dict[str, str], wo_id: str, visit: int = 1
) -> Any:
    """The technician reports a repair done: an 'after' photo of this visit, then `complete` with the common
    checklist; returns the response."""
    await add_photo(db, wo_id, visit=visit)
    return await act(client, headers, wo_id, "complete", completion(COMMON_CHECKLIST))


async def user_id(db: asyncpg.Connection, username: str) -> str:
    """A demo user's id."""
    return str(await db.fetchval("SELECT id FROM users WHERE username = $1", username))


async def create(client: AsyncTestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """POST /work-orders (a water repair in A 101 unless told otherwise); asserts 201 and returns the body."""
    body = {
        "kind": "repair",
        "category": "water",
        "channel": "phone",
        "title": "厨房水龙头滴水",
        "building": "A",
        "unitNumber": "101",
        **fields,
    }
    r = await client.post(API, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    return r.json()
