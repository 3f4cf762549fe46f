"""Settings read once from the environment into a frozen object; a bad value stops start-up clearly."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

# Listening addresses that mean "every interface": nobody browses to them.
_ANY_INTERFACE = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared against, never bound


class SettingsError(ValueError):
    """An environment variable holds a value Caretaker cannot use."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable, with the defaults documented in the README."""

    database_url: str | None = None
    """PostgreSQL DSN; unset means `caretaker up` starts an embedded server."""
    mqtt_url: str | None = None
    """mqtt://[user:pass@]host:port; unset means `caretaker up` starts an embedded broker."""
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".caretaker")
    secret_key: str | None = None
    """Signs bearer tokens; unset means a random key generated once and kept in the database."""
    token_ttl_seconds: int = 12 * 3600
    """A technician's shift plus margin: long enough that an offline morning does not log them out."""
    login_failures_before_backoff: int = 5
    """Wrong passwords for one account from one address before each further attempt must wait."""
    login_failures_per_address: int = 50
    """Wrong passwords from one address, against any accounts, in 15 minutes before it must wait."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or CIDR blocks of the proxies whose X-Forwarded-For is believed; none by default."""
    db_pool_min: int = 2
    db_pool_max: int = 10
    storage_backend: str = "local"
    s3_endpoint: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    public_url: str | None = None
    """The address users reach the app at; unset means the host and port this process serves (see
    `reach_url`)."""
    log_level: str = "INFO"
    scheduler_enabled: bool = True
    dispatcher_enabled: bool = True
    """Send queued Web Push notifications from this process (also needs the scheduler on)."""
    mqtt_client_id: str = "caretaker-gateway"
    push_allow_private_endpoints: bool = False
    """Accept Web Push endpoints on private, loopback and link-local addresses (and plain http to them):
    for tests and on-premise push services only; off, a subscription cannot make the server call inside."""
    sms_secret_id: str | None = None
    """Tencent Cloud API key id; unset means no SMS is sent (messages wait in the outbox). docs/OWNERS.md"""
    sms_secret_key: str | None = None
    sms_app_id: str | None = None
    """The SMS SDK app id (SmsSdkAppId)."""
    sms_sign_name: str | None = None
    """The approved SMS signature (签名), e.g. the company's name."""
    sms_templates: str = ""
    """Approved template ids per message kind: "case_received=123456,technician_assigned=123457,…"."""
    sms_endpoint: str = "sms.tencentcloudapi.com"
    sms_region: str = "ap-guangzhou"
    sms_to_terminal: bool = False
    """Print each SMS on the terminal instead (set by `caretaker up` when no SMS account is configured)."""
    smtp_host: str | None = None
    """SMTP server for owners' email; unset means no email is sent."""
    smtp_port: int = 587
    smtp_sender: str = "noreply@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True

    @property
    def reach_url(self) -> str:
        """The address printed on service records and sent with Web Push: CARETAKER_PUBLIC_URL, else the
        host and port actually served. A server listening on every interface is reached by this machine's
        name, not by 0.0.0.0 (which a phone cannot open)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = socket.gethostname() if self.host in _ANY_INTERFACE else self.host
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal in a URL
        return f"http://{host}:{self.port}"

    @property
    def mqtt_host_port(self) -> tuple[str, int]:
        """Host and port of the broker named by `mqtt_url`."""
        parts = urlsplit(self.mqtt_url or "mqtt://127.0.0.1:1883")
        return parts.hostname or "127.0.0.1", parts.port or 1883


# name in the environment -> (field, parser)
_ENV: dict[str, tuple[str, type]] = {
    "DATABASE_URL": ("database_url", str),
    "MQTT_URL": ("mqtt_url", str),
    "CARETAKER_HOST": ("host", str),
    "CARETAKER_PORT": ("port", int),
    "CARETAKER_DATA_DIR": ("data_dir", Path),
    "CARETAKER_SECRET_KEY": ("secret_key", str),
    "CARETAKER_TOKEN_TTL_SECONDS": ("token_ttl_seconds", int),
    "CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF": ("login_failures_before_backoff", int),
    "CARETAKER_LOGIN_FAILURES_PER_ADDRESS": ("login_failures_per_address", int),
    "CARETAKER_TRUSTED_PROXIES": ("trusted_proxies", tuple),
    "CARETAKER_DB_POOL_MIN": ("db_pool_min", int),
    "CARETAKER_DB_POOL_MAX": ("db_pool_max", int),
    "CARETAKER_STORAGE": ("storage_backend", str),
    "CARETAKER_S3_ENDPOINT": ("s3_endpoint", str),
    "CARETAKER_S3_BUCKET": ("s3_bucket", str),
    "CARETAKER_S3_ACCESS_KEY": ("s3_access_key", str),
    "CARETAKER_S3_SECRET_KEY": ("s3_secret_key", str),
    "CARETAKER_PUBLIC_URL": ("public_url", str),
    "CARETAKER_LOG_LEVEL": ("log_level", str),
    "CARETAKER_SCHEDULER": ("scheduler_enabled", bool),
    "CARETAKER_DISPATCHER": ("dispatcher_enabled", bool),
    "CARETAKER_MQTT_CLIENT_ID": ("mqtt_client_id", str),
    "CARETAKER_PUSH_ALLOW_PRIVATE_ENDPOINTS": ("push_allow_private_endpoints", bool),
    "CARETAKER_SMS_SECRET_ID": ("sms_secret_id", str),
    "CARETAKER_SMS_SECRET_KEY": ("sms_secret_key", str),
    "CARETAKER_SMS_APP_ID": ("sms_app_id", str),
    "CARETAKER_SMS_SIGN_NAME": ("sms_sign_name", str),
    "CARETAKER_SMS_TEMPLATES": ("sms_templates", str),
    "CARETAKER_SMS_ENDPOINT": ("sms_endpoint", str),
    "CARETAKER_SMS_REGION": ("sms_region", str),
    "CARETAKER_SMS_TO_TERMINAL": ("sms_to_terminal", bool),
    "CARETAKER_SMTP_HOST": ("smtp_host", str),
    "CARETAKER_SMTP_PORT": ("smtp_port", int),
    "CARETAKER_SMTP_SENDER": ("smtp_sender", str),
    "CARETAKER_SMTP_USERNAME": ("smtp_username", str),
    "CARETAKER_SMTP_PASSWORD": ("smtp_password", str),
    "CARETAKER_SMTP_STARTTLS": ("smtp_starttls", bool),
}

# Variables that once existed: setting one is a mistake worth stopping for, not a silent no-op.
_REPLACED = {
    "CARETAKER_LOGIN_ATTEMPTS_PER_MINUTE": (
        "login throttling counts only failures now: use CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF and "
        "CARETAKER_LOGIN_FAILURES_PER_ADDRESS"
    ),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise SettingsError(f"{name}={raw!r}: expected one of 1/0, true/false, yes/no, on/off")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if kind is tuple:
        # a comma- or space-separated list of addresses or CIDR blocks, normalised
        items = [item for item in raw.replace(",", " ").split() if item]
        try:
            return tuple(str(ipaddress.ip_network(item, strict=False)) for item in items)
        except ValueError:
            raise SettingsError(
                f"{name}={raw!r}: expected IP addresses or CIDR blocks, separated by commas"
            ) from None
    return kind(raw)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or the mapping given), validating every value."""
    env = os.environ if environ is None else environ
    for name, instead in _REPLACED.items():
        if env.get(name):
            raise SettingsError(f"{name} is no longer read; {instead}")
    values: dict[str, object] = {}
    for name, (field, kind) in _ENV.items():
        raw = env.get(name)
        if raw is not None and raw != "":
            values[field] = _parse(name, raw, kind)
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if not 1 <= s.port <= 65535:
        raise SettingsError(f"CARETAKER_PORT={s.port}: expected 1-65535")
    if s.database_url and urlsplit(s.database_url).scheme not in {"postgres", "postgresql"}:
        raise SettingsError("DATABASE_URL must start with postgresql:// (or postgres://)")
    if s.mqtt_url and urlsplit(s.mqtt_url).scheme not in {"mqtt", "tcp"}:
        raise SettingsError("MQTT_URL must look like mqtt://host:port")
    if s.token_ttl_seconds < 60:
        raise SettingsError("CARETAKER_TOKEN_TTL_SECONDS must be at least 60")
    if s.login_failures_before_backoff < 1:
        raise SettingsError("CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF must be at least 1")
    if s.login_failures_per_address < s.login_failures_before_backoff:
        raise SettingsError(
            "CARETAKER_LOGIN_FAILURES_PER_ADDRESS must be at least CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF"
        )
    if not 1 <= s.db_pool_min <= s.db_pool_max:
        raise SettingsError("need 1 <= CARETAKER_DB_POOL_MIN <= CARETAKER_DB_POOL_MAX")
    if s.storage_backend not in {"local", "s3"}:
        raise SettingsError("CARETAKER_STORAGE must be 'local' or 's3'")
    if s.storage_backend == "s3" and not s.s3_bucket:
        raise SettingsError("CARETAKER_STORAGE=s3 needs CARETAKER_S3_BUCKET")
    if s.public_url and urlsplit(s.public_url).scheme not in {"http", "https"}:
        raise SettingsError("CARETAKER_PUBLIC_URL must start with http:// or https://")
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("CARETAKER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")


ENVIRONMENT_VARIABLES = tuple(_ENV)
