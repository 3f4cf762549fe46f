"""Raising a demo alarm the way the gateway does, for the live-stream, push and escalation tests."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from backend.domain.alarms import Alarm
from backend.services import alarms


async def raise_device_alarm(conn: asyncpg.Connection, *, device_id: str, code: str, now: datetime) -> Alarm:
    """Record a device's `raised` event in its own committed transaction; returns the alarm."""
    async with conn.transaction():
        device = (await alarms.lookup_devices(conn, [device_id]))[device_id]
        result = await alarms.record_device_event(
            conn,
            device,
            event_id=str(uuid.uuid4()),
            code=code,
            state="raised",
            ts=now,
            detail={},
            now=now,
        )
    assert result.alarm is not None
    return result.alarm


async def clear_device_alarm(conn: asyncpg.Connection, *, device_id: str, code: str, now: datetime) -> None:
    """Record a device's `cleared` event in its own committed transaction."""
    async with conn.transaction():
        device = (await alarms.lookup_devices(conn, [device_id]))[device_id]
        await alarms.record_device_event(
            conn, device, event_id=str(uuid.uuid4()), code=code, state="cleared", ts=now, detail={}, now=now
        )
