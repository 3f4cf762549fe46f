"""Shared fixtures: a real PostgreSQL (a migrated template cloned per test, one test ahead), the app,
logged-in clients.

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

from backend.app import bind_app, create_app
from backend.db.migrate import migrate
from backend.db.pool import connect, create_pool
from backend.domain.clock import Clock, ManualClock
from backend.settings import Settings
from tests.integration.fake_push_service import FakePushService

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


class Databases:
    """Per-test databases, each made one test ahead from its template and dropped in batches behind the tests.

    Dropping a database waits for a checkpoint (seconds when the disk is busy); drops sent together share
    one, and made and dropped as tasks on the session's loop, neither wait stands in a test's way.
    """

    DROP_BATCH = 16  # databases (about 11 MB each with the demo estate) left for the next batch of drops

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._next: dict[str | None, asyncio.Task[str]] = {}
        self._unused: list[str] = []
        self._dropping: set[asyncio.Task[list[None]]] = set()

    async def _make(self, template: str | None) -> str:
        name = f"ct_test_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(self.server_url)
        try:
            suffix = f' TEMPLATE "{template}"' if template else ""
            await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
            # a test's database need not outlive a server crash: its commits do not wait for the disk
            await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await admin.close()
        return name

    async def take(self, template: str | None) -> str:
        """A fresh database cloned from `template` (None: an empty one); its URL."""
        made = self._next.pop(template, None) or asyncio.ensure_future(self._make(template))
        name = await made
        self._next[template] = asyncio.ensure_future(self._make(template))
        return with_database(self.server_url, name)

    def drop(self, url: str) -> None:
        """Drop a database taken from here, with the next batch."""
        self._unused.append(urlsplit(url).path.lstrip("/"))
        if len(self._unused) >= self.DROP_BATCH:
            self._drop_unused()

    def _drop_unused(self) -> None:
        names, self._unused = self._unused, []
        task = asyncio.ensure_future(asyncio.gather(*(_drop_database(self.server_url, n) for n in names)))
        self._dropping.add(task)
        task.add_done_callback(self._dropping.discard)

    async def close(self) -> None:
        """Drop every database made here, and wait for the drops."""
        self._unused += [await made for made in self._next.values()]
        self._next.clear()
        self._drop_unused()
        await asyncio.gather(*self._dropping)


@pytest.fixture(scope="session")
async def databases(database_server_url: str) -> AsyncIterator[Databases]:
    databases = Databases(database_server_url)
    yield databases
    await databases.close()


@pytest.fixture
async def blank_db_url(databases: Databases) -> AsyncIterator[str]:
    """A database with nothing in it, not even the migrations table, dropped after the test."""
    url = await databases.take(None)
    yield url
    databases.drop(url)


@pytest.fixture
async def empty_db_url(databases: Databases, migrated_template: str) -> AsyncIterator[str]:
    """A fresh migrated database with no data, dropped after the test."""
    url = await databases.take(migrated_template)
    yield url
    databases.drop(url)


@pytest.fixture
async def db_url(databases: Databases, demo_template: str) -> AsyncIterator[str]:
    """A fresh database with the demo estate, dropped after the test."""
    url = await databases.take(demo_template)
    yield url
    databases.drop(url)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for arranging and inspecting state."""
    conn = await connect(db_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's database and loop, for running a job or the push dispatcher by hand."""
    p = await create_pool(db_url, min_size=1, max_size=4)
    yield p
    await p.close()


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    """A local push service: what a stored private endpoint (or a browser's push service) would reach."""
    with FakePushService() as service:
        yield service


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


# Apps built in this run, by what building one fixes: building the routes costs a short test most of its time.
_BUILT_APPS: dict[tuple[str | None, int], Litestar] = {}


def bound_app(settings: Settings, clock: Clock | None = None) -> Litestar:
    """The app for these settings: built once a run per secret and token lifetime, bound to them each time
    (one test at a time uses it, in process; the browser tests' live servers build their own)."""
    key = (settings.secret_key, settings.token_ttl_seconds)
    if key not in _BUILT_APPS:
        _BUILT_APPS[key] = create_app(settings, clock=clock)
    return bind_app(_BUILT_APPS[key], settings, clock=clock)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> Litestar:
    """The Caretaker app on the test database with a movable clock."""
    return bound_app(settings, clock)


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
