"""What an API process runs to tell people: the VAPID key, the SSE hub and (optionally) the dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg

from backend.domain.clock import Clock
from backend.notify.dispatcher import PushDispatcher, PushSender
from backend.notify.hub import StreamHub
from backend.notify.owner_outbox import outbox_from_settings, run_forever
from backend.notify.vapid import VapidKeys, ensure_vapid_keys
from backend.settings import Settings


@dataclass
class Notifier:
    """The running parts; `stop()` ends them before the pool closes."""

    vapid: VapidKeys
    hub: StreamHub
    dispatcher: PushDispatcher | None
    owner_outbox: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        """Stop sending and listening; open SSE streams end."""
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        if self.owner_outbox is not None:
            self.owner_outbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.owner_outbox
        await self.hub.stop()


async def start_notifier(pool: asyncpg.Pool, settings: Settings, clock: Clock) -> Notifier:
    """Load (or make) the VAPID key, start listening for stream events, start the dispatcher when enabled."""
    assert settings.database_url
    vapid = await ensure_vapid_keys(pool)
    hub = StreamHub(settings.database_url, pool)
    await hub.start()
    dispatcher = None
    # the scheduler switch turns off all background work (tests run it by hand); this one only push
    if settings.scheduler_enabled and settings.dispatcher_enabled:
        dispatcher = PushDispatcher(
            pool,
            settings.database_url,
            PushSender(
                vapid,
                settings.reach_url,
                allow_private_endpoints=settings.push_allow_private_endpoints,
            ),
            clock,
        )
        dispatcher.start()
    owner_task = None
    outbox = outbox_from_settings(settings, clock) if settings.scheduler_enabled else None
    if outbox is not None and settings.dispatcher_enabled:
        # owners' SMS and email: every API process runs a sender; the outbox keeps each message to one
        owner_task = asyncio.create_task(run_forever(outbox, pool), name="owner-outbox")
    return Notifier(vapid=vapid, hub=hub, dispatcher=dispatcher, owner_outbox=owner_task)
