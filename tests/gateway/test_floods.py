"""Floods of junk through a real (private) Mosquitto: every message is counted, the log stays a few lines
long, and an alarm published behind the junk is still recorded. How long it takes is measured by
bench/gateway.py (alarm_behind_junk), not asserted here."""

from __future__ import annotations

import logging
import re
from collections import Counter

import asyncpg
import pytest

from iot_gateway.contract import event_topic, telemetry_topic
from iot_gateway.drop_log import FULL_LINES, DropLog
from tests.gateway.conftest import Publisher, StartGateway, eventually

RAISE = b'{"eventId": "junk", "code": "ELEVATOR_ENTRAPMENT", "state": "raised"}'
# (reason the gateway counts it under, topic, payload) for message number i
JUNK_KINDS = [
    ("malformed_topic", lambda i: f"caretaker/junk/{i}", b"{}"),
    ("unknown_device", lambda i: event_topic("demo", f"ghost-{i}"), RAISE),
    ("unknown_device", lambda i: telemetry_topic("demo", f"ghost-{i}"), b'{"ts": "x", "metrics": {}}'),
    ("malformed_payload", lambda i: telemetry_topic("demo", "pres-1"), b"\x00\xff not json"),
    ("too_large", lambda i: telemetry_topic("demo", "pres-2"), b"x" * 20_000),
]
SUMMARY = re.compile(r"^dropped (\d+) more message\(s\) as (\w+) in the last")


def publish_junk(publisher: Publisher, n: int) -> Counter[str]:
    """Publish n junk messages (without waiting for each); returns how many of each reason were sent."""
    sent: Counter[str] = Counter()
    last = None
    for i in range(n):
        reason, topic, payload = JUNK_KINDS[i % len(JUNK_KINDS)]
        last = publisher.publish_raw(topic(i), payload)
        sent[reason] += 1
    assert last is not None
    last.wait_for_publish(timeout=120)
    return sent


async def test_a_flood_of_junk_is_counted_in_full_and_logged_in_a_few_lines(
    start_gateway: StartGateway, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    # one summary interval for the whole test, so that the number of lines does not depend on its speed
    gw = await start_gateway(drop_log=DropLog(interval_seconds=3600))
    with caplog.at_level(logging.WARNING, logger="iot_gateway"):
        sent = publish_junk(publisher, 10_000)
        await eventually(lambda: _true(sum(gw.counters.dropped.values()) >= 10_000), within=180)
        await gw.shutdown()  # writes the summary of what was held back
    assert gw.counters.dropped == sent

    lines = [r.getMessage() for r in caplog.records if r.name == "iot_gateway.handlers"]
    assert len(lines) <= len(sent) * (FULL_LINES + 1), lines
    logged: Counter[str] = Counter()
    for line in lines:
        summary = SUMMARY.match(line)
        if summary:
            logged[summary[2]] += int(summary[1])
        else:
            logged[re.search(r"\((\w+) ", line)[1]] += 1  # type: ignore[index]
    assert logged == sent  # every drop is in the log: a line of its own or a summary's count


async def test_an_alarm_behind_2000_junk_messages_is_recorded(
    db: asyncpg.Connection, start_gateway: StartGateway, publisher: Publisher
) -> None:
    gw = await start_gateway()
    publish_junk(publisher, 2_000)
    publisher.event("elev-a1", "ELEVATOR_ENTRAPMENT")

    async def raised() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM alarms WHERE device_id = 'elev-a1' AND open"))

    await eventually(raised, within=60)
    await eventually(lambda: _true(sum(gw.counters.dropped.values()) == 2_000), within=60)
    # counted once its transaction has returned, which may be a moment after the row is visible
    await eventually(lambda: _true(gw.counters.events_recorded == 1), within=60)


async def _true(value: bool) -> bool:
    return value
