"""The live-stream hub: one LISTEN connection per API process feeding every SSE client of that process.

NOTIFY carries only a stream_events id; the hub reads the rows (so payload size does not matter) and hands
each event to the clients allowed to see it. It reads them on the listening connection itself, not from the
API's pool: an alarm reaches the screens even while every pooled connection is busy with requests. Every
client has a bounded queue: a client too slow to keep up is dropped rather than allowed to hold up the
others — it reconnects with Last-Event-ID and replays what it missed from the table. When the listening
connection dies (PostgreSQL restarted, network cut) the hub reconnects and catches up from the last id it
saw, so a restart loses nothing for connected clients.

A stream lives only as long as the access it was opened with. The same connection LISTENs on
`caretaker_access` (a trigger NOTIFYs a user's id when their role, activity, password, sites or sessions
change); the hub then rechecks that user's streams and closes any whose session has ended, or whose role or
sites are no longer what the stream was opened with (the browser reopens it with the new rights). It
rechecks every stream on a timer too, which bounds how long a stream outlives a notification lost while
the listener was down, or its token's expiry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from backend.db.pool import connect
from backend.db.queries import stream as q
from backend.db.queries.outbox import STREAM_CHANNEL
from backend.db.queries.stream import StreamEvent
from backend.domain.models import CurrentUser
from backend.services.sessions import open_sessions_users

__all__ = ["StreamClient", "StreamClosed", "StreamEvent", "StreamHub"]

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
# The sessions migration's trigger NOTIFYs a user id here whenever that user's access changes.
ACCESS_CHANNEL = "caretaker_access"
EVERYONE = "*"
# Every stream's session is rechecked this often even without a notification: the longest a stream can
# outlive its token's expiry, or an access change whose NOTIFY was lost. One query per process per period.
RECHECK_SECONDS = 30.0


@dataclass(frozen=True)
class StreamClosed:
    """The end of a stream whose access changed: `signed_out` (the session ended, or the user was switched
    off) or `access_changed` (role or sites changed: reopen with the new rights)."""

    reason: str


SIGNED_OUT = "signed_out"
ACCESS_CHANGED = "access_changed"


def same_rights(before: CurrentUser, now: CurrentUser) -> bool:
    """The user may still see exactly what the stream was opened to show (admins see every site anyway)."""
    if before.role != now.role:
        return False
    return now.is_admin or set(before.site_ids) == set(now.site_ids)


class StreamClient:
    """One connected SSE client: its session, what it may see, and its bounded queue of events
    (None = dropped for falling behind, reconnect; StreamClosed = its access changed)."""

    def __init__(self, user: CurrentUser, session_id: UUID, queue_size: int) -> None:
        self.user = user
        self.session_id = session_id
        self.queue: asyncio.Queue[StreamEvent | StreamClosed | None] = asyncio.Queue(maxsize=queue_size)
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

    def close(self, reason: str) -> None:
        """End the stream after what is already queued is dropped: its access changed."""
        if self.dropped:
            return
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(StreamClosed(reason))


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
        # user ids whose access changed; None asks for every stream to be rechecked
        self._access: asyncio.Queue[UUID | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        # the listening connection while it is up, and its turn-taking (one statement at a time)
        self._listener: asyncpg.Connection | None = None
        self._listener_lock = asyncio.Lock()
        # told at once of each user whose access changed (None: anyone's, e.g. while nobody listened);
        # the session cache forgets them here, before any stream is rechecked
        self.access_listeners: list[Callable[[UUID | None], None]] = []

    async def start(self) -> None:
        """Start listening; returns once the first LISTEN is in place (or the first attempt failed)."""
        self._tasks = [
            asyncio.create_task(self._listen_forever(), name="stream-hub-listen"),
            asyncio.create_task(self._deliver_forever(), name="stream-hub-deliver"),
            asyncio.create_task(self._recheck_forever(), name="stream-hub-recheck"),
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

    def subscribe(self, user: CurrentUser, session_id: UUID) -> StreamClient:
        """Register a client; events committed from now on reach its queue."""
        client = StreamClient(user, session_id, self.queue_size)
        self.clients.add(client)
        return client

    async def recheck(self, clients: Iterable[StreamClient]) -> None:
        """Close each of these streams whose session ended or whose user's rights changed."""
        clients = [c for c in clients if not c.dropped]
        if not clients:
            return
        current = await open_sessions_users(self.pool, list({c.session_id for c in clients}))
        for client in clients:
            now = current.get(client.session_id)
            if now is None:
                client.close(SIGNED_OUT)
            elif not same_rights(client.user, now):
                client.close(ACCESS_CHANGED)

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

    def _on_access(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        user_id: UUID | None = None  # '*': everyone (a site added or removed changes every admin's sites)
        if payload != EVERYONE:
            try:
                user_id = UUID(payload)
            except ValueError:
                log.warning("malformed %s payload %.40r: rechecking everyone", ACCESS_CHANNEL, payload)
        self._tell_access(user_id)
        self._access.put_nowait(user_id)

    def _tell_access(self, user_id: UUID | None) -> None:
        for listener in self.access_listeners:
            listener(user_id)

    async def _recheck_forever(self) -> None:
        while True:
            try:
                first = await asyncio.wait_for(self._access.get(), timeout=RECHECK_SECONDS)
            except TimeoutError:
                first = None
            users = {first}
            while not self._access.empty():
                users.add(self._access.get_nowait())
            everyone = None in users
            clients = [c for c in self.clients if everyone or c.user.id in users]
            try:
                await self.recheck(clients)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning("stream hub could not recheck %d streams; trying again shortly", len(clients))
                # keep the request: the next round rechecks them
                for user_id in {None} if everyone else users:
                    self._access.put_nowait(user_id)
                await asyncio.sleep(RECONNECT_MAX_SECONDS)

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
                events = await self._read_events(sorted(ids))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.warning(
                    "stream hub could not read events %s; clients will catch up on reconnect", sorted(ids)
                )
                continue
            self._broadcast(events)

    async def _read_events(self, ids: list[int]) -> list[StreamEvent]:
        listener = self._listener
        if listener is None:
            return await q.events_by_ids(self.pool, ids)
        async with self._listener_lock:
            return await q.events_by_ids(listener, ids)

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
                await conn.add_listener(ACCESS_CHANNEL, self._on_access)
                await conn.add_listener(STREAM_CHANNEL, self._on_notify)
                if first:
                    self.last_id = await q.latest_event_id(self.pool)
                    first = False
                else:
                    await self._catch_up()
                    # access may have changed while nobody listened
                    self._access.put_nowait(None)
                self._listener = conn
                self.connected.set()
                delay = RECONNECT_MIN_SECONDS
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), timeout=LISTENER_CHECK_SECONDS)
                    if not lost.is_set():
                        async with self._listener_lock:
                            await conn.execute("SELECT 1")
                log.warning("stream listener connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("stream listener lost PostgreSQL (%s); retrying in %.1f s", exc, delay)
            finally:
                self._listener = None
                self.connected.clear()
                self._tell_access(None)
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
