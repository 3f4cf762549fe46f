"""Per-device credentials and the ACL of docs/mosquitto/: a device cannot publish for another device.

A private Mosquitto runs with the documented acl file as it is, a password file made with
`mosquitto_passwd -b`, and no anonymous access; the real gateway logs in as caretaker-gateway.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from backend.domain.clock import SystemClock
from backend.settings import Settings
from iot_gateway.contract import event_topic
from iot_gateway.runner import run_gateway
from tests.conftest import skip_or_fail
from tests.gateway.conftest import ROOT, device_time, eventually, free_port
from tests.processes import stop

DOCS = ROOT / "docs" / "mosquitto"
PASSWORDS = {"caretaker-gateway": "gw-secret-1", "elev-a1": "a1-secret-1", "elev-a2": "a2-secret-1"}
NOT_AUTHORIZED = 135  # MQTT v5 PUBACK reason code


class SecuredBroker:
    """Mosquitto with the documented ACL and a password file, on a free port, stopped by PID."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        passwd = directory / "caretaker.passwd"
        for n, (user, password) in enumerate(PASSWORDS.items()):
            create = ["-c"] if n == 0 else []
            subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, password], check=True)
        passwd.chmod(0o600)
        acl = directory / "caretaker.acl"
        shutil.copy(DOCS / "acl", acl)
        acl.chmod(0o600)
        # The documented configuration, pointed at this test's files and port.
        conf = (DOCS / "mosquitto.conf").read_text()
        conf = conf.replace("listener 1883", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("/etc/mosquitto/caretaker.passwd", str(passwd))
        conf = conf.replace("/etc/mosquitto/caretaker.acl", str(acl))
        conf = conf.replace("/var/lib/mosquitto/", f"{directory}/")
        # running as root, Mosquitto would switch to a 'mosquitto' user that cannot read the test's files
        conf += f"\nuser root\nlog_dest file {directory}/mosquitto.log\n"
        (directory / "mosquitto.conf").write_text(conf)
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            time.sleep(0.02)

    def _listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """Stop the broker this test started."""
        stop(self.process, timeout=10)


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[SecuredBroker]:
    """The documented broker configuration on a free port."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        skip_or_fail("mosquitto and mosquitto_passwd are not installed (apt-get install mosquitto)")
    broker = SecuredBroker(tmp_path)
    try:
        yield broker
    finally:
        broker.stop()


class Device:
    """A device's own MQTT v5 connection, recording the broker's answer to each publish."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.connected = threading.Event()
        self.connect_reason: Any = None
        self.acks: dict[int, int] = {}
        self.acked = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=username, protocol=paho.MQTTv5)
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK"

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self.connect_reason = reason
        self.connected.set()

    def _on_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self.acked:
            self.acks[mid] = reason.value
            self.acked.notify_all()

    def entrapment(self, site: str, device: str) -> int:
        """Publish ELEVATOR_ENTRAPMENT on `device`'s topic; returns the broker's PUBACK reason code."""
        body = msgspec.json.encode(
            {
                "eventId": str(uuid.uuid4()),
                "ts": device_time(),
                "code": "ELEVATOR_ENTRAPMENT",
                "state": "raised",
                "detail": {},
            }
        )
        info = self.client.publish(event_topic(site, device), body, qos=1)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, timeout=10), "no PUBACK"
            return self.acks[info.mid]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


async def _alarms(db: asyncpg.Connection, device: str) -> int:
    return await db.fetchval("SELECT count(*) FROM alarms WHERE device_id = $1", device)


async def test_a_device_cannot_publish_for_another_device(
    secured_broker: SecuredBroker, db: asyncpg.Connection, db_url: str
) -> None:
    url = f"mqtt://caretaker-gateway:{PASSWORDS['caretaker-gateway']}@127.0.0.1:{secured_broker.port}"
    stop = asyncio.Event()
    gateway = asyncio.create_task(
        run_gateway(
            Settings(database_url=db_url, mqtt_url=url), stop, client_id="gw-acl", clock=SystemClock()
        )
    )
    device = await asyncio.to_thread(Device, secured_broker.port, "elev-a1", PASSWORDS["elev-a1"])
    try:
        # The gateway is subscribed once a legitimate event of its own device gets through.
        refused = await asyncio.to_thread(device.entrapment, "demo", "elev-a2")
        assert refused == NOT_AUTHORIZED
        accepted = await asyncio.to_thread(device.entrapment, "demo", "elev-a1")
        assert accepted in (0, 16)  # success, or "no matching subscribers" before the gateway subscribed

        async def raised() -> int:
            if await _alarms(db, "elev-a1") == 0:
                await asyncio.to_thread(device.entrapment, "demo", "elev-a1")
            return await _alarms(db, "elev-a1")

        await eventually(raised, within=20, interval=0.5)
        assert (
            await db.fetchval(
                "SELECT count(*) FROM alarms WHERE device_id = 'elev-a1' AND code = 'ELEVATOR_ENTRAPMENT'"
            )
            == 1
        )
        # Refused again now that the gateway certainly listens: still nothing for elev-a2.
        assert await asyncio.to_thread(device.entrapment, "demo", "elev-a2") == NOT_AUTHORIZED
        await asyncio.sleep(1)
        assert await _alarms(db, "elev-a2") == 0
        assert await db.fetchval("SELECT count(*) FROM device_events WHERE device_id = 'elev-a2'") == 0
    finally:
        await asyncio.to_thread(device.close)
        stop.set()
        await asyncio.wait_for(gateway, 15)


def test_without_credentials_or_with_a_wrong_password_nobody_connects(secured_broker: SecuredBroker) -> None:
    for username, password in (("elev-a1", "wrong"), ("nobody", "x")):
        device = Device(secured_broker.port, username, password)
        try:
            assert device.connect_reason.is_failure, (username, device.connect_reason)
        finally:
            device.close()
