"""Triage by topic, before a payload is read: junk is dropped (counted, acknowledged) and never queued."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend.db.queries.alarms import DeviceIdentity
from backend.domain.clock import ManualClock
from iot_gateway.handlers import GatewayCounters, MessageHandler
from iot_gateway.mqtt import InboundMessage

DEMO = uuid.uuid4()


def _device(device_id: str, *, site: str = "demo", active: bool = True) -> DeviceIdentity:
    return DeviceIdentity(
        id=device_id, site_id=DEMO, site_code=site, kind="elevator", name=device_id, active=active,
        asset_id=None, location="",
    )  # fmt: skip


def _message(topic: str, payload: bytes = b"{}", *, copy: bool = False) -> InboundMessage:
    # events come over the events' own connection; `copy`: the general connection's copy of one
    events = topic.endswith("/event") and not copy
    return InboundMessage(topic=topic, payload=payload, qos=1, mid=1, generation=1, events_connection=events)


def _handler(acked: list[InboundMessage]) -> MessageHandler:
    # triage reads no database: the pool is never touched
    pool: Any = None
    return MessageHandler(pool, ManualClock(), acked.append, GatewayCounters(), asyncio.Event())


def test_junk_is_dropped_on_arrival_and_the_rest_is_routed_by_topic() -> None:
    acked: list[InboundMessage] = []
    handler = _handler(acked)
    handler._devices.put(  # what an earlier batch looked up: one good device, three to refuse
        ["elev-a1", "ghost-1", "old-1", "elev-x1"],
        {"elev-a1": _device("elev-a1"), "old-1": _device("old-1", active=False),
         "elev-x1": _device("elev-x1", site="other")},
    )  # fmt: skip
    cases = {
        "caretaker/junk": None,
        "caretaker/demo/elev-a1/bogus": None,
        "caretaker/demo/ghost-1/event": None,
        "caretaker/demo/old-1/event": None,
        "caretaker/demo/elev-x1/event": None,
        "caretaker/demo/elev-a1/event": "event",
        "caretaker/demo/elev-a1/telemetry": "telemetry",
        "caretaker/demo/new-1/event": "event",  # not looked up yet: its worker will
    }
    routed = {}
    for topic in cases:
        found = handler.triage(_message(topic))
        routed[topic] = found.kind if found else None
    routed["too large"] = handler.triage(_message("caretaker/demo/elev-a1/event", b"x" * 20_000))
    assert routed == {**cases, "too large": None}
    assert handler.counters.received == len(cases) + 1
    assert handler.counters.dropped == {
        "malformed_topic": 2, "unknown_device": 1, "inactive_device": 1, "site_mismatch": 1, "too_large": 1
    }  # fmt: skip
    assert len(acked) == 6  # every drop is acknowledged at once: the broker forgets it

    # the general connection's copies of events: a junk one is acknowledged without being counted again
    # as a drop, a good one goes to its worker (to be found already recorded there)
    assert handler.triage(_message("caretaker/demo/ghost-1/event", copy=True)) is None
    copy = handler.triage(_message("caretaker/demo/elev-a1/event", copy=True))
    assert copy is not None and copy.kind == "event"
    assert handler.counters.received == len(cases) + 1 and handler.counters.event_copies == 2
    assert sum(handler.counters.dropped.values()) == 6 and len(acked) == 7
