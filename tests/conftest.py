"""Shared fixtures: a real PostgreSQL (a migrated template cloned per test), the app, logged-in clients.

Service addresses come from TEST_DATABASE_URL and TEST_MQTT_URL (local defaults). When PostgreSQL is not
reachable the embedded server is started instead, unless CARETAKER_REQUIRE_SERVICES=1 (CI), where a
missing service is a failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.db.migrate import migrate
from backend.db.pool import connect
from backend.domain.clock import ManualClock
from backend.settings import Settings

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
DEMO_PASSWORD = "demo1234"
TEST_SECRET = "test-secret-key-with-enough-length-0123456789"


def services_required() -> bool:
    """CI sets this so that a missing service or browser fails the run instead of skipping."""
    return os.environ.get("CARETAKER_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip with a reason on a bare machine; fail in CI."""
    if services_required():
        pytest.fail(f"{reason} (CARETAKER_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(reason)


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@pytest.fixture(scope="session")
async def database_server_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A PostgreSQL server to create test databases on: the configured one, or an embedded one."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    if await _reachable(url):
        yield url
        return
    if services_required():
        pytest.fail(f"PostgreSQL at {url} is not reachable and CARETAKER_REQUIRE_SERVICES is set")
    from backend.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    await asyncio.to_thread(server.start)
    try:
        yield server.dsn
    finally:
        await asyncio.to_thread(server.stop)


async def _create_database(server_url: str, name: str, template: str | None = None) -> str:
    admin = await asyncpg.connect(server_url)
    try:
        suffix = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await admin.close()
    return with_database(server_url, name)


async def _drop_database(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def migrated_template(database_server_url: str) -> AsyncIterator[str]:
    """Name of a database with every migration applied; cloned per test."""
    name = f"ct_tpl_{uuid.uuid4().hex[:10]}"
    url = await _create_database(database_server_url, name)
    conn = await connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield name
    await _drop_database(database_server_url, name)


@pytest.fixture(scope="session")
async def demo_template(database_server_url: str, migrated_template: str) -> AsyncIterator[str]:
    """Name of a migrated database holding the demo estate; cloned per test."""
    from backend.services.seed import seed_demo

    name = f"ct_demo_{uuid.uuid4().hex[:10]}"
    url = await _create_database(database_server_url, name, template=migrated_template)
    conn = await connect(url)
    try:
        async with conn.transaction():
            await seed_demo(conn)
    finally:
        await conn.close()
    yield name
    await _drop_database(database_server_url, name)


@pytest.fixture
async def empty_db_url(database_server_url: str, migrated_template: str) -> AsyncIterator[str]:
    """A fresh migrated database with no data, dropped after the test."""
    name = f"ct_test_{uuid.uuid4().hex[:12]}"
    url = await _create_database(database_server_url, name, template=migrated_template)
    yield url
    await _drop_database(database_server_url, name)


@pytest.fixture
async def db_url(database_server_url: str, demo_template: str) -> AsyncIterator[str]:
    """A fresh database with the demo estate, dropped after the test."""
    name = f"ct_test_{uuid.uuid4().hex[:12]}"
    url = await _create_database(database_server_url, name, template=demo_template)
    yield url
    await _drop_database(database_server_url, name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for arranging and inspecting state."""
    conn = await connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def clock() -> ManualClock:
    """The app's clock; tests move it across deadlines."""
    return ManualClock()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for an app on the test database; the scheduler is off (tests run jobs explicitly)."""
    return Settings(
        database_url=db_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path / "data",
        scheduler_enabled=False,
        # tests that try wrong passwords on purpose must not slow each other; the throttle has its own tests
        login_failures_before_backoff=1000,
        login_failures_per_address=1000,
    )


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> Litestar:
    """The Caretaker app on the test database with a movable clock."""
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    """An HTTP client talking to the app in-process (lifespan included)."""
    async with AsyncTestClient(app=app) as c:
        yield c


LoginAs = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
def login_as(client: AsyncTestClient) -> LoginAs:
    """`headers = await login_as("tech1")`: bearer headers for a demo user (cached per test)."""
    cache: dict[str, dict[str, str]] = {}

    async def _login(username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        if username not in cache:
            r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
            assert r.status_code == 200, r.text
            cache[username] = {"Authorization": f"Bearer {r.json()['token']}"}
        return cache[username]

    return _login


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """The MQTT broker the gateway tests use (a real Mosquitto)."""
    return os.environ.get("TEST_MQTT_URL", DEFAULT_MQTT_URL)


@pytest.fixture
def idem() -> Iterator[Callable[[], dict[str, str]]]:
    """A fresh Idempotency-Key header per call."""
    yield lambda: {"Idempotency-Key": str(uuid.uuid4())}
