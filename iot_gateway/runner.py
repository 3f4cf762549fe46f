"""Run the gateway: a database pool, the MQTT connections and a few workers, until asked to stop.

Each message is triaged by its topic the moment it arrives, before its payload is read (handlers.py): junk
is dropped there, and the rest are spread over workers by device id, so one device's messages are handled
in the order they arrived while different devices proceed in parallel.

Events (alarms) have a lane of their own from the broker to the commit: an MQTT connection of their own
(its own session and in-flight window, so a backlog of telemetry the gateway has not yet taken in never holds
an alarm back at the broker), their own workers and their own database connections, so a trapped passenger
never waits behind a batch of telemetry, a flood of junk or a connection busy with a COPY. The general
connection subscribes to every device topic and so also receives a copy of each event: the copy is handled
in its device's telemetry lane like any redelivery (the event id makes it a no-op once recorded), so an event
that reached only the general session — sent before the events' session first existed — is still recorded.
The events' connection subscribes before the general one announces the gateway online. Status messages stay
in the telemetry lane, ordered with the readings that also prove a device alive. A worker takes whatever has
queued up while its previous transaction ran (up to MAX_BATCH): under load batches grow, at rest a message is
handled alone at once.
"""

from __future__ import annotations

import asyncio
import logging
import zlib

import asyncpg

from backend.db.pool import create_pool
from backend.domain.clock import Clock, SystemClock
from backend.settings import Settings
from iot_gateway.contract import Topic
from iot_gateway.drop_log import DropLog
from iot_gateway.handlers import GatewayCounters, MessageHandler
from iot_gateway.mqtt import BrokerConfig, InboundMessage, MqttBridge, broker_config

log = logging.getLogger(__name__)

WORKERS = 4
EVENT_WORKERS = 2
# Rows per COPY: large enough to amortise the round trip, small enough to keep a transaction short.
MAX_BATCH = 500
# How often the counters go to the log.
COUNTERS_LOG_SECONDS = 60.0


Triaged = tuple[InboundMessage, Topic]


def _worker_of(device_id: str, workers: int) -> int:
    return zlib.crc32(device_id.encode()) % workers


async def _work(queue: asyncio.Queue[Triaged], handler: MessageHandler, *, events: bool) -> None:
    while True:
        batch = [await queue.get()]
        while len(batch) < MAX_BATCH and not queue.empty():
            batch.append(queue.get_nowait())
        try:
            await handler.process(batch, events=events)
        except Exception:
            # process() accounts for every message itself; this guards the worker against its own bugs
            log.exception("gateway worker error; %d messages left unacknowledged for redelivery", len(batch))


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the gateway's pool: its work leaves no session state
    (transaction-scoped locks, no LISTEN), and the default reset is one more round trip between an alarm's
    commit and its acknowledgement."""


async def _log_counters(counters: GatewayCounters) -> None:
    while True:
        await asyncio.sleep(COUNTERS_LOG_SECONDS)
        log.info("gateway counters: %s", counters.snapshot())


async def _summarise_drops(drop_log: DropLog) -> None:
    # a flood that stops still gets its summary line, not only when the next drop comes
    while True:
        await asyncio.sleep(drop_log.interval_seconds)
        drop_log.flush()


async def run_gateway(
    settings: Settings,
    stop: asyncio.Event,
    *,
    client_id: str | None = None,
    clock: Clock | None = None,
    counters: GatewayCounters | None = None,
    pool: asyncpg.Pool | None = None,
    drop_log: DropLog | None = None,
) -> None:
    """Consume device messages until `stop` is set; each message is acknowledged after its commit.

    `counters` (if given) is filled as messages are handled; `pool` lets a host process share its pool;
    `drop_log` decides how much of a flood of bad messages reaches the log.
    Raises BrokerRefused when the broker rejects the credentials.
    """
    if not settings.database_url and pool is None:
        raise ValueError("the gateway needs DATABASE_URL")
    if not settings.mqtt_url:
        raise ValueError("the gateway needs MQTT_URL")
    config: BrokerConfig = broker_config(settings.mqtt_url, client_id or settings.mqtt_client_id)
    counters = counters if counters is not None else GatewayCounters()
    own_pool = pool is None
    if pool is None:
        assert settings.database_url
        pool = await create_pool(settings.database_url, min_size=1, max_size=WORKERS + 1, reset=_keep_session)
    # opened now, not on the first alarm: connecting takes longer than the alarm's whole transaction
    event_pool = (
        await create_pool(
            settings.database_url, min_size=EVENT_WORKERS, max_size=EVENT_WORKERS, reset=_keep_session
        )
        if settings.database_url
        else pool
    )
    loop = asyncio.get_running_loop()
    queues: list[asyncio.Queue[Triaged]] = [asyncio.Queue() for _ in range(WORKERS)]
    event_queues: list[asyncio.Queue[Triaged]] = [asyncio.Queue() for _ in range(EVENT_WORKERS)]
    handler: MessageHandler

    def deliver(message: InboundMessage) -> None:
        topic = handler.triage(message)
        if topic is None:
            return  # dropped (counted, logged, acknowledged) without queueing
        lane = event_queues if message.events_connection else queues
        lane[_worker_of(topic.device_id, len(lane))].put_nowait((message, topic))

    events_bridge = MqttBridge(config.for_events(), loop, deliver)
    bridge = MqttBridge(config, loop, deliver)

    def ack(message: InboundMessage) -> None:
        (events_bridge if message.events_connection else bridge).ack(message)

    drop_log = drop_log if drop_log is not None else DropLog()
    handler = MessageHandler(
        pool, clock or SystemClock(), ack, counters, stop, drop_log, event_pool=event_pool
    )
    tasks = [
        *(
            asyncio.create_task(_work(q, handler, events=True), name=f"gateway-event-worker-{i}")
            for i, q in enumerate(event_queues)
        ),
        *(
            asyncio.create_task(_work(q, handler, events=False), name=f"gateway-worker-{i}")
            for i, q in enumerate(queues)
        ),
    ]
    tasks.append(asyncio.create_task(_log_counters(counters), name="gateway-counters"))
    tasks.append(asyncio.create_task(_summarise_drops(drop_log), name="gateway-drop-summary"))
    log.info(
        "gateway %s subscribing to %s and, for events, %s (MQTT %s)",
        config.client_id,
        config.subscription,
        events_bridge.config.subscription,
        config.protocol,
    )
    stopping = asyncio.create_task(stop.wait())
    refused = asyncio.create_task(events_bridge.refused_event.wait())
    general_refused = asyncio.create_task(bridge.refused_event.wait())
    try:
        events_bridge.start()
        # whoever waits for the gateway's `online` may publish an alarm at once: events must be subscribed
        subscribed = asyncio.create_task(events_bridge.subscribed.wait())
        await asyncio.wait({stopping, refused, subscribed}, return_when=asyncio.FIRST_COMPLETED)
        subscribed.cancel()
        if not stop.is_set() and events_bridge.refused is None:
            bridge.start()
            await asyncio.wait({stopping, refused, general_refused}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        refused.cancel()
        general_refused.cancel()
        await asyncio.gather(asyncio.to_thread(bridge.stop), asyncio.to_thread(events_bridge.stop))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if own_pool:
            await pool.close()
        if event_pool is not pool:
            await event_pool.close()
        drop_log.flush()
        log.info("gateway stopped: %s", counters.snapshot())
    for refusal in (events_bridge.refused, bridge.refused):
        if refusal is not None:
            raise refusal
