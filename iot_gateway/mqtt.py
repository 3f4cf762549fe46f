"""paho-mqtt on its own thread, handing messages to asyncio and acknowledging them after commit.

paho runs its network loop in a thread (`loop_start`); every callback hops to the event loop with
`call_soon_threadsafe`. With `manual_ack=True` the broker keeps each QoS 1 message in flight (and redelivers
it after a reconnect) until `ack()` is called — which the gateway does only once the message's transaction
has committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from iot_gateway.contract import (
    EVENT_SUBSCRIPTION,
    GATEWAY_STATUS_TOPIC,
    OFFLINE,
    ONLINE,
    SHARED_EVENT_SUBSCRIPTION,
    SHARED_SUBSCRIPTION,
    SUBSCRIPTION,
)

log = logging.getLogger(__name__)

# A gateway restarted within a day resumes its session and gets what arrived meanwhile.
SESSION_EXPIRY_SECONDS = 24 * 3600
# Messages the broker may have in flight to us unacknowledged; acks wait for a commit, so a small window
# (Mosquitto's default is 20) would starve the batching. Mosquitto also caps it with max_inflight_messages.
RECEIVE_MAXIMUM = 1000
# Ping often enough that a dead TCP peer is noticed within a minute and a half.
KEEPALIVE_SECONDS = 60
# Back off from 1 s to 30 s between reconnect attempts: quick after a blip, gentle on a broker that is down.
RECONNECT_MIN_SECONDS = 1
RECONNECT_MAX_SECONDS = 30
# CONNACK reasons that retrying cannot fix (MQTT 3.1.1 return codes 4/5, MQTT 5 reason codes 134/135/140).
FATAL_CONNECT_REASONS = {4, 5, 134, 135, 140}


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how to connect, parsed from MQTT_URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    # "5" for Mosquitto/EMQX (shared subscription, session expiry); "3.1.1" for the embedded amqtt broker
    protocol: str
    client_id: str
    # Mosquitto 2.0 does not restore a shared subscription from its persistence file after a restart, so
    # messages sent before the gateway re-subscribes are lost; a single gateway may turn sharing off.
    shared: bool = True

    @property
    def v5(self) -> bool:
        """MQTT 5 (shared subscriptions and session expiry are available)."""
        return self.protocol == "5"

    # the events' own connection: events only, under a client id of its own
    events_only: bool = False

    @property
    def subscription(self) -> str:
        """The shared subscription on MQTT 5 (unless turned off), the plain one on 3.1.1."""
        sharing = self.v5 and self.shared
        if self.events_only:
            return SHARED_EVENT_SUBSCRIPTION if sharing else EVENT_SUBSCRIPTION
        return SHARED_SUBSCRIPTION if sharing else SUBSCRIPTION

    def for_events(self) -> BrokerConfig:
        """The same broker and login for the events' own connection."""
        return replace(self, client_id=f"{self.client_id}-events", events_only=True)


def broker_config(url: str, client_id: str) -> BrokerConfig:
    """`mqtt://user:pass@host:port?protocol=3.1.1&shared=false` → BrokerConfig (MQTT 5, shared by default)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    protocol = query.get("protocol", ["5"])[0]
    if protocol not in {"5", "3.1.1"}:
        raise ValueError(f"MQTT_URL protocol must be 5 or 3.1.1, not {protocol!r}")
    shared = query.get("shared", ["true"])[0].lower()
    if shared not in {"true", "false"}:
        raise ValueError(f"MQTT_URL shared must be true or false, not {shared!r}")
    return BrokerConfig(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 1883,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        protocol=protocol,
        client_id=client_id,
        shared=shared == "true",
    )


@dataclass(frozen=True)
class InboundMessage:
    """A message received from the broker, with what it takes to acknowledge it."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    # the connection it came in on: a mid means nothing on a later connection
    generation: int
    retain: bool = False
    # it came over the events' own connection (else the general one, which sees every topic)
    events_connection: bool = False


class BrokerRefused(RuntimeError):
    """The broker refused our credentials; retrying will not help."""


