"""Decode, validate and dispatch device messages; count what was stored and what was dropped, and why.

Nothing a device sends can stop the gateway: a message that fails validation is counted, logged (truncated,
and only the first few of a flood: iot_gateway/drop_log.py) and acknowledged so that the broker forgets it.
A message whose transaction failed for a database reason is retried until it commits; only then is it
acknowledged.

Every message is triaged by its topic as it arrives, before its payload is read: a topic outside the
contract, an oversized payload or a device already known to be unknown, inactive or of another site is
dropped there and then, so junk never queues in front of an alarm; the rest go to the lane their topic says.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

import asyncpg
import msgspec

from backend.domain.alarm_codes import ALARM_CODES
from backend.domain.clock import Clock
from backend.services import alarms
from backend.services.alarms import DeviceIdentity
from iot_gateway.contract import OFFLINE, ONLINE, Event, StatusBody, Topic, parse_topic
from iot_gateway.drop_log import DropLog
from iot_gateway.mqtt import InboundMessage

log = logging.getLogger(__name__)

# Devices send a few hundred bytes; anything far larger is a fault or an attack.
MAX_PAYLOAD_BYTES = 16 * 1024
# Shown in the log for a dropped message: enough to recognise it, not enough to flood the log.
LOG_PAYLOAD_CHARS = 120
# A device id's site and activity change rarely; re-reading them every 30 s keeps the gateway off the
# database for every telemetry message while an admin's change still takes effect quickly.
DEVICE_CACHE_SECONDS = 30.0
# A reading stamped further than this from server time comes from a device with a broken clock.
MAX_CLOCK_SKEW = timedelta(days=1)
# Between retries of a transaction that failed for a database reason (connection lost, server restarting).
RETRY_MIN_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0

# Errors that say "the database is unreachable right now", not "this message is bad".
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
)

_Metrics = Annotated[dict[Annotated[str, msgspec.Meta(max_length=64)], float], msgspec.Meta(max_length=64)]


class _TelemetryWire(msgspec.Struct, frozen=True):
    ts: str
    metrics: _Metrics
    seq: int | None = None


_decode_telemetry = msgspec.json.Decoder(_TelemetryWire).decode
_decode_event = msgspec.json.Decoder(Event).decode
_decode_status = msgspec.json.Decoder(StatusBody | str).decode


@dataclass
class GatewayCounters:
    """What the gateway has done since it started; `dropped` is by reason."""

    received: int = 0
    telemetry_stored: int = 0
    telemetry_duplicates: int = 0
    events_recorded: int = 0
    # an event already recorded, delivered again on the events' connection
    events_duplicate: int = 0
    # the general connection's copies of events (not in `received`; never counted or logged as drops)
    event_copies: int = 0
    statuses: int = 0
    alarms_raised: int = 0
    retries: int = 0
    failed: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, object]:
        """A plain dict for logs and tests."""
        return {
            "received": self.received,
            "telemetryStored": self.telemetry_stored,
            "telemetryDuplicates": self.telemetry_duplicates,
            "eventsRecorded": self.events_recorded,
            "eventsDuplicate": self.events_duplicate,
            "eventCopies": self.event_copies,
            "statuses": self.statuses,
            "alarmsRaised": self.alarms_raised,
            "retries": self.retries,
            "failed": self.failed,
            "dropped": dict(self.dropped),
        }


class Dropped(Exception):
    """A message that can never be recorded; `reason` is the counter it goes to."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def parse_timestamp(raw: str | None, now: datetime) -> datetime:
    """The device's ISO 8601 time, or server time when it is missing, unreadable or far off."""
    if raw:
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            return now
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        if abs(ts - now) <= MAX_CLOCK_SKEW:
            return ts
    return now


def decode_status(payload: bytes) -> bool:
    """`online` / `offline`, bare or as JSON; True for online."""
    text = payload.strip()
    if text in (ONLINE.encode(), OFFLINE.encode()):
        return text == ONLINE.encode()
    try:
        body = _decode_status(text)
    except msgspec.DecodeError as exc:
        raise Dropped("malformed_payload", str(exc)) from None
    state = body.state if isinstance(body, StatusBody) else body
    if state not in (ONLINE, OFFLINE):
        raise Dropped("malformed_payload", f"status {state!r}")
    return state == ONLINE


def _is_event_copy(message: InboundMessage, topic: Topic | None) -> bool:
    """The general connection's copy of a message the events' connection also receives."""
    return topic is not None and topic.kind == "event" and not message.events_connection


