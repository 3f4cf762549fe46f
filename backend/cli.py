"""The `caretaker` command: `up` for a laptop or a demo, `api`/`gateway`/`simulate` as separate processes,
and `migrate`, `seed`, `user add` for administration."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import getpass
import importlib
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
import uvicorn
import uvloop

from backend.db.migrate import migrate
from backend.db.pool import connect
from backend.db.queries import bootstrap
from backend.embedded import EmbeddedBroker, EmbeddedPostgres, EmbeddedServiceError, port_is_free
from backend.errors import CaretakerError
from backend.settings import Settings, SettingsError, load_settings

log = logging.getLogger("caretaker")

JWT_SECRET_NAME = "jwt_secret"  # noqa: S105 (the row name, not a secret)
# Under CARETAKER_DATA_DIR while the embedded broker runs: each device's password, for `caretaker simulate`.
MQTT_CREDENTIALS_FILE = "mqtt-credentials.json"
# How long gateway and simulators get to finish after the stop signal before they are cancelled.
PART_STOP_SECONDS = 15
# Open SSE streams would otherwise hold a graceful HTTP shutdown forever.
HTTP_GRACEFUL_SECONDS = 5
# Libraries that log every state change at INFO; their warnings still show.
_CHATTY_LOGGERS = ("transitions", "amqtt", "apscheduler")

Part = Callable[[Settings, asyncio.Event], Awaitable[Any]]


class CommandFailed(Exception):
    """A command cannot go on; its message is printed as one line and the exit status is 1."""


# -- helpers shared by the commands ------------------------------------------------------------------


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", force=True
    )
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def _redacted(url: str) -> str:
    """The address without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _load_part(module: str, function: str) -> Part | None:
    """The gateway or simulators entry point, or None (with a log line) when that package is not there."""
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        log.warning("%s.%s is not available (%s); continuing without it", module, function, exc)
        return None


def _require_free_http_port(settings: Settings) -> None:
    """Fail before starting anything when the HTTP port is taken, rather than after a minute of set-up."""
    if not port_is_free(settings.port, settings.host):
        where = f"{settings.host}:{settings.port}"
        raise CommandFailed(f"CARETAKER_PORT={settings.port}: {where} is already in use")


