"""Embedded PostgreSQL and MQTT broker, so `caretaker up` (and the tests on a bare machine) need no services.

PostgreSQL comes from the binaries inside the `pgserver` wheel, but the server is managed here rather than
through `pgserver.get_server()`: that helper loosens permissions on every parent folder when run as root and
leaves the server running after its owner is killed. As root the server runs as an unprivileged account;
when that account cannot reach the project (a clone in root's 0700 home), both the cluster and a copy of
the binaries move to /var/lib/caretaker-embedded. The broker is amqtt (MQTT 3.1.1) on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil

log = logging.getLogger(__name__)

DATABASE_NAME = "caretaker"
SUPERUSER = "postgres"
# The well-known ports belong to services that may already run on the machine; never take them.
RESERVED_PORTS = frozenset({5432, 1883})
SERVICE_USER = "caretaker"
# Where a cluster goes when the service user cannot reach the requested data dir (e.g. under /root), and
# where the binaries go when it cannot reach the project's .venv either.
RELOCATED_CLUSTERS = Path("/var/lib/caretaker-embedded")
# What the server and the commands used here need of the wheel; include/ (headers) is left behind.
PGINSTALL_PARTS = ("bin", "lib", "share")
# The broker's accounts and what each may touch: the topics of iot_gateway/contract.py and the rules of
# docs/mosquitto/acl (backend does not import the gateway's package, so they are spelled out here).
GATEWAY_USERNAME = "caretaker-gateway"
GATEWAY_READS = "caretaker/#"
GATEWAY_WRITES = "caretaker-gateway/#"  # its presence (Last Will) topic
DEVICE_WRITES = "caretaker/+/{device_id}/#"
# Unix socket paths are limited to 107 bytes; leave room for "/.s.PGSQL.NNNNN".
MAX_SOCKET_DIR_LENGTH = 90
START_TIMEOUT_SECONDS = 90
# 24 random bytes: as strong as a password gets, and URL-safe so it goes into a DSN as it is.
PASSWORD_BYTES = 24
# Only the cluster's own account, with its password, over the socket or 127.0.0.1; no line matches any other
# user, so PostgreSQL refuses them. (The server listens on 127.0.0.1 and the socket only.)
PG_HBA = f"""\
local all {SUPERUSER} scram-sha-256
host  all {SUPERUSER} 127.0.0.1/32 scram-sha-256
"""
STOP_TIMEOUT_SECONDS = 30


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped."""


def _pgserver_package() -> Path:
    # Only the wheel's files are used; importing the package would run code this project does not need.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("the pgserver wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin_dir() -> Path:
    """The PostgreSQL binaries shipped in the pgserver wheel."""
    folder = _pgserver_package() / "pginstall" / "bin"
    if not (folder / "pg_ctl").exists():
        raise EmbeddedServiceError(f"no PostgreSQL binaries in {folder}; is the pgserver wheel installed?")
    return folder


def _link_or_copy(source: str, target: str) -> None:
    """A hard link when the file is readable by everyone (no second copy on disk), else a readable copy."""
    mode = os.stat(source).st_mode
    if mode & 0o004:
        with contextlib.suppress(OSError):  # another filesystem, or links not allowed: copy instead
            os.link(source, target)
            return
    shutil.copy2(source, target)
    readable = 0o044 | (0o011 if mode & 0o100 else 0)
    os.chmod(target, mode | readable)


