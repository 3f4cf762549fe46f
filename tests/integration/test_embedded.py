"""The embedded PostgreSQL and broker that `caretaker up` starts when no services are configured."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
import paho.mqtt.client as mqtt
import psutil
import pytest

from backend.embedded import EmbeddedBroker, EmbeddedPostgres, MqttLogin, port_is_free
from simulators.devices import DEMO_DEVICES

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


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


def _without_password(dsn: str) -> str:
    parts = urlsplit(dsn)
    return dsn.replace(f"{parts.username}:{parts.password}@", f"{parts.username}@", 1)


def _socket_dir(cluster_dir: Path) -> str:
    """The unix socket folder PostgreSQL itself recorded (line 5 of postmaster.pid)."""
    return (cluster_dir / "postmaster.pid").read_text().splitlines()[4]


async def test_postgres_lets_in_only_its_own_account_and_only_with_its_password(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(server.start)
    try:
        assert await _database_name(server.dsn) == "caretaker"
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(_without_password(server.dsn))
        parts = urlsplit(server.dsn)
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(server.dsn.replace(parts.password, "not-the-password"))
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(
                host=_socket_dir(server.cluster_dir), port=server.port, user="postgres", database="caretaker"
            )
        # another login role, even with its own right password, has no way in
        admin = await asyncpg.connect(server.dsn)
        try:
            await admin.execute("CREATE ROLE intruder LOGIN PASSWORD 'intruder-password'")
        finally:
            await admin.close()
        with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
            await asyncpg.connect(
                f"postgresql://intruder:intruder-password@127.0.0.1:{server.port}/caretaker"
            )
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_cluster_from_before_passwords_gets_one_and_keeps_its_data(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(server.start)
    conn = await asyncpg.connect(server.dsn)
    try:
        await conn.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('still here')")
    finally:
        await conn.close()
    await asyncio.to_thread(server.stop)
    # what an older Caretaker left behind: every local user trusted, no password anywhere
    (server.cluster_dir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (server.cluster_dir.parent / "password").unlink()

    again = EmbeddedPostgres(data_dir)
    await asyncio.to_thread(again.start)
    try:
        conn = await asyncpg.connect(again.dsn)
        try:
            assert await conn.fetchval("SELECT note FROM kept") == "still here"
        finally:
            await conn.close()
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(_without_password(again.dsn))
    finally:
        await asyncio.to_thread(again.stop)


def _client(url: str, client_id: str) -> tuple[mqtt.Client, queue.Queue]:
    """A connected MQTT 3.1.1 client with the URL's login; ConnectionRefusedError when it is refused."""
    parts = urlsplit(url)
    received: queue.Queue = queue.Queue()
    connected: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    if parts.username is not None:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    client.on_connect = lambda c, u, flags, reason, props: connected.put(reason.is_failure)
    client.on_message = lambda c, u, msg: received.put((msg.topic, msg.payload))
    client.connect(parts.hostname, parts.port)
    client.loop_start()
    try:
        failed = connected.get(timeout=10)
    except queue.Empty:
        failed = True  # amqtt closes the socket without a CONNACK for some refusals
    if failed:
        client.loop_stop()
        raise ConnectionRefusedError(client_id)
    return client, received


def _subscribe(client: mqtt.Client, topic: str) -> bool:
    """Whether the broker granted the subscription (its SUBACK)."""
    answer: queue.Queue = queue.Queue()
    client.on_subscribe = lambda c, u, mid, reasons, props: answer.put(not reasons[0].is_failure)
    client.subscribe(topic, qos=1)
    return answer.get(timeout=10)


def _close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def test_broker_keeps_the_gateways_session_while_it_is_away() -> None:
    broker = EmbeddedBroker(device_ids=["elev-a1"])
    broker.start()
    try:
        assert broker.port not in (1883, None)
        assert broker.url.startswith("mqtt://caretaker-gateway:")
        gateway, _ = _client(broker.url, "gateway-test")
        assert _subscribe(gateway, "caretaker/#")
        _close(gateway)

        device, _ = _client(broker.url_for(MqttLogin("elev-a1", broker.devices["elev-a1"])), "sim-elev-a1")
        device.publish("caretaker/demo/elev-a1/event", b"while you were away", qos=1).wait_for_publish(10)
        _close(device)

        back, received = _client(broker.url, "gateway-test")
        try:
            assert received.get(timeout=10) == ("caretaker/demo/elev-a1/event", b"while you were away")
        finally:
            _close(back)
    finally:
        broker.stop()
    assert port_is_free(broker.port)