class _DeviceCache:
    """Device identities by id (including "no such device"), re-read after DEVICE_CACHE_SECONDS."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, DeviceIdentity | None]] = {}

    def missing(self, device_ids: set[str]) -> list[str]:
        now = time.monotonic()
        return [d for d in device_ids if d not in self._entries or self._entries[d][0] < now]

    def fresh(self, device_id: str) -> tuple[bool, DeviceIdentity | None]:
        """(True, identity or None for "no such device") when known and not yet due for re-reading."""
        entry = self._entries.get(device_id)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, device_ids: list[str], found: dict[str, DeviceIdentity]) -> None:
        expires = time.monotonic() + DEVICE_CACHE_SECONDS
        for d in device_ids:
            self._entries[d] = (expires, found.get(d))

    def get(self, device_id: str) -> DeviceIdentity | None:
        entry = self._entries.get(device_id)
        return entry[1] if entry else None


class MessageHandler:
    """Turns batches of inbound messages into committed transactions, then acknowledges them."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        ack: Callable[[InboundMessage], None],
        counters: GatewayCounters,
        stop: asyncio.Event,
        drop_log: DropLog | None = None,
        *,
        event_pool: asyncpg.Pool | None = None,
    ) -> None:
        self._pool = pool
        # events' own connections: an alarm never waits for a connection busy with a telemetry COPY
        self._event_pool = event_pool if event_pool is not None else pool
        self._clock = clock
        self._ack = ack
        self.counters = counters
        self._stop = stop
        self._devices = _DeviceCache()
        self.drop_log = drop_log if drop_log is not None else DropLog()

    def triage(self, message: InboundMessage) -> Topic | None:
        """As a message arrives, before its payload is read: its topic, or None when it was dropped at once
        (a topic outside the contract, too large, a device the cache already knows to refuse)."""
        topic = parse_topic(message.topic)
        if _is_event_copy(message, topic):
            self.counters.event_copies += 1
        else:
            self.counters.received += 1
        try:
            if topic is None:
                raise Dropped("malformed_topic")
            if len(message.payload) > MAX_PAYLOAD_BYTES:
                raise Dropped("too_large", f"{len(message.payload)} bytes")
            known, device = self._devices.fresh(topic.device_id)
            if known:
                self._identify(topic, device)
        except Dropped as dropped:
            self._drop(message, dropped)
            return None
        return topic

    async def process(self, batch: list[tuple[InboundMessage, Topic]], *, events: bool = False) -> None:
        """Handle triaged messages in arrival order; a run of telemetry shares a transaction, others get one
        each. A batch comes from one lane: the events' (`events`, on the events' own connections), or the
        telemetry lane's (telemetry, status and the general connection's copies of events)."""
        pool = self._event_pool if events else self._pool
        await self._load_devices(pool, {t.device_id for _, t in batch})
        telemetry: list[tuple[InboundMessage, alarms.TelemetryReading]] = []
        for message, topic in batch:
            try:
                device = self._identify(topic, self._devices.get(topic.device_id))
                if topic.kind == "telemetry":
                    telemetry.append((message, self._decode_telemetry(device, message.payload)))
                    continue
                await self._flush_telemetry(telemetry)
                telemetry = []
                if topic.kind == "event":
                    await self._handle_event(pool, message, device)
                else:
                    await self._handle_status(pool, message, device)
            except Dropped as dropped:
                self._drop(message, dropped)
            except Exception:
                self._fail([message])
        await self._flush_telemetry(telemetry)

    async def _flush_telemetry(self, items: list[tuple[InboundMessage, alarms.TelemetryReading]]) -> None:
        try:
            await self._store_telemetry(items)
        except Exception:
            if len(items) == 1:
                self._fail([items[0][0]])
                return
            # one bad reading must not sink its neighbours: store them one by one
            for item in items:
                try:
                    await self._store_telemetry([item])
                except Exception:
                    self._fail([item[0]])

    def _fail(self, messages: list[InboundMessage]) -> None:
        # A fault of ours for this message (not the database being away): log it with its traceback and let
        # it go, or it would be redelivered and fail forever, holding up everything behind it.
        if all(_is_event_copy(m, parse_topic(m.topic)) for m in messages):
            for message in messages:
                self._ack(message)  # its original on the events' connection was counted and logged
            return
        self.counters.failed += len(messages)
        self.drop_log.note(
            "failed", "could not record message on %r", messages[0].topic[:LOG_PAYLOAD_CHARS], exc_info=True
        )
        for message in messages:
            self._ack(message)

    async def _load_devices(self, pool: asyncpg.Pool, device_ids: set[str]) -> None:
        missing = self._devices.missing(device_ids)
        if missing:
            found = await self._with_retries(
                pool, lambda conn: alarms.lookup_devices(conn, missing), read_only=True
            )
            self._devices.put(missing, found or {})

    @staticmethod
    def _identify(topic: Topic, device: DeviceIdentity | None) -> DeviceIdentity:
        if device is None:
            raise Dropped("unknown_device", topic.device_id)
        if not device.active:
            raise Dropped("inactive_device", topic.device_id)
        if device.site_code != topic.site:
            # a device may only speak for itself, on its own site's topics
            raise Dropped(
                "site_mismatch", f"{topic.device_id} belongs to {device.site_code}, not {topic.site}"
            )
        return device

    def _decode_telemetry(self, device: DeviceIdentity, payload: bytes) -> alarms.TelemetryReading:
        try:
            wire = _decode_telemetry(payload)
        except msgspec.DecodeError as exc:
            raise Dropped("malformed_payload", str(exc)) from None
        now = self._clock.now()
        return alarms.TelemetryReading(
            device=device, ts=parse_timestamp(wire.ts, now), seq=wire.seq, metrics=dict(wire.metrics)
        )

    async def _store_telemetry(self, items: list[tuple[InboundMessage, alarms.TelemetryReading]]) -> None:
        if not items:
            return
        readings = [r for _, r in items]
        now = self._clock.now()
        result = await self._with_retries(
            self._pool, lambda conn: alarms.record_telemetry_batch(conn, readings, now=now)
        )
        if result is None:
            return
        self.counters.telemetry_stored += result.stored
        self.counters.telemetry_duplicates += result.duplicates
        self.counters.alarms_raised += len(result.raised)
        for message, _ in items:
            self._ack(message)

    async def _handle_event(
        self, pool: asyncpg.Pool, message: InboundMessage, device: DeviceIdentity
    ) -> None:
        try:
            event = _decode_event(message.payload)
        except msgspec.DecodeError as exc:
            raise Dropped("malformed_payload", str(exc)) from None
        if not event.event_id or len(event.event_id) > 128:
            raise Dropped("malformed_payload", "eventId must be 1-128 characters")
        spec = ALARM_CODES.get(event.code)
        if spec is None:
            raise Dropped("unknown_code", event.code[:40])
        if device.kind not in spec.device_kinds:
            raise Dropped("code_not_for_device", f"{event.code} from a {device.kind}")
        now = self._clock.now()
        ts = parse_timestamp(event.ts, now)
        result = await self._with_retries(
            pool,
            lambda conn: alarms.record_device_event(
                conn,
                device,
                event_id=event.event_id,
                code=event.code,
                state=event.state,
                ts=ts,
                detail=event.detail,
                now=now,
            ),
        )
        if result is None:
            return
        if result.duplicate:
            # a copy from the general connection finding its event recorded is the usual case, not news
            if message.events_connection:
                self.counters.events_duplicate += 1
        else:
            self.counters.events_recorded += 1
            if result.outcome in ("raised", "reraised"):
                self.counters.alarms_raised += 1
        self._ack(message)

    async def _handle_status(
        self, pool: asyncpg.Pool, message: InboundMessage, device: DeviceIdentity
    ) -> None:
        if not message.payload:
            # clearing a retained status publishes an empty message: nothing to record
            raise Dropped("empty_status", device.id)
        online = decode_status(message.payload)
        now = self._clock.now()
        result = await self._with_retries(
            pool, lambda conn: alarms.record_device_status(conn, device, online=online, now=now)
        )
        if result is None:
            return
        self.counters.statuses += 1
        if result.outcome in ("raised", "reraised"):
            self.counters.alarms_raised += 1
        self._ack(message)

    async def _with_retries(
        self, pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], object], *, read_only: bool = False
    ) -> object | None:
        """Run `work` on a connection of `pool` in a transaction until it commits; None if the gateway is
        stopping first.

        A database that is down or restarting is waited for (the message stays unacknowledged meanwhile);
        any other error is a fault of this message and is counted and logged once. A `read_only` work of
        one statement runs without BEGIN and COMMIT: a flood of unknown device ids costs one round trip
        per batch, not three.
        """
        delay = RETRY_MIN_SECONDS
        while True:
            try:
                async with pool.acquire() as conn:
                    if read_only:
                        return await work(conn)  # type: ignore[misc]
                    async with conn.transaction():
                        return await work(conn)  # type: ignore[misc]
            except TRANSIENT_DB_ERRORS as exc:
                self.counters.retries += 1
                log.warning("database unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
            except asyncpg.exceptions.UniqueViolationError as exc:
                # a replica raced us on the same alarm's work order; the retry sees its committed result
                self.counters.retries += 1
                log.info("lost a race (%s); retrying", exc.constraint_name)
            if self._stop.is_set():
                return None
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
                return None
            except TimeoutError:
                delay = min(delay * 2, RETRY_MAX_SECONDS)

    def _drop(self, message: InboundMessage, dropped: Dropped) -> None:
        if _is_event_copy(message, parse_topic(message.topic)):
            self._ack(message)  # its original on the events' connection was counted and logged
            return
        self.counters.dropped[dropped.reason] += 1
        self.drop_log.note(
            dropped.reason,
            "dropped message on %r (%s %s): %r",
            message.topic[:LOG_PAYLOAD_CHARS],
            dropped.reason,
            dropped.detail[:LOG_PAYLOAD_CHARS],
            message.payload[:LOG_PAYLOAD_CHARS],
        )
        self._ack(message)