def relocated_bin_dir(source: Path | None = None) -> Path:
    """The wheel's binaries in a folder every account can reach, copied there once per pgserver version.

    The layout of the wheel is kept (pgserver/pginstall/… next to pgserver.libs/) because its programs find
    libpq through the relative path `$ORIGIN/../../../pgserver.libs`.
    """
    package = source or _pgserver_package()
    try:
        version = importlib.metadata.version("pgserver")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown-" + hashlib.sha256(str(package).encode()).hexdigest()[:12]
    target = RELOCATED_CLUSTERS / f"pgserver-{version}"
    binaries = target / "pgserver" / "pginstall" / "bin"
    if (binaries / "pg_ctl").exists():
        return binaries
    RELOCATED_CLUSTERS.mkdir(mode=0o711, parents=True, exist_ok=True)
    # Built aside and renamed into place, so that a copy cut short is never mistaken for a complete one.
    staging = Path(tempfile.mkdtemp(prefix=f".pgserver-{version}-", dir=RELOCATED_CLUSTERS))
    try:
        for part in PGINSTALL_PARTS:
            shutil.copytree(
                package / "pginstall" / part,
                staging / "pgserver" / "pginstall" / part,
                symlinks=True,
                copy_function=_link_or_copy,
            )
        libs = package.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "pgserver.libs", symlinks=True, copy_function=_link_or_copy)
        # the point of the copy: folders every account may enter (the wheel's files are public anyway)
        for root, dirs, _ in os.walk(staging):
            for name in [".", *dirs]:
                os.chmod(os.path.join(root, name), 0o755)  # noqa: S103
        try:
            staging.rename(target)
        except OSError:
            if not (binaries / "pg_ctl").exists():  # not another process that got there first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("PostgreSQL binaries copied to %s for the unprivileged account", target)
    return binaries


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on host:port (binding is the only honest check)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # as the servers themselves do, so that a port still in TIME_WAIT from our last run counts as free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 nobody uses right now, never one of the well-known service ports."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


@dataclass(frozen=True)
class _RunAs:
    """The account the PostgreSQL processes run as (PostgreSQL refuses to run as root)."""

    name: str
    uid: int
    gid: int

    @classmethod
    def current(cls) -> _RunAs:
        return cls(pwd.getpwuid(os.getuid()).pw_name, os.getuid(), os.getgid())

    @property
    def is_other(self) -> bool:
        return self.uid != os.getuid()


def _service_account() -> _RunAs:
    """As root: the `caretaker` system user (created if missing), else `nobody`."""
    if os.getuid() != 0:
        return _RunAs.current()
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        created = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            log.warning("could not create user %s (%s); using nobody", SERVICE_USER, created.stderr.strip())
            entry = pwd.getpwnam("nobody")
    return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _chown_tree(path: Path, account: _RunAs) -> None:
    """Hand our own folder (and nothing above it) to the service account."""
    os.chown(path, account.uid, account.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)