def _install_stop_signals(stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM both ask for a clean stop."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@contextlib.asynccontextmanager
async def _embedded_postgres_if_needed(settings: Settings) -> AsyncIterator[Settings]:
    """Settings with a database: the configured one, or the embedded server (started here, stopped after)."""
    if settings.database_url:
        log.info("PostgreSQL: using DATABASE_URL %s", _redacted(settings.database_url))
        yield settings
        return
    data_dir = settings.data_dir / "pg"
    server = EmbeddedPostgres(data_dir)
    try:
        await asyncio.to_thread(server.start)
    except EmbeddedServiceError as exc:
        raise CommandFailed(f"embedded PostgreSQL: {exc}") from exc
    log.info("PostgreSQL (embedded) on 127.0.0.1:%s, data in %s", server.port, data_dir)
    try:
        yield msgspec.structs.replace(settings, database_url=server.dsn)
    finally:
        await asyncio.to_thread(server.stop)
        log.info("PostgreSQL (embedded) stopped")


@contextlib.asynccontextmanager
async def _embedded_broker_if_needed(
    settings: Settings, device_ids: Sequence[str]
) -> AsyncIterator[tuple[Settings, EmbeddedBroker | None]]:
    """Settings with a broker: the configured one, or an embedded amqtt (started here, stopped after) with a
    login for the gateway and one for each device; the embedded broker comes along, else None."""
    if settings.mqtt_url:
        log.info("MQTT: using MQTT_URL %s", _redacted(settings.mqtt_url))
        yield settings, None
        return
    broker = EmbeddedBroker(device_ids=device_ids, credentials_file=settings.data_dir / MQTT_CREDENTIALS_FILE)
    try:
        await asyncio.to_thread(broker.start)
    except EmbeddedServiceError as exc:
        raise CommandFailed(str(exc)) from exc
    log.info(
        "MQTT broker (embedded amqtt) on 127.0.0.1:%s, gateway login %s (password %s), "
        "%d device logins in %s",
        broker.port,
        broker.gateway.username,
        broker.gateway.masked_password,
        len(broker.devices),
        broker.credentials_file,
    )
    try:
        yield msgspec.structs.replace(settings, mqtt_url=broker.url), broker
    finally:
        await asyncio.to_thread(broker.stop)
        log.info("MQTT broker (embedded) stopped")


@contextlib.asynccontextmanager
async def _connection(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    assert settings.database_url
    try:
        conn = await connect(settings.database_url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise CommandFailed(f"cannot connect to {_redacted(settings.database_url)}: {exc}") from exc
    try:
        yield conn
    finally:
        await conn.close()


async def _migrate(conn: asyncpg.Connection) -> None:
    applied = await migrate(conn)
    log.info("migrations: %s", f"applied {', '.join(applied)}" if applied else "up to date")


async def _seed(conn: asyncpg.Connection, *, only_if_empty: bool) -> bool:
    """Seed the demo estate; returns whether it ran."""
    if only_if_empty and await bootstrap.site_count(conn) > 0:
        log.info("demo estate: the database already has sites, not seeding")
        return False
    try:
        from backend.services.seed import seed_demo
    except ImportError as exc:
        log.warning("demo estate: seeding is not available (%s)", exc)
        return False
    from backend.services.demo_jobs import seed_demo_work_orders

    async with conn.transaction():
        await seed_demo(conn)
        jobs = await seed_demo_work_orders(conn, now=datetime.now(UTC))
    log.info("demo estate: seeded (site demo%s)", f", {jobs} work orders to start with" if jobs else "")
    return True


async def _with_secret(settings: Settings, conn: asyncpg.Connection) -> Settings:
    """Settings whose secret_key is set: the configured one, else the one every process shares."""
    if settings.secret_key:
        return settings
    try:
        secret = await bootstrap.shared_secret(conn, JWT_SECRET_NAME, secrets.token_urlsafe(48))
    except asyncpg.UndefinedTableError as exc:
        raise CommandFailed("the database is not migrated; run `caretaker migrate` first") from exc
    return msgspec.structs.replace(settings, secret_key=secret)


async def _demo_owner_page(conn: asyncpg.Connection, settings: Settings) -> str | None:
    """What to print for trying the owners' page: the first demo unit's link and its owner's phone."""
    try:
        from backend.services.seed import owner_phone
    except ImportError:
        return None
    phone = owner_phone(1)
    link = await bootstrap.owner_link_of_phone(conn, phone)
    if link is None:
        return None
    code = "printed here" if settings.sms_to_terminal else "sent by SMS"
    return f"{settings.reach_url.rstrip('/')}/owner.html#u={link} (phone {phone}; sign-in code {code})"


def _print_welcome(settings: Settings, broker: EmbeddedBroker | None, owner_page: str | None = None) -> None:
    url = f"http://{settings.host}:{settings.port}/"
    lines = ["", f"Caretaker is up: {url}"]
    if settings.reach_url.rstrip("/") != url.rstrip("/"):
        # phones reach it by another address: that one goes on printed records (their QR code)
        lines.append(f"Service records link to {settings.reach_url}")
    try:
        from backend.services.passwords import DEMO_PASSWORD
        from backend.services.seed import DEMO_USERS
    except ImportError:
        DEMO_USERS, DEMO_PASSWORD = (), ""
    if DEMO_USERS:
        lines += ["", "Demo logins:", f"  {'username':<12}{'role':<12}password"]
        lines += [f"  {u.username:<12}{u.role:<12}{DEMO_PASSWORD}" for u in DEMO_USERS]
    if owner_page:
        lines += ["", "An owner's page (unit A-101):", f"  {owner_page}"]
    if broker is not None and broker.credentials_file is not None:
        # the devices' passwords are made afresh at each start and stay in a file only this user can read
        lines += [
            "",
            "Play a fault from another terminal (entrapment, pipe-burst, power-cut, flapping-pressure,",
            "device-dies):",
            f"  .venv/bin/caretaker simulate entrapment --mqtt-url '{broker.address}' \\",
            f"      --credentials {broker.credentials_file}",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


class _Server(uvicorn.Server):
    """uvicorn whose signal handling is left to the CLI, which stops the other parts too."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


async def _serve(settings: Settings, stop: asyncio.Event, parts: Sequence[tuple[str, Part]]) -> int:
    """Run the HTTP API and the parts until `stop`, then stop them in that order; returns the exit status."""
    from backend.app import create_app

    part_stop = asyncio.Event()
    part_tasks = {name: asyncio.create_task(fn(settings, part_stop), name=name) for name, fn in parts}
    for task in part_tasks.values():
        task.add_done_callback(lambda t: _report_early_end(t, part_stop))
    server = _Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=HTTP_GRACEFUL_SECONDS,
            # X-Forwarded-For is believed only from CARETAKER_TRUSTED_PROXIES (backend/api/client_address.py);
            # uvicorn's own handling would trust it from 127.0.0.1, or from anyone with FORWARDED_ALLOW_IPS=*
            proxy_headers=False,
        )
    )
    http_task = asyncio.create_task(_serve_http(server), name="http")
    stop_task = asyncio.create_task(stop.wait())
    status = 0
    try:
        await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if http_task.done():
            log.error("the HTTP server stopped on its own")
            status = _http_exit_status(http_task) or 1
        else:
            log.info("stopping")
            server.should_exit = True
            await asyncio.wait({http_task})
            status = _http_exit_status(http_task)
            log.info("HTTP server stopped")
    finally:
        stop_task.cancel()
        part_stop.set()
        await _stop_parts(part_tasks)
    return status


def _report_early_end(task: asyncio.Task, part_stop: asyncio.Event) -> None:
    """Say at once when the gateway or the simulators end before they were asked to; the API keeps serving."""
    if part_stop.is_set() or task.cancelled():
        return
    error = task.exception()
    log.error("%s stopped on its own%s", task.get_name(), f": {error!r}" if error else "")


async def _serve_http(server: uvicorn.Server) -> int:
    """Serve until told to stop; the exit status. uvicorn calls sys.exit when it cannot bind or start the
    app, and a SystemExit escaping a task would tear the loop down before the embedded servers are stopped."""
    try:
        await server.serve()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) and exc.code else 1
    return 0


def _http_exit_status(task: asyncio.Task) -> int:
    try:
        return task.result()
    except Exception:
        log.exception("the HTTP server failed")
        return 1


async def _stop_parts(tasks: dict[str, asyncio.Task]) -> list[str]:
    """Wait for each part to finish after its stop event was set; returns the names of those that failed."""
    failed = []
    for name, task in tasks.items():
        try:
            await asyncio.wait_for(asyncio.shield(task), PART_STOP_SECONDS)
            log.info("%s stopped", name)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            log.warning("%s did not stop within %d s and was cancelled", name, PART_STOP_SECONDS)
        except Exception:
            log.exception("%s failed", name)
            failed.append(name)
    return failed


# -- the commands ------------------------------------------------------------------------------------


async def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    """Everything in one process, with embedded PostgreSQL and broker when none is configured."""
    _require_free_http_port(settings)
    stop = asyncio.Event()
    _install_stop_signals(stop)
    async with _embedded_postgres_if_needed(settings) as settings:
        async with _connection(settings) as conn:
            await _migrate(conn)
            await _seed(conn, only_if_empty=True)
            settings = await _with_secret(settings, conn)
            if not settings.sms_secret_id:
                settings = msgspec.structs.replace(settings, sms_to_terminal=True)
            owner_page = await _demo_owner_page(conn, settings)
            # an embedded broker gives each registered device its own login, so it starts after the seed
            device_ids = [] if settings.mqtt_url else await bootstrap.device_ids(conn)
        async with _embedded_broker_if_needed(settings, device_ids) as (settings, broker):
            parts: list[tuple[str, Part]] = []
            if gateway := _load_part("iot_gateway.runner", "run_gateway"):
                parts.append(("gateway", gateway))
            if args.simulate and (simulators := _load_part("simulators.runner", "run_simulators")):
                if broker is not None:
                    simulators = functools.partial(simulators, credentials=broker.devices)
                parts.append(("simulators", simulators))
            log.info("API on http://%s:%s", settings.host, settings.port)
            _print_welcome(settings, broker, owner_page)
            return await _serve(settings, stop, parts)


async def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    """The HTTP API alone, on the configured database."""
    if not settings.database_url:
        raise CommandFailed("caretaker api needs DATABASE_URL (or use `caretaker up`)")
    _require_free_http_port(settings)
    stop = asyncio.Event()
    _install_stop_signals(stop)
    async with _connection(settings) as conn:
        settings = await _with_secret(settings, conn)
    log.info("API on http://%s:%s", settings.host, settings.port)
    return await _serve(settings, stop, [])


async def _run_part_alone(settings: Settings, module: str, function: str, name: str) -> int:
    part = _load_part(module, function)
    if part is None:
        raise CommandFailed(f"{name} is not installed")
    stop = asyncio.Event()
    _install_stop_signals(stop)
    task = asyncio.create_task(part(settings, stop), name=name)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    return 1 if await _stop_parts({name: task}) else 0


async def cmd_gateway(settings: Settings, args: argparse.Namespace) -> int:
    """The MQTT → database gateway alone."""
    if not settings.database_url or not settings.mqtt_url:
        raise CommandFailed("caretaker gateway needs DATABASE_URL and MQTT_URL (or use `caretaker up`)")
    log.info("MQTT: %s", _redacted(settings.mqtt_url))
    return await _run_part_alone(settings, "iot_gateway.runner", "run_gateway", "gateway")


def run_simulate(argv: Sequence[str]) -> int:
    """The device simulators alone, with their own command line (scenario, --rate, --mqtt-url …)."""
    try:
        runner = importlib.import_module("simulators.runner")
    except ImportError as exc:
        print(f"caretaker: the simulators are not installed ({exc})", file=sys.stderr)
        return 1
    return runner.main(list(argv))


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Apply the schema migrations that are missing."""
    async with _embedded_postgres_if_needed(settings) as settings, _connection(settings) as conn:
        await _migrate(conn)
    return 0


async def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    """Create the demo estate (again: nothing changes when it exists)."""
    async with _embedded_postgres_if_needed(settings) as settings, _connection(settings) as conn:
        await _migrate(conn)
        if not await _seed(conn, only_if_empty=False):
            return 1
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise CommandFailed("the passwords do not match")
    if not password:
        raise CommandFailed("the password must not be empty")
    return password


async def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    """Create a staff account."""
    password = _read_password(args.password_stdin)
    from backend.services.users import create_user

    skills = [s.strip() for s in (args.skills or "").split(",") if s.strip()]
    async with (
        _embedded_postgres_if_needed(settings) as settings,
        _connection(settings) as conn,
        conn.transaction(),
    ):
        user = await create_user(
            conn,
            username=args.username,
            display_name=args.name or args.username,
            password=password,
            role=args.role,
            site_codes=[args.site],
            skills=skills,
            on_duty=args.on_duty,
        )
    log.info("user %s created (role %s, site %s)", user.username, args.role, args.site)
    return 0


# -- argument parsing --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="caretaker", description="Field operations for residential property management."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="everything in one process (embedded PostgreSQL/broker unless configured)")
    up.add_argument("--simulate", action="store_true", help="also run the device simulators")
    up.set_defaults(handler=cmd_up)

    sub.add_parser("api", help="the HTTP API alone (needs DATABASE_URL)").set_defaults(handler=cmd_api)
    gateway = sub.add_parser("gateway", help="the MQTT gateway alone (needs DATABASE_URL and MQTT_URL)")
    gateway.set_defaults(handler=cmd_gateway)

    # Its options belong to the simulators (`caretaker simulate --help` shows them); they are passed through.
    sub.add_parser("simulate", help="the device simulators alone, a scenario, or a load", add_help=False)

    sub.add_parser("migrate", help="apply missing schema migrations").set_defaults(handler=cmd_migrate)
    sub.add_parser("seed", help="create the demo estate (idempotent)").set_defaults(handler=cmd_seed)

    user = sub.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a staff account")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="admin, manager, supervisor, agent, technician or guard")
    add.add_argument("--site", required=True, help="site code, e.g. demo")
    add.add_argument("--name", help="display name (default: the username)")
    add.add_argument("--skills", help="comma-separated repair categories, for technicians")
    add.add_argument("--on-duty", action="store_true", help="start on duty")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_user_add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `caretaker` command; returns the exit status."""
    parser = build_parser()
    args, passed_on = parser.parse_known_args(argv)
    if args.command == "simulate":
        return run_simulate(passed_on)
    if passed_on:
        parser.error(f"unrecognized arguments: {' '.join(passed_on)}")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"caretaker: {exc}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        # the gateway's event loop turns over thousands of messages a second: uvloop halves what each costs
        run = uvloop.run if args.command == "gateway" else asyncio.run
        return run(args.handler(settings, args))
    except CommandFailed as exc:
        print(f"caretaker: {exc}", file=sys.stderr)
        return 1
    except CaretakerError as exc:
        field = getattr(exc, "field", None)
        print(f"caretaker: {field + ': ' if field else ''}{exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