class MqttBridge:
    """One paho client: connects, subscribes in on_connect, forwards messages, acks on request.

    The general connection announces the gateway (a retained `online`, and `offline` as its Last Will); the
    events' connection (`config.events_only`) announces nothing.
    """

    def __init__(
        self,
        config: BrokerConfig,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[InboundMessage], None],
    ) -> None:
        self.config = config
        self._loop = loop
        self._deliver = deliver
        self._generation = 0
        self._lock = threading.Lock()
        self.connected = asyncio.Event()
        # the broker has confirmed the subscription (set again on every reconnect's SUBACK)
        self.subscribed = asyncio.Event()
        self.refused: BrokerRefused | None = None
        self.refused_event = asyncio.Event()
        self.status_topic = GATEWAY_STATUS_TOPIC.format(client_id=config.client_id)
        self._client = self._build_client()

    def _build_client(self) -> paho.Client:
        cfg = self.config
        if cfg.v5:
            client = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=cfg.client_id, protocol=paho.MQTTv5, manual_ack=True
            )
        else:
            client = paho.Client(
                CallbackAPIVersion.VERSION2,
                client_id=cfg.client_id,
                protocol=paho.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        if cfg.username:
            client.username_pw_set(cfg.username, cfg.password)
        if not cfg.events_only:
            # Last Will: the broker tells everyone this gateway is gone if it dies without saying goodbye.
            client.will_set(self.status_topic, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        # our own outgoing queue (birth message) must never silently drop
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        """Connect in the background and keep reconnecting until stop()."""
        cfg = self.config
        if cfg.v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
            props.ReceiveMaximum = RECEIVE_MAXIMUM
            self._client.connect_async(
                cfg.host, cfg.port, keepalive=KEEPALIVE_SECONDS, clean_start=False, properties=props
            )
        else:
            self._client.connect_async(cfg.host, cfg.port, keepalive=KEEPALIVE_SECONDS)
        self._client.loop_start()

    def stop(self) -> None:
        """Say goodbye (retained `offline`), disconnect and stop the network thread; unacked messages stay
        with the broker for the next session."""
        try:
            if self._client.is_connected() and not self.config.events_only:
                info = self._client.publish(self.status_topic, OFFLINE, qos=1, retain=True)
                info.wait_for_publish(timeout=2)
        except (RuntimeError, ValueError) as exc:
            log.debug("could not publish the gateway's offline status: %s", exc)
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, message: InboundMessage) -> None:
        """Acknowledge a message whose effect is committed (thread-safe: paho queues PUBACKs under a lock)."""
        if message.qos == 0:
            return
        with self._lock:
            current = self._generation
        if message.generation != current:
            # The connection it came on is gone; the broker will redeliver it and the redelivery is a no-op.
            return
        self._client.ack(message.mid, message.qos)

    # paho thread below: never raise, never block

    def _on_connect(
        self, client: paho.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        code = getattr(reason, "value", reason)
        if getattr(reason, "is_failure", False):
            if code in FATAL_CONNECT_REASONS:
                self.refused = BrokerRefused(f"broker refused the gateway: {reason}")
                self._loop.call_soon_threadsafe(self.refused_event.set)
                client.disconnect()
            else:
                log.warning("broker connection failed: %s; retrying", reason)
            return
        with self._lock:
            self._generation += 1
        # subscribing here means every reconnect re-subscribes (a broker that lost our session is fine too)
        client.subscribe(self.config.subscription, qos=1)
        if not self.config.events_only:
            client.publish(self.status_topic, ONLINE, qos=1, retain=True)
        log.info("connected to %s:%s as %s", self.config.host, self.config.port, self.config.client_id)
        self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(
        self, client: paho.Client, userdata: object, flags: object, reason: object, props: object
    ) -> None:
        log.warning("%s disconnected from the broker: %s", self.config.client_id, reason)
        self._loop.call_soon_threadsafe(self.connected.clear)
        self._loop.call_soon_threadsafe(self.subscribed.clear)

    def _on_subscribe(
        self, client: paho.Client, userdata: object, mid: int, reasons: list[object], props: object
    ) -> None:
        if any(getattr(r, "is_failure", False) for r in reasons):
            log.error(
                "broker refused %s the subscription %s: %s",
                self.config.client_id,
                self.config.subscription,
                reasons,
            )
            return
        self._loop.call_soon_threadsafe(self.subscribed.set)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            generation = self._generation
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = ""  # counted and dropped as a malformed topic
        inbound = InboundMessage(
            topic=topic,
            payload=message.payload,
            qos=message.qos,
            mid=message.mid,
            generation=generation,
            retain=bool(message.retain),
            events_connection=self.config.events_only,
        )
        # if the event loop is closing, the message stays unacknowledged and comes back next session
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver, inbound)
