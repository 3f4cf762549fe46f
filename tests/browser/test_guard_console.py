"""A guard's console shows an alarm a device publishes over MQTT, taking over the screen, and acknowledges it.

How long the alarm took to reach the screen is reported (junit property), not asserted: a shared machine's
load is no fault of the code.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import paho.mqtt.client as mqtt
import pytest

from tests.browser.conftest import free_port, log_in, screenshot, wait_until
from tests.conftest import TEST_SECRET, skip_or_fail
from tests.processes import stop

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GATEWAY_READY_SECONDS = 20


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of our own on a free port: the gateway's shared subscription must not meet other runs'."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        skip_or_fail("mosquitto is not installed")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n")
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield port
    process.terminate()
    process.wait(timeout=5)


@pytest.fixture
def gateway(db_url: str, broker: int, tmp_path: Path) -> Iterator[None]:
    """`caretaker gateway` against the test database and our broker."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": f"mqtt://127.0.0.1:{broker}",
        "CARETAKER_SECRET_KEY": TEST_SECRET,
        "CARETAKER_MQTT_CLIENT_ID": f"gw-{uuid.uuid4().hex[:8]}",
        "CARETAKER_DATA_DIR": str(tmp_path / "gw-data"),
    }
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    yield
    stop(process, timeout=10)
    log.close()


def publish(port: int, topic: str, payload: str | bytes, retain: bool = False) -> None:
    """Publish one QoS 1 message as a device would."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(timeout=5)
    client.loop_stop()
    client.disconnect()


async def wait_for_gateway(db: asyncpg.Connection, port: int) -> None:
    """The gateway is live once it records a device's status message."""
    deadline = time.monotonic() + GATEWAY_READY_SECONDS
    while time.monotonic() < deadline:
        publish(port, "caretaker/demo/leak-2/status", "online", retain=True)
        for _ in range(10):
            if await db.fetchval("SELECT online FROM device_state WHERE device_id = 'leak-2'"):
                return
            await asyncio.sleep(0.2)
    pytest.fail("the gateway did not record a device status in time (see gateway.log)")


async def test_guard_sees_an_mqtt_alarm_take_over_the_screen_and_acknowledges_it(
    phone, live_server, gateway, broker: int, db: asyncpg.Connection, record_property
) -> None:
    await wait_for_gateway(db, broker)
    await phone.grant_permissions(["notifications"], origin=live_server.url)
    page = await phone.new_page()
    await log_in(page, "guard1")
    await page.wait_for_selector("#stream-state:has-text('实时')", timeout=10_000)
    # Headless Chromium has no vendor push service: the offer must fail politely, not break the console.
    await page.click("#enable-alerts")
    await wait_until(page, "document.getElementById('push-state').textContent.length > 0")

    event = {
        "eventId": str(uuid.uuid4()),
        "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "code": "ELEVATOR_ENTRAPMENT",
        "state": "raised",
        "detail": {"floor": 7},
    }
    sent_at = time.monotonic()
    publish(broker, "caretaker/demo/elev-a1/event", json.dumps(event))
    takeover = page.locator(".takeover:has-text('电梯困人')")
    await takeover.wait_for(timeout=20_000)
    record_property("alarm_on_console_seconds", round(time.monotonic() - sent_at, 3))
    assert "7 层" in await takeover.inner_text()
    await screenshot(page, "08-guard-alarm")

    await takeover.locator("[data-ack]").click()
    await page.wait_for_selector(".alarm.acked [data-alarm-state]:has-text('已确认')", timeout=20_000)
    acked = await db.fetchrow(
        """SELECT a.acked_at, u.username FROM alarms a JOIN users u ON u.id = a.acked_by
           WHERE a.device_id = 'elev-a1' AND a.code = 'ELEVATOR_ENTRAPMENT'"""
    )
    assert acked is not None and acked["acked_at"] is not None
    assert acked["username"] == "guard1"
    await screenshot(page, "09-guard-acked")
