"""Arranging real objects for the abuse tests: work orders in a given state, a photo uploaded over HTTP,
an alarm raised the way the gateway raises it, and a second site with its own staff and things."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.services import alarms

ROLES = ("admin", "manager", "supervisor", "agent", "technician", "guard")
# The demo user who holds each role on the demo site.
DEMO_USER = {
    "admin": "admin",
    "manager": "manager",
    "supervisor": "supervisor",
    "agent": "agent",
    "technician": "tech1",
    "guard": "guard1",
}


def jpeg_bytes(seed: int = 0) -> bytes:
    """A small real JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60 + seed % 100, 40)).save(out, "JPEG")
    return out.getvalue()


# a repair the desk records for home A-101
A_REPAIR = {
    "kind": "repair",
    "category": "water",
    "channel": "phone",
    "title": "漏水",
    "building": "A",
    "unitNumber": "101",
}


async def make_work_order(
    db: asyncpg.Connection,
    *,
    site_id: UUID,
    status: str = "on_site",
    assignee_id: UUID | None = None,
    in_home: bool = True,
    kind: str = "repair",
) -> UUID:
    """A work order in the given state, written straight into the database."""
    number = f"AB-{uuid.uuid4().hex[:10]}"
    return await db.fetchval(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                    assignee_id, in_home)
           VALUES ($1, $2, $3, $4, 2, 'water', 'phone', '厨房水管漏水', $5, $6)
           RETURNING id""",
        site_id,
        number,
        kind,
        status,
        assignee_id,
        in_home,
    )


async def upload_photo(
    client: AsyncTestClient, headers: dict[str, str], work_order_id: UUID, seed: int = 0
) -> str:
    """POST a real JPEG as an 'after' photo; returns the photo id."""
    r = await client.post(
        f"/api/v1/work-orders/{work_order_id}/photos",
        files={"file": ("after.jpg", jpeg_bytes(seed), "image/jpeg")},
        data={"stage": "after"},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def raise_alarm(db: asyncpg.Connection, device_id: str, code: str, now: datetime) -> UUID:
    """A device's `raised` event recorded as the gateway records it; returns the alarm id."""
    async with db.transaction():
        device = (await alarms.lookup_devices(db, [device_id]))[device_id]
        result = await alarms.record_device_event(
            db, device, event_id=str(uuid.uuid4()), code=code, state="raised", ts=now, detail={}, now=now
        )
    assert result.alarm is not None
    return result.alarm.id


@dataclass
class SiteB:
    """Everything the second site owns, by id."""

    site_id: UUID
    building_id: UUID
    unit_id: UUID
    resident_id: UUID
    asset_id: UUID
    device_id: str
    users: dict[str, UUID]  # role -> user id
    work_order_id: UUID
    alarm_id: UUID
    photo_id: str


async def add_user(db: asyncpg.Connection, username: str, role: str, site_id: UUID) -> UUID:
    """An active, on-duty member of one site, with the demo password (its hash borrowed from admin)."""
    user_id = await db.fetchval(
        """INSERT INTO users (username, display_name, role, password_hash, on_duty, skills)
           SELECT $1, $1, $2, password_hash, true, ARRAY['water'] FROM users WHERE username = 'admin'
           RETURNING id""",
        username,
        role,
    )
    await db.execute("INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)", user_id, site_id)
    return user_id
