"""What owners are told when their case moves or their building loses water or power.

Called in the transaction of the change; each message's event key makes a retried transaction, a second
process or a repeated alarm queue nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from backend.db.queries import owners as q
from backend.domain.owner_messages import OUTAGE_ALARMS, assignment_message, case_message, outage_words
from backend.services.messages import notify_building, notify_unit, queue_message


def _window_text(appointment_at: datetime | None, arrive_by: datetime | None, timezone: str) -> str:
    zone = ZoneInfo(timezone)
    if appointment_at is not None:
        start = appointment_at.astimezone(zone)
        return f"{start:%m-%d %H:%M}-{start + timedelta(hours=1):%H:%M}"
    if arrive_by is not None:
        return f"{arrive_by.astimezone(zone):%m-%d %H:%M}前"
    return ""


async def after_action(
    conn: asyncpg.Connection, *, work_order_id: UUID, action: str, version: int, now: datetime
) -> list[int]:
    """Queue the owner message an action tells (none for cases without a home)."""
    case = await q.case_for_message(conn, work_order_id)
    if case is None or case["unit_id"] is None or case["channel"] == "sensor":
        return []
    first_reply = action == "reply" and not await q.replied_before(conn, work_order_id, version)
    kind = case_message(action, kind=case["kind"], first_reply=first_reply)
    if kind is None:
        return []
    params: dict[str, Any] = {"number": case["number"]}
    event = f"wo:{work_order_id}:{action}:{version}"
    if kind == "technician_assigned":
        if case["assignee_id"] is None:  # sent back to the pool: nobody is coming yet
            return []
        window = _window_text(case["appointment_at"], case["arrive_by"], case["timezone"])
        told = await q.last_arrival_told(conn, work_order_id)
        kind = assignment_message(told, technician=case["technician"], window=window)
        if kind is None:  # the same technician at the same time: nothing new to tell
            return []
        params.update(technician=case["technician"], badge=case["badge"], window=window)
        if kind == "arrival_changed":
            event = f"wo:{work_order_id}:arrival:{version}"
    elif kind == "on_the_way":
        params["technician"] = case["technician"] or ""
    elif kind == "completed":
        params["link"] = f"/api/v1/work-orders/{work_order_id}/verify"
    elif kind == "complaint_first_reply":
        params["reply"] = str(case["last_payload"].get("summary", ""))[:60]
        event = f"wo:{work_order_id}:first_reply"
    elif kind == "complaint_result":
        params["result"] = str((case["resolution"] or {}).get("solution", ""))[:60]
    ids = await notify_unit(
        conn,
        now=now,
        site_id=case["site_id"],
        unit_id=case["unit_id"],
        kind=kind,
        event_key=event,
        params=params,
        work_order_id=work_order_id,
    )
    if kind == "completed" and case["kind"] != "complaint":
        ids += await notify_unit(
            conn,
            now=now,
            site_id=case["site_id"],
            unit_id=case["unit_id"],
            kind="rating_request",
            event_key=f"wo:{work_order_id}:rating:{version}",
            params={"number": case["number"], "link": f"/owner.html#case/{work_order_id}"},
            work_order_id=work_order_id,
        )
    return ids


async def after_alarm(
    conn: asyncpg.Connection, *, alarm_id: UUID, device_id: str, code: str, cleared: bool, now: datetime
) -> list[int]:
    """A water or power alarm: one notice to every resident of the device's building; one more on clearing."""
    if code not in OUTAGE_ALARMS:
        return []
    place = await q.device_building(conn, device_id)
    if place is None:
        return []
    return await notify_building(
        conn,
        now=now,
        site_id=place["site_id"],
        building_id=place["id"],
        building_name=place["name"],
        alarm_id=alarm_id,
        restored=cleared,
        what=outage_words(code, "zh-CN"),
    )


async def after_desk_intake(
    conn: asyncpg.Connection,
    *,
    order_id: UUID,
    number: str,
    site_id: UUID,
    unit_id: UUID,
    reporter_phone: str,
    now: datetime,
) -> list[int]:
    """A case taken at the desk (by phone, at the counter): "case received" to the caller, when the number
    they gave is registered for the unit — the same message an owner's own report gets, with the link to
    the unit's page."""
    callers = await q.residents_of_unit_by_phone(conn, unit_id, reporter_phone)
    if not callers:
        return []
    link = await q.unit_owner_link(conn, unit_id)
    return await queue_message(
        conn,
        now=now,
        site_id=site_id,
        kind="case_received",
        event_key=f"wo:{order_id}:received",
        recipients=callers,
        params={"number": number, "link": f"/owner.html#u={link}"},
        work_order_id=order_id,
    )