def _pid_alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedPostgres:
    """A private PostgreSQL cluster under `data_dir`, on 127.0.0.1 and a port of its own.

    It accepts one account, its superuser, and only with that account's password (SCRAM-SHA-256, over
    the socket and over TCP alike), so another local user or program cannot walk in. Files under the data
    dir: `cluster/` (PGDATA), `run/` (unix socket), `password` (the account's password, readable by the
    server's account only), `port` (reused on restart when free), `postgres.log`, and `owner.pid` (the
    process that started the server and will stop it).
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self._requested_port = port
        self._bin = pg_bin_dir()
        self._account = _service_account()
        self._root = self.data_dir
        self.port: int | None = None
        self._password: str | None = None
        self._started_here = False

    # -- paths ---------------------------------------------------------------------------------

    @property
    def cluster_dir(self) -> Path:
        """PGDATA."""
        return self._root / "cluster"

    @property
    def _socket_dir(self) -> Path:
        inside = self._root / "run"
        if len(str(inside)) <= MAX_SOCKET_DIR_LENGTH:
            return inside
        # a deep data dir would overflow the socket path; a short private dir keyed by the data dir works
        digest = hashlib.sha256(str(self._root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"caretaker-pg-{digest}"

    @property
    def _password_file(self) -> Path:
        return self._root / "password"

    @property
    def dsn(self) -> str:
        """postgresql:// address of the `caretaker` database, with the account's password."""
        if self.port is None or self._password is None:
            raise EmbeddedServiceError("the embedded PostgreSQL is not started")
        login = f"{SUPERUSER}:{quote(self._password, safe='')}"
        return f"postgresql://{login}@127.0.0.1:{self.port}/{DATABASE_NAME}"

    @property
    def server_dsn(self) -> str:
        """postgresql:// address of the maintenance database (for creating others)."""
        return self.dsn.rsplit("/", 1)[0] + "/postgres"

    # -- running commands ----------------------------------------------------------------------

    def _run(
        self, *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self._account.is_other:
            kwargs = {"user": self._account.uid, "group": self._account.gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
        if self._password is not None:
            # the environment, not the command line: only the same account (and root) can read it
            env["PGPASSWORD"] = self._password
        result = subprocess.run(
            [str(self._bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            cwd=self._root,
            env=env,
            input=stdin,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise EmbeddedServiceError(
                f"{args[0]} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}"
            )
        return result

    def _reachable_by_account(self, path: Path) -> bool:
        if not self._account.is_other:
            return True
        probe = subprocess.run(
            ["test", "-x", str(path)],
            user=self._account.uid,
            group=self._account.gid,
            extra_groups=[],
            check=False,
        )
        return probe.returncode == 0

    # -- lifecycle -----------------------------------------------------------------------------

    def _prepare_binaries(self) -> None:
        """Run the binaries from where they are if the account can, else from a copy it can reach."""
        if self._reachable_by_account(self._bin / "postgres"):
            return
        try:
            relocated = relocated_bin_dir(self._bin.parent.parent)
        except OSError as exc:
            raise EmbeddedServiceError(
                f"user {self._account.name} cannot run the PostgreSQL binaries in {self._bin} and copying "
                f"them to {RELOCATED_CLUSTERS} failed ({exc}); put the project where {self._account.name} "
                "can reach it, or set DATABASE_URL"
            ) from exc
        if not self._reachable_by_account(relocated / "postgres"):
            raise EmbeddedServiceError(
                f"user {self._account.name} cannot run the PostgreSQL binaries, not even from {relocated}; "
                f"put the project where {self._account.name} can reach it, or set DATABASE_URL"
            )
        self._bin = relocated

    def _prepare_root(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._reachable_by_account(self.data_dir.parent):
            self._root = self.data_dir
        else:
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
            self._root = RELOCATED_CLUSTERS / digest
            RELOCATED_CLUSTERS.mkdir(mode=0o711, parents=True, exist_ok=True)
            self._root.mkdir(mode=0o700, exist_ok=True)
            (self.data_dir / "cluster-location").write_text(f"{self._root}\n")
            log.info(
                "user %s cannot reach %s, so the PostgreSQL cluster lives in %s (noted in %s)",
                self._account.name,
                self.data_dir.parent,
                self._root,
                self.data_dir / "cluster-location",
            )
        self._socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self._account.is_other:
            _chown_tree(self._root, self._account)
            os.chown(self._socket_dir, self._account.uid, self._account.gid)

    def _running_postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of a live server on this cluster; a stale postmaster.pid is removed."""
        pid_file = self.cluster_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            alive = psutil.Process(pid).name() == "postgres" and _pid_alive(pid)
        except psutil.NoSuchProcess:
            alive = False
        if alive:
            return pid, port
        log.info("removing stale %s (process %d is gone)", pid_file, pid)
        pid_file.unlink(missing_ok=True)
        return None

    def _choose_port(self) -> int:
        if self._requested_port is not None:
            return self._requested_port
        remembered = self._root / "port"
        with contextlib.suppress(FileNotFoundError, ValueError):
            port = int(remembered.read_text().strip())
            if port not in RESERVED_PORTS and port_is_free(port):
                return port
        return free_port()

    def _write_private(self, path: Path, text: str) -> None:
        """A file only the server's account (and root) can read."""
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(text, encoding="utf-8")
        if self._account.is_other:
            os.chown(path, self._account.uid, self._account.gid)

    def _new_password(self) -> None:
        self._password = secrets.token_urlsafe(PASSWORD_BYTES)
        self._write_private(self._password_file, f"{self._password}\n")

    def _write_pg_hba(self) -> None:
        self._write_private(self.cluster_dir / "pg_hba.conf", PG_HBA)

    def _initdb(self) -> None:
        log.info("initialising a PostgreSQL cluster in %s", self.cluster_dir)
        self.cluster_dir.mkdir(mode=0o700, exist_ok=True)
        if self._account.is_other:
            os.chown(self.cluster_dir, self._account.uid, self._account.gid)
        self._new_password()
        self._run(
            "initdb",
            "-D",
            str(self.cluster_dir),
            "-U",
            SUPERUSER,
            f"--pwfile={self._password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        )
        self._write_pg_hba()

    def _secure_an_older_cluster(self) -> None:
        """A cluster made before it had a password trusts every local user: give its account a password
        and switch it to password logins, without losing its data."""
        log.info("the embedded PostgreSQL cluster in %s had no password; setting one", self.cluster_dir)
        password = secrets.token_urlsafe(PASSWORD_BYTES)  # URL-safe characters: a plain SQL literal
        # on stdin, so the password never shows in the process list
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", stdin=f"ALTER ROLE {SUPERUSER} PASSWORD '{password}';\n",
        )  # fmt: skip
        self._password = password
        self._write_private(self._password_file, f"{password}\n")
        self._write_pg_hba()
        self._run("pg_ctl", "reload", "-D", str(self.cluster_dir))

    def start(self) -> None:
        """initdb on first use, start the server (or adopt one left running), create the database."""
        self._prepare_binaries()
        self._prepare_root()
        if not (self.cluster_dir / "PG_VERSION").exists():
            if self.cluster_dir.exists():
                shutil.rmtree(self.cluster_dir)  # half-initialised by an interrupted initdb
            self._initdb()
        else:
            self._password = _read_password(self._password_file)
        running = self._running_postmaster()
        owner_file = self._root / "owner.pid"
        if running is not None:
            pid, self.port = running
            owner = _read_pid(owner_file)
            if owner is not None and owner != os.getpid() and _pid_alive(owner):
                if self._password is None:
                    raise EmbeddedServiceError(
                        f"the embedded PostgreSQL was started without a password by process {owner}; "
                        "stop that process and start again"
                    )
                log.info("PostgreSQL (embedded) already running as pid %d for process %d", pid, owner)
                self._started_here = False
                return
            # its owner died without stopping it: this process takes over and will stop it
            log.info("adopting PostgreSQL (embedded) pid %d left running on port %d", pid, self.port)
        else:
            self.port = self._choose_port()
            self._run(
                "pg_ctl",
                "start",
                "-D",
                str(self.cluster_dir),
                "-l",
                str(self._root / "postgres.log"),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                f"-h 127.0.0.1 -p {self.port} -k {self._socket_dir}",
                timeout=START_TIMEOUT_SECONDS + 30,
            )
            (self._root / "port").write_text(f"{self.port}\n")
        owner_file.write_text(f"{os.getpid()}\n")
        self._started_here = True
        try:
            if self._password is None:
                self._secure_an_older_cluster()
            self._ensure_database()
        except BaseException:
            self.stop()  # a caller whose start() failed will not call stop()
            raise

    def _ensure_database(self) -> None:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        found = self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres", "-tAc", query
        )
        if found.stdout.strip() != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE_NAME)

    def stop(self) -> None:
        """Fast shutdown of a server this object started; verifies no process of it remains."""
        if not self._started_here:
            return
        running = self._running_postmaster()
        if running is not None:
            pid = running[0]
            children = _children(pid)
            result = self._run(
                "pg_ctl",
                "stop",
                "-D",
                str(self.cluster_dir),
                "-m",
                "fast",
                "-w",
                "-t",
                str(STOP_TIMEOUT_SECONDS),
                check=False,
                timeout=STOP_TIMEOUT_SECONDS + 15,
            )
            if result.returncode != 0:
                log.warning("pg_ctl stop -m fast failed (%s); stopping immediately", result.stderr.strip())
                self._run("pg_ctl", "stop", "-D", str(self.cluster_dir), "-m", "immediate", check=False)
            leftovers = _wait_gone([pid, *children], STOP_TIMEOUT_SECONDS)
            for proc in leftovers:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.kill()
            if leftovers:
                pids = [p.pid for p in leftovers]
                raise EmbeddedServiceError(f"PostgreSQL processes {pids} had to be killed")
        (self._root / "owner.pid").unlink(missing_ok=True)
        self._started_here = False


def _read_password(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    with contextlib.suppress(psutil.NoSuchProcess):
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    return []


def _wait_gone(pids: list[int], timeout: float) -> list[psutil.Process]:
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return alive


@dataclass(frozen=True)
class MqttLogin:
    """One account on the embedded broker."""

    username: str
    password: str

    @property
    def masked_password(self) -> str:
        """Enough of the password to tell two runs apart in a log, not enough to use it."""
        return f"{self.password[:3]}…"


class EmbeddedBroker:
    """amqtt (MQTT 3.1.1) on 127.0.0.1, running on a thread with its own event loop.

    Nobody gets in without a login (anonymous access is off, which amqtt also needs for persistent
    sessions). The gateway has its own account: it may read `caretaker/#` and write only its presence
    topic. Each device has its own, named by its device id: it may write only under
    `caretaker/{site}/{its id}/…` and read nothing — the same rules as docs/mosquitto/acl, so a device
    cannot raise an alarm for another. `.url` is the gateway's address with its login; `.devices` maps
    each device id to its password, and `credentials_file` (if given) holds that map as JSON while the
    broker runs, for `caretaker simulate --credentials` in another terminal.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        device_ids: Iterable[str] = (),
        credentials_file: Path | None = None,
    ) -> None:
        self.port = port
        self.gateway = MqttLogin(GATEWAY_USERNAME, secrets.token_urlsafe(PASSWORD_BYTES))
        self.devices = {device_id: secrets.token_urlsafe(PASSWORD_BYTES) for device_id in device_ids}
        self.credentials_file = credentials_file
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._workdir: Path | None = None

    @property
    def address(self) -> str:
        """mqtt://127.0.0.1:PORT?protocol=3.1.1, no login (the query tells clients not to try MQTT 5)."""
        if self.port is None:
            raise EmbeddedServiceError("the embedded broker is not started")
        return f"mqtt://127.0.0.1:{self.port}?protocol=3.1.1"

    def url_for(self, login: MqttLogin) -> str:
        """The address with this login in it."""
        return self.address.replace("mqtt://", f"mqtt://{quote(login.username)}:{quote(login.password)}@", 1)

    @property
    def url(self) -> str:
        """The gateway's address: mqtt://caretaker-gateway:PASSWORD@127.0.0.1:PORT?protocol=3.1.1."""
        return self.url_for(self.gateway)

    def _config(self, password_file: Path) -> dict:
        gateway = self.gateway.username
        writes = {gateway: [GATEWAY_WRITES]} | {d: [DEVICE_WRITES.format(device_id=d)] for d in self.devices}
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}", "max_connections": 0}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False},
                "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)},
                # amqtt 0.12 takes the subscribe rules under `acl` (its Config has no `subscribe_acl` yet);
                # an account missing from a list may do nothing of that kind.
                "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                    "publish_acl": writes,
                    "acl": {gateway: [GATEWAY_READS]},
                },
            },
        }

    def _password_lines(self) -> str:
        from argon2 import PasswordHasher

        # The passwords are 24 random bytes, not words a person chose: a slow hash would add nothing but a
        # pause on the broker's event loop while every simulated device logs in at once.
        hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        logins = [self.gateway, *(MqttLogin(d, p) for d, p in self.devices.items())]
        return "".join(f"{login.username}:{hasher.hash(login.password)}\n" for login in logins)

    def start(self) -> None:
        """Bind the port and accept connections before returning."""
        if self.port is None:
            self.port = free_port()
        self._workdir = Path(tempfile.mkdtemp(prefix="caretaker-mqtt-"))
        password_file = self._workdir / "passwd"
        password_file.touch(mode=0o600)
        password_file.write_text(self._password_lines())
        if self.credentials_file is not None:
            self.credentials_file.parent.mkdir(parents=True, exist_ok=True)
            self.credentials_file.unlink(missing_ok=True)
            self.credentials_file.touch(mode=0o600)
            self.credentials_file.write_text(json.dumps(self.devices, indent=1, sort_keys=True) + "\n")
        self._thread = threading.Thread(
            target=self._serve, args=(self._config(password_file),), name="embedded-mqtt", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None or not self._ready.is_set():
            self.stop()
            raise EmbeddedServiceError(
                f"the embedded broker did not start on port {self.port}: {self._error!r}"
            )

    def _serve(self, config: dict) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(config))
        except BaseException as exc:  # reported to start() through _error; the thread must not die silently
            self._error = exc
            log.exception("embedded broker failed")
        finally:
            self._ready.set()
            loop.close()

    async def _main(self, config: dict) -> None:
        from amqtt.broker import Broker

        self._stop = asyncio.Event()
        broker = Broker(config)
        await broker.start()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await broker.shutdown()

    def stop(self) -> None:
        """Shut the broker down, join its thread and remove its password file."""
        if self._thread is not None:
            loop, stop = self._loop, self._stop
            if loop is not None and stop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop may close between the check and the call
                    loop.call_soon_threadsafe(stop.set)
            self._thread.join(timeout=STOP_TIMEOUT_SECONDS)
            if self._thread.is_alive():
                raise EmbeddedServiceError("the embedded broker did not stop")
            self._thread = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        if self.credentials_file is not None:
            self.credentials_file.unlink(missing_ok=True)


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    """Whether something accepts connections on 127.0.0.1:port within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False
