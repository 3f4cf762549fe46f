"""Queueing messages to owners, in the transaction of the fact they tell.

One row per (event, recipient, channel): queueing the same fact twice (a retried request, a second
process handling the same alarm) is a no-op. A message the site switched off or the owner opted out of
is still written, as `suppressed`, so the case's log shows what was not sent and why. Sending is
backend/notify/owner_outbox.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import asyncpg

from backend.db.queries import owners as q
from backend.domain.owner_messages import KINDS, mask_phone, render, send_after
from backend.domain.site_settings import read_site_settings

log = logging.getLogger(__name__)


async def queue_message(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    site_id: UUID,
    kind: str,
    event_key: str,
    recipients: Iterable[q.Recipient],
    params: dict[str, str],
    work_order_id: UUID | None = None,
    alarm_id: UUID | None = None,
    channels: tuple[str, ...] = ("sms", "email"),
    planned_outage_id: UUID | None = None,
) -> list[int]:
    """Queue `kind` to each recipient on each channel they have; the ids newly queued."""
    spec = KINDS[kind]
    site = await q.site_for_messages(conn, site_id)
    settings, _ = read_site_settings(site["settings"])
    params = {"site": site["name"], **params}
    switched_off = not settings.owner_message_on(kind)
    queued: list[int] = []
    for person in recipients:
        for channel in channels:
            address = person.phone if channel == "sms" else person.email
            if not address:
                continue
            suppressed = switched_off or (person.opted_out and not spec.urgent)
            message_id = await q.insert_message(
                conn,
                site_id=site_id,
                resident_id=person.resident_id,
                work_order_id=work_order_id,
                alarm_id=alarm_id,
                planned_outage_id=planned_outage_id,
                event_key=event_key,
                kind=kind,
                channel=channel,
                recipient=address,
                locale=person.locale,
                urgent=spec.urgent,
                params=params,
                body=render(kind, person.locale, params),
                status="suppressed" if suppressed else "pending",
                next_attempt_at=send_after(now, site["timezone"], channel=channel, urgent=spec.urgent),
            )
            if message_id is not None:
                queued.append(message_id)
                shown = mask_phone(address) if channel == "sms" else address.split("@")[-1]
                log.info("owner message %s %s to %s queued (%s)", kind, channel, shown, event_key)
    return queued


async def notify_unit(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    site_id: UUID,
    unit_id: UUID,
    kind: str,
    event_key: str,
    params: dict[str, str],
    work_order_id: UUID | None = None,
) -> list[int]:
    """Tell the residents of one unit (a case's owners)."""
    recipients = await q.residents_of_unit(conn, unit_id)
    return await queue_message(
        conn,
        now=now,
        site_id=site_id,
        kind=kind,
        event_key=event_key,
        recipients=recipients,
        params=params,
        work_order_id=work_order_id,
    )


async def notify_building(
    conn: asyncpg.Connection,
    *,
    now: datetime,
    site_id: UUID,
    building_id: UUID,
    building_name: str,
    alarm_id: UUID,
    restored: bool,
    what: str,
) -> list[int]:
    """A water or power alarm (or its clearing) told to every resident of the building, once each by SMS
    (an outage message must reach a phone, not an inbox)."""
    kind = "building_restored" if restored else "building_outage"
    recipients = await q.residents_of_building(conn, building_id)
    return await queue_message(
        conn,
        now=now,
        site_id=site_id,
        kind=kind,
        event_key=f"alarm:{alarm_id}:{'restored' if restored else 'outage'}",
        recipients=recipients,
        params={"building": building_name, "what": what},
        alarm_id=alarm_id,
        channels=("sms",),
    )
