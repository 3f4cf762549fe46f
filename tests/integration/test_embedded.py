"""The embedded PostgreSQL and broker that `caretaker up` starts when no services are configured."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import paho.mqtt.client as mqtt
import psutil
import pytest

from backend.embedded import EmbeddedBroker, EmbeddedPostgres, port_is_free

pytestmark = pytest.mark.slow


def _postgres_processes_for(cluster_dir: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and str(cluster_dir) in (proc.info["cmdline"] or []):
            found.append(proc)
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir for one test; a cluster moved out of it (unreachable parents) is removed afterwards."""
    path = tmp_path / "pg"
    yield path
    moved = path / "cluster-location"
    if moved.exists():
        shutil.rmtree(moved.read_text().strip(), ignore_errors=True)


async def _database_name(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT current_database()")
    finally:
        await conn.close()


async def test_postgres_starts_restarts_on_its_port_and_leaves_nothing_running(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(server.start)
    try:
        assert _postgres_processes_for(server.cluster_dir), "the server runs on this cluster"
        assert server.port not in (5432, None)
        assert await _database_name(server.dsn) == "caretaker"
        first_port = server.port
    finally:
        await asyncio.to_thread(server.stop)
    assert _postgres_processes_for(server.cluster_dir) == []

    again = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(again.start)
    try:
        assert again.port == first_port, "a restart reuses the remembered port when it is free"
        assert await _database_name(again.dsn) == "caretaker"
    finally:
        await asyncio.to_thread(again.stop)
    assert _postgres_processes_for(server.cluster_dir) == []
    assert port_is_free(first_port)


async def test_a_stale_postmaster_pid_from_a_crash_does_not_block_the_next_start(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(server.start)
    pid_file = server.cluster_dir / "postmaster.pid"
    left_behind = pid_file.read_text()
    await asyncio.to_thread(server.stop)
    # What a crash and reboot leave: the pid file of a postmaster that is gone, its pid since reused by
    # another program (here this test). PostgreSQL itself would refuse to start over it.
    lines = left_behind.splitlines()
    lines[0] = str(os.getpid())
    pid_file.write_text("\n".join(lines) + "\n")

    restarted = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(restarted.start)
    try:
        assert await _database_name(restarted.dsn) == "caretaker"
    finally:
        await asyncio.to_thread(restarted.stop)
    assert _postgres_processes_for(server.cluster_dir) == []


def _client(url: str, client_id: str, *, password: str | None = None) -> tuple[mqtt.Client, queue.Queue]:
    parts = urlsplit(url)
    received: queue.Queue = queue.Queue()
    connected: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.username_pw_set(parts.username, password if password is not None else parts.password)
    client.on_connect = lambda c, u, flags, reason, props: connected.put(reason.is_failure)
    client.on_message = lambda c, u, msg: received.put((msg.topic, msg.payload))
    client.connect(parts.hostname, parts.port)
    client.loop_start()
    failed = connected.get(timeout=10)
    if failed:
        client.loop_stop()
        raise ConnectionRefusedError(client_id)
    return client, received


def test_broker_keeps_a_persistent_session_and_refuses_a_wrong_password() -> None:
    broker = EmbeddedBroker()
    broker.start()
    try:
        assert broker.port not in (1883, None)
        assert broker.url.startswith(f"mqtt://{broker.username}:")
        with pytest.raises(ConnectionRefusedError):
            _client(broker.url, "intruder", password="wrong")

        subscriber, _ = _client(broker.url, "gateway-test")
        subscribed = threading.Event()
        subscriber.on_subscribe = lambda *a: subscribed.set()
        subscriber.subscribe("caretaker/test/#", qos=1)
        assert subscribed.wait(10)
        subscriber.disconnect()
        subscriber.loop_stop()

        publisher, _ = _client(broker.url, "device-test")
        publisher.publish("caretaker/test/alarm", b"while you were away", qos=1).wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()

        back, received = _client(broker.url, "gateway-test")
        try:
            assert received.get(timeout=10) == ("caretaker/test/alarm", b"while you were away")
        finally:
            back.disconnect()
            back.loop_stop()
    finally:
        broker.stop()
    assert port_is_free(broker.port)
