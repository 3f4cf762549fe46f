"""Settings from the environment: the documented defaults; a bad value stops start-up naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.cli import main
from backend.settings import _ENV, ENVIRONMENT_VARIABLES, Settings, SettingsError, load_settings


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    s = load_settings({})
    assert s.database_url is None
    assert s.mqtt_url is None
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.data_dir == Path(".caretaker")
    assert s.secret_key is None
    assert s.token_ttl_seconds == 12 * 3600
    assert (s.login_failures_before_backoff, s.login_failures_per_address) == (5, 50)
    assert s.trusted_proxies == ()
    assert (s.db_pool_min, s.db_pool_max) == (2, 10)
    assert s.storage_backend == "local"
    assert s.public_url is None
    assert s.reach_url == "http://127.0.0.1:8000"
    assert s.log_level == "INFO"
    assert s.scheduler_enabled is True
    assert s.mqtt_client_id == "caretaker-gateway"
    assert s.mqtt_host_port == ("127.0.0.1", 1883)


def test_empty_strings_count_as_unset() -> None:
    assert load_settings({"CARETAKER_PORT": "", "DATABASE_URL": ""}) == load_settings({})


def test_values_are_parsed_into_their_types() -> None:
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://u@db:5433/ct",
            "MQTT_URL": "mqtt://gw:pw@broker:1884",
            "CARETAKER_PORT": "9000",
            "CARETAKER_DATA_DIR": "/var/lib/caretaker",
            "CARETAKER_SCHEDULER": "off",
            "CARETAKER_STORAGE": "s3",
            "CARETAKER_S3_BUCKET": "photos",
            "CARETAKER_DB_POOL_MIN": "1",
            "CARETAKER_DB_POOL_MAX": "1",
        }
    )
    assert s.port == 9000
    assert s.data_dir == Path("/var/lib/caretaker")
    assert s.scheduler_enabled is False
    assert s.mqtt_host_port == ("broker", 1884)
    assert (s.storage_backend, s.s3_bucket) == ("s3", "photos")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CARETAKER_PORT": "eighty"}, "CARETAKER_PORT"),
        ({"CARETAKER_PORT": "0"}, "CARETAKER_PORT"),
        ({"CARETAKER_PORT": "65536"}, "CARETAKER_PORT"),
        ({"DATABASE_URL": "mysql://db/ct"}, "DATABASE_URL"),
        ({"MQTT_URL": "http://broker:1883"}, "MQTT_URL"),
        ({"CARETAKER_TOKEN_TTL_SECONDS": "59"}, "CARETAKER_TOKEN_TTL_SECONDS"),
        ({"CARETAKER_TOKEN_TTL_SECONDS": "1h"}, "CARETAKER_TOKEN_TTL_SECONDS"),
        ({"CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF": "0"}, "CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF"),
        ({"CARETAKER_LOGIN_FAILURES_PER_ADDRESS": "3"}, "CARETAKER_LOGIN_FAILURES_PER_ADDRESS"),
        ({"CARETAKER_TRUSTED_PROXIES": "10.0.0.1, nginx"}, "CARETAKER_TRUSTED_PROXIES"),
        ({"CARETAKER_TRUSTED_PROXIES": "10.0.0.0/33"}, "CARETAKER_TRUSTED_PROXIES"),
        # a variable that was renamed is a mistake to stop for, not a silent no-op
        ({"CARETAKER_LOGIN_ATTEMPTS_PER_MINUTE": "10"}, "CARETAKER_LOGIN_FAILURES_BEFORE_BACKOFF"),
        ({"CARETAKER_DB_POOL_MIN": "0"}, "CARETAKER_DB_POOL_MIN"),
        ({"CARETAKER_DB_POOL_MIN": "5", "CARETAKER_DB_POOL_MAX": "2"}, "CARETAKER_DB_POOL_MAX"),
        ({"CARETAKER_DB_POOL_MAX": "many"}, "CARETAKER_DB_POOL_MAX"),
        ({"CARETAKER_STORAGE": "ftp"}, "CARETAKER_STORAGE"),
        ({"CARETAKER_STORAGE": "s3"}, "CARETAKER_S3_BUCKET"),
        ({"CARETAKER_LOG_LEVEL": "LOUD"}, "CARETAKER_LOG_LEVEL"),
        ({"CARETAKER_SCHEDULER": "maybe"}, "CARETAKER_SCHEDULER"),
    ],
)
def test_a_bad_value_fails_naming_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)


@pytest.mark.parametrize("name", [n for n, (_, kind) in _ENV.items() if kind in (int, bool)])
def test_every_number_or_switch_rejects_garbage_by_name(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: "not-a-value"})
    assert name in str(caught.value)


def test_trusted_proxies_are_a_list_of_addresses_and_blocks() -> None:
    s = load_settings({"CARETAKER_TRUSTED_PROXIES": "10.0.0.5, 192.168.1.0/24 2001:db8::/64,::1"})
    assert s.trusted_proxies == ("10.0.0.5/32", "192.168.1.0/24", "2001:db8::/64", "::1/128")


def test_every_settings_field_can_be_set_from_the_environment() -> None:
    fields_from_env = {field for field, _ in _ENV.values()}
    assert fields_from_env == set(Settings.__struct_fields__)
    assert set(ENVIRONMENT_VARIABLES) == set(_ENV)


def test_the_cli_stops_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CARETAKER_PORT", "eighty")
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "CARETAKER_PORT" in err


def test_the_readme_documents_every_environment_variable() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    undocumented = [name for name in ENVIRONMENT_VARIABLES if f"| `{name}` |" not in readme]
    assert undocumented == []


def test_the_public_address_follows_what_is_served_unless_set() -> None:
    """The QR code on a printed record must open where phones really reach the server."""
    assert load_settings({"CARETAKER_PORT": "8123"}).reach_url == "http://127.0.0.1:8123"
    assert (
        load_settings({"CARETAKER_HOST": "10.1.2.3", "CARETAKER_PORT": "80"}).reach_url
        == "http://10.1.2.3:80"
    )
    every_interface = "0.0.0.0"  # noqa: S104 - a setting under test, nothing is bound
    everywhere = load_settings({"CARETAKER_HOST": every_interface, "CARETAKER_PORT": "8000"}).reach_url
    assert every_interface not in everywhere and everywhere.endswith(":8000")
    assert load_settings({"CARETAKER_HOST": "::1"}).reach_url == "http://[::1]:8000"
    set_by_hand = {"CARETAKER_PUBLIC_URL": "https://wuye.example.cn/", "CARETAKER_PORT": "8123"}
    assert load_settings(set_by_hand).reach_url == "https://wuye.example.cn"
    with pytest.raises(SettingsError, match="CARETAKER_PUBLIC_URL"):
        load_settings({"CARETAKER_PUBLIC_URL": "wuye.example.cn"})
