"""`caretaker up` as a user runs it: a subprocess that serves the app and leaves nothing behind on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil
import pytest

from backend.embedded import free_port, port_is_free
from tests.conftest import DEMO_PASSWORD, skip_or_fail
from tests.processes import answers_ok

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# the first start runs initdb, migrations and the seed on a shared 2-core machine
READY_TIMEOUT = 90


class Up:
    """A running `caretaker up` and its combined output."""

    def __init__(self, env: dict[str, str], log_path: Path, *options: str) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "up", *options],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_ready(self, base_url: str) -> None:
        if await answers_ok(base_url, "/ready", self.proc, within=READY_TIMEOUT, pause=0.25):
            return
        if self.proc.poll() is not None:
            pytest.fail(f"caretaker up exited with {self.proc.returncode}:\n{self.output}")
        pytest.fail(f"/ready did not answer 200 within {READY_TIMEOUT} s:\n{self.output}")

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.proc.wait, 60)
        finally:
            self._log.close()

    def stop_if_running(self) -> None:
        """After a failed assertion: stop it so that it takes its embedded servers down, or kill it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def _environment(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MQTT_URL"}}
    env.update(
        CARETAKER_DATA_DIR=str(data_dir),
        CARETAKER_PORT=str(port),
        CARETAKER_PUBLIC_URL=f"http://127.0.0.1:{port}",
        CARETAKER_SECRET_KEY="",
        **extra,
    )
    return env


def _cluster_root(data_dir: Path) -> Path:
    """Where the cluster lives: in the data dir, or where it moved because the server user cannot reach it."""
    moved = data_dir / "pg" / "cluster-location"
    return Path(moved.read_text().strip()) if moved.exists() else data_dir / "pg"


def _postgres_processes_for(cluster_root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        with_dir = str(cluster_root / "cluster") in (proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and with_dir:
            found.append(proc)
    return found


async def _log_in(base_url: str, username: str) -> dict:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        r = await http.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert me.status_code == 200, me.text
        return me.json()


async def _telemetry_rows(cluster_root: Path) -> int:
    port = int((cluster_root / "port").read_text())
    password = (cluster_root / "password").read_text().strip()  # the embedded server wants its password
    conn = await asyncpg.connect(f"postgresql://postgres:{password}@127.0.0.1:{port}/caretaker")
    try:
        return await conn.fetchval("SELECT count(*) FROM telemetry")
    finally:
        await conn.close()


async def test_make_run_serves_the_demo_with_embedded_services_and_stops_them(tmp_path: Path) -> None:
    """`make run` = `caretaker up --simulate` with nothing configured."""
    data_dir = tmp_path / "data"
    port = free_port()
    up = Up(_environment(data_dir, port), tmp_path / "up.log", "--simulate")
    try:
        await up.wait_ready(f"http://127.0.0.1:{port}")
        me = await _log_in(f"http://127.0.0.1:{port}", "tech1")
        assert me["username"] == "tech1"
        cluster_root = _cluster_root(data_dir)
        assert _postgres_processes_for(cluster_root), "the embedded PostgreSQL runs from the data dir"
        broker = re.search(r"MQTT broker \(embedded amqtt\) on 127\.0\.0\.1:(\d+)", up.output)
        assert broker, up.output
        broker_port = int(broker.group(1))
        assert not port_is_free(broker_port)
        assert "tech1" in up.output and "demo1234" in up.output, "the demo logins are printed"
        assert f"http://127.0.0.1:{port}/" in up.output
        # each simulated device has its own broker login; the passwords are in a file, never on the console
        credentials = data_dir / "mqtt-credentials.json"
        device_passwords = json.loads(credentials.read_text())
        assert "elev-a1" in device_passwords and credentials.stat().st_mode & 0o077 == 0
        assert f"--credentials {credentials}" in up.output
        assert not any(password in up.output for password in device_passwords.values())
        assert re.search(r"gateway login caretaker-gateway \(password \S{3}…\)", up.output), up.output
        assert f"mqtt://127.0.0.1:{broker_port}?protocol=3.1.1" in up.output, "the address, without a login"
        # the simulated devices reach the database through the embedded broker and the gateway
        for _ in range(120):
            if await _telemetry_rows(cluster_root) > 0:
                break
            await asyncio.sleep(0.25)
        else:
            pytest.fail(f"no telemetry arrived within 30 s:\n{up.output}")

        assert await up.terminate() == 0, up.output
    finally:
        up.stop_if_running()
    assert _postgres_processes_for(cluster_root) == [], "no PostgreSQL is left running"
    assert not (data_dir / "mqtt-credentials.json").exists(), "the device passwords go with the broker"
    if cluster_root != data_dir / "pg":
        shutil.rmtree(cluster_root)
    assert port_is_free(broker_port), "the broker port is closed"
    assert port_is_free(port), "the HTTP port is closed"


async def _owner_signs_in_with_the_printed_code(up: Up, base: str) -> None:
    """With no SMS account, the demo's owner page is printed and so is the code "sent" to its owner."""
    page = re.search(r"/owner\.html#u=(\w+) \(phone (\d+); sign-in code printed here\)", up.output)
    assert page, up.output
    link, phone = page.groups()
    async with httpx.AsyncClient(base_url=base) as http:
        sent = await http.post("/api/v1/owner/codes", json={"link": link, "phone": phone})
        assert sent.status_code == 202, sent.text
        for _ in range(120):
            if code := re.search(rf"\[demo SMS to {phone[:3]}\*\*\*\*{phone[-4:]}\] .*?(\d{{6}})", up.output):
                break
            await asyncio.sleep(0.25)
        else:
            pytest.fail(f"no sign-in code was printed within 30 s:\n{up.output}")
        assert up.output.count(phone) == 1, "masked on the terminal but in the banner (a demo number)"
        session = await http.post(
            "/api/v1/owner/sessions", json={"link": link, "phone": phone, "code": code.group(1)}
        )
        assert session.status_code == 200, session.text


async def test_up_with_services_configured_starts_nothing_embedded(
    tmp_path: Path, blank_db_url: str, mqtt_url: str
) -> None:
    broker = urlsplit(mqtt_url)
    try:
        socket.create_connection((broker.hostname, broker.port or 1883), timeout=3).close()
    except OSError:
        skip_or_fail(f"no MQTT broker listens at {mqtt_url}")
    data_dir = tmp_path / "data"
    port = free_port()
    up = Up(_environment(data_dir, port, DATABASE_URL=blank_db_url, MQTT_URL=mqtt_url), tmp_path / "up.log")
    try:
        await up.wait_ready(f"http://127.0.0.1:{port}")
        assert (await _log_in(f"http://127.0.0.1:{port}", "tech1"))["username"] == "tech1"
        children = psutil.Process(up.proc.pid).children(recursive=True)
        assert [c for c in children if c.name() == "postgres"] == []
        assert "PostgreSQL: using DATABASE_URL" in up.output
        assert "MQTT: using MQTT_URL" in up.output
        assert "embedded" not in up.output
        assert not (data_dir / "pg").exists()
        await _owner_signs_in_with_the_printed_code(up, f"http://127.0.0.1:{port}")
        assert await up.terminate() == 0, up.output
    finally:
        up.stop_if_running()
    assert port_is_free(port)


def test_up_on_a_taken_port_fails_at_once_and_starts_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "backend.cli", "up"],
            cwd=REPO,
            env=_environment(data_dir, port),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr.strip() == f"caretaker: CARETAKER_PORT={port}: 127.0.0.1:{port} is already in use"
    assert not (data_dir / "pg").exists()
