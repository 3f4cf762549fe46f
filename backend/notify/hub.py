"""The live-stream hub: one LISTEN connection per API process feeding every SSE client of that process.

NOTIFY carries only a stream_events id; the hub reads the rows (so payload size does not matter) and hands
each event to the clients allowed to see it. Every client has a bounded queue: a client too slow to keep up
is dropped rather than allowed to hold up the others — it reconnects with Last-Event-ID and replays what it
missed from the table. When the listening connection dies (PostgreSQL restarted, network cut) the hub
reconnects and catches up from the last id it saw, so a restart loses nothing for connected clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg

from backend.db.pool import connect
from backend.db.queries import stream as q
from backend.db.queries.outbox import STREAM_CHANNEL
from backend.db.queries.stream import StreamEvent
from backend.domain.models import CurrentUser

__all__ = ["StreamClient", "StreamEvent", "StreamHub"]

log = logging.getLogger(__name__)

# Enough for a burst of alarms on one screen; a client this far behind is better off replaying.
CLIENT_QUEUE_SIZE = 256
# How often the idle listener checks its connection: a silent TCP drop must not go unnoticed for long.
LISTENER_CHECK_SECONDS = 10.0
# Back off while PostgreSQL is down, but come back quickly once it is up again.
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 5.0
# Replay reads the table in pages so a long absence cannot load everything at once.
REPLAY_PAGE = 500


class StreamClient:
    """One connected SSE client: what it may see and its bounded queue of events (None = you were dropped)."""

    def __init__(self, user: CurrentUser, queue_size: int) -> None:
        self.user = user
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False

    def may_see(self, event: StreamEvent) -> bool:
        """The event is for one of the client's sites and (if it names roles) for the client's role."""
        return self.user.may_see_site(event.site_id) and (
            event.roles is None or self.user.role in event.roles
        )

    def offer(self, event: StreamEvent) -> None:
        """Queue the event without waiting; a full queue drops the client instead of blocking the hub."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            # make room for the end marker: the client will replay from its last id anyway
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class StreamHub:
    """Fan-out of committed stream events to this process's SSE clients."""

    def __init__(self, dsn: str, pool: asyncpg.Pool, *, queue_size: int = CLIENT_QUEUE_SIZE) -> None:
        self.dsn = dsn
        self.pool = pool
        self.queue_size = queue_size
        self.clients: set[StreamClient] = set()
        self.last_id = 0
        self.connected = asyncio.Event()
        self._ids: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place (or the first attempt failed)."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="stream-hub-listen"),
            asyncio.create_task(self._deliver_forever(), name="stream-hub-deliver"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=5)

    async def stop(self) -> None:
        """Stop listening and end every client's stream."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in list(self.clients):
            client.dropped = True
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    def subscribe(self, user: CurrentUser) -> StreamClient:
        """Register a client; events committed from now on reach its queue."""
        client = StreamClient(user, self.queue_size)
        self.clients.add(client)
        return client

    def unsubscribe(self, client: StreamClient) -> None:
        """Forget a client (its stream ended)."""
        self.clients.discard(client)

    async def replay(self, user: CurrentUser, after_id: int) -> list[StreamEvent]:
        """The events after `after_id` the user may see that are still kept, oldest first."""
        site_ids = None if user.is_admin else list(user.site_ids)
        events: list[StreamEvent] = []
        while True:
            page = await q.events_after(
                self.pool, after_id, site_ids=site_ids, role=user.role, limit=REPLAY_PAGE
            )
            events.extend(page)
            if len(page) < REPLAY_PAGE:
                return events
            after_id = page[-1].id

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._ids.put_nowait(int(payload))
        except ValueError:
            log.warning("ignoring a malformed %s payload: %.40r", STREAM_CHANNEL, payload)

    def _broadcast(self, events: Iterable[StreamEvent]) -> None:
        for event in events:
            self.last_id = max(self.last_id, event.id)
            for client in list(self.clients):
                if client.may_see(event):
                    client.offer(event)

    async def _deliver_forever(self) -> None:
        while True:
            ids = {await self._ids.get()}
            # one query for everything that arrived together (a burst of alarms)
            while not self._ids.empty():
                ids.add(self._ids.get_nowait())
            try:
                events = await q.events_by_ids(self.pool, sorted(ids))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning(
                    "stream hub could not read events %s; clients will catch up on reconnect", sorted(ids)
                )
                continue
            self._broadcast(events)

    async def _catch_up(self) -> None:
        # everything committed while we were not listening (ids only grow, so "after the last seen" is it)
        after = self.last_id
        while True:
            page = await q.events_after(self.pool, after, limit=REPLAY_PAGE)
            self._broadcast(page)
            if len(page) < REPLAY_PAGE:
                return
            after = page[-1].id

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        first = True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect(self.dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(STREAM_CHANNEL, self._on_notify)
                if first:
                    self.last_id = await q.latest_event_id(self.pool)
                    first = False
                else:
                    await self._catch_up()
                self.connected.set()
                delay = RECONNECT_MIN_SECONDS
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=LISTENER_CHECK_SECONDS)
                    if not lost.is_set():
                        await conn.execute("SELECT 1")
                log.warning("stream listener connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("stream listener lost PostgreSQL (%s); retrying in %.1f s", exc, delay)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