def test_a_device_logs_in_only_with_its_own_password_and_writes_only_under_its_own_id(tmp_path: Path) -> None:
    credentials = tmp_path / "mqtt-credentials.json"
    broker = EmbeddedBroker(device_ids=["elev-a1", "elev-a2"], credentials_file=credentials)
    broker.start()
    try:
        a1, a2 = (MqttLogin(d, broker.devices[d]) for d in ("elev-a1", "elev-a2"))
        assert json.loads(credentials.read_text()) == {"elev-a1": a1.password, "elev-a2": a2.password}
        assert credentials.stat().st_mode & 0o077 == 0, "only the one who ran it can read the passwords"
        # refused at the door: a wrong password, another device's password, a name nobody gave it, no login
        for username, password in [
            ("elev-a1", "not-its-password"),
            ("elev-a1", a2.password),
            ("elev-a9", a1.password),
            (broker.gateway.username, a1.password),
        ]:
            with pytest.raises(ConnectionRefusedError):
                _client(broker.url_for(MqttLogin(username, password)), f"try-{username}")
        with pytest.raises(ConnectionRefusedError):
            _client(broker.address, "anonymous")

        gateway, heard = _client(broker.url, "gateway-test")
        assert _subscribe(gateway, "caretaker/#")
        first, _ = _client(broker.url_for(a1), "sim-elev-a1")
        second, _ = _client(broker.url_for(a2), "sim-elev-a2")
        try:
            assert not _subscribe(first, "caretaker/#"), "a device does not get to listen to the others"
            # elev-a1 forges an entrapment for elev-a2, then reports for itself; the broker handles one
            # client's messages in order, so the forgery would reach the gateway before the genuine one
            first.publish("caretaker/demo/elev-a2/event", b"forged", qos=1).wait_for_publish(10)
            first.publish("caretaker/demo/elev-a1/event", b"genuine", qos=1).wait_for_publish(10)
            second.publish("caretaker/demo/elev-a2/status", b"online", qos=1).wait_for_publish(10)
            got = [heard.get(timeout=10), heard.get(timeout=10)]
            assert sorted(got) == [
                ("caretaker/demo/elev-a1/event", b"genuine"),
                ("caretaker/demo/elev-a2/status", b"online"),
            ]
        finally:
            for client in (first, second, gateway):
                _close(client)
    finally:
        broker.stop()
    assert not credentials.exists(), "the passwords go with the broker"


def test_the_simulate_command_that_up_prints_reaches_the_gateway(tmp_path: Path) -> None:
    """`caretaker simulate --mqtt-url ADDRESS --credentials FILE`, as `caretaker up` prints it: every demo
    device logs in as itself and the gateway's account hears each of them."""
    credentials = tmp_path / "mqtt-credentials.json"
    broker = EmbeddedBroker(device_ids=sorted(DEMO_DEVICES), credentials_file=credentials)
    broker.start()
    simulate = None
    try:
        gateway, heard = _client(broker.url, "gateway-test")
        assert _subscribe(gateway, "caretaker/#")
        simulate = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "simulate", "--mqtt-url", broker.address,
             "--credentials", str(credentials)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        speakers: set[str] = set()
        while speakers != set(DEMO_DEVICES):
            topic, _ = heard.get(timeout=30)
            speakers.add(topic.split("/")[2])
        simulate.send_signal(signal.SIGINT)
        assert simulate.wait(30) == 0, simulate.stdout.read() if simulate.stdout else ""
        _close(gateway)
    finally:
        if simulate is not None and simulate.poll() is None:
            simulate.kill()
            simulate.wait(10)
        broker.stop()


def _site_packages_of(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))).parent


def test_root_starts_the_embedded_postgres_from_a_folder_only_root_can_enter(tmp_path: Path) -> None:
    """`make run` from a clone in root's 0700 home: the service account can reach neither the data dir nor the
    PostgreSQL binaries inside the project's .venv, and the server must start all the same."""
    if os.geteuid() != 0:
        pytest.skip("the embedded PostgreSQL changes user only when started as root")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    project = private / "caretaker"
    shutil.copytree(
        REPO,
        project,
        ignore=shutil.ignore_patterns(".venv", ".caretaker", ".git", "__pycache__", "*_cache", "screenshots"),
    )
    # the wheel as pip put it into the project's .venv: pginstall/ and the libraries auditwheel bundled
    site = project / ".venv-site"
    source = _site_packages_of("pgserver")
    for name in ("pgserver", "pgserver.libs"):
        shutil.copytree(source / name, site / name, symlinks=True)
    data_dir = project / ".caretaker"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment.update(PYTHONPATH=str(site), CARETAKER_DATA_DIR=str(data_dir))

    try:
        result = subprocess.run(
            [sys.executable, "-c", IMPORTED_FROM, "migrate"],
            cwd=project,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[:2] == [str(project / "backend"), str(site / "pgserver")], "the private copies ran"
        assert "PostgreSQL (embedded) on 127.0.0.1:" in result.stderr
        assert "migrations: applied" in result.stderr
        assert "PostgreSQL (embedded) stopped" in result.stderr
        cluster = Path((data_dir / "pg" / "cluster-location").read_text().strip())
        assert _postgres_processes_for(cluster / "cluster") == [], "nothing is left running"
    finally:
        moved = data_dir / "pg" / "cluster-location"
        if moved.exists():
            shutil.rmtree(moved.read_text().strip(), ignore_errors=True)


# Runs `caretaker ARGS` after saying where `backend` and `pgserver` were imported from.
IMPORTED_FROM = """
import importlib.util, sys
from pathlib import Path
import backend
print(Path(backend.__file__).parent)
print(Path(next(iter(importlib.util.find_spec("pgserver").submodule_search_locations))), flush=True)
from backend.cli import main
sys.exit(main(sys.argv[1:]))
"""
