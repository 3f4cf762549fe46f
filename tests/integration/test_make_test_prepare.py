""".ci/prepare, which `make test` (and CI through it) runs first: the services and the browser are there, or
the run stops at once with one line saying what to do — never a suite that passes with its tests skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backend.embedded import free_port, port_is_free

REPO = Path(__file__).resolve().parents[2]
PREPARE = ["bash", str(REPO / ".ci" / "prepare")]


def _prepare(*prefix: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"TEST_DATABASE_URL", "TEST_MQTT_URL"}}
    return subprocess.run(
        [*prefix, *PREPARE],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_test_prepares_the_machine_first_and_turns_skips_into_failures() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    commands = dry_run.stdout.splitlines()
    prepare = next(i for i, line in enumerate(commands) if ".ci/prepare" in line)
    pytest_line = next(i for i, line in enumerate(commands) if "/pytest" in line)
    assert prepare < pytest_line, dry_run.stdout
    assert "CARETAKER_REQUIRE_SERVICES=1" in commands[pytest_line]
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "apt-get" not in ci, "CI prepares through make test, in one place"


def test_with_everything_there_it_passes_and_says_so() -> None:
    result = _prepare()
    assert result.returncode == 0, result.stderr
    assert "are ready" in result.stdout
    assert result.stderr == ""


def test_a_configured_broker_that_does_not_answer_stops_the_run_with_one_line() -> None:
    port = free_port()
    result = _prepare(TEST_MQTT_URL=f"mqtt://127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"make test: no MQTT broker answers at 127.0.0.1:{port} (TEST_MQTT_URL)"
    ]
    assert port_is_free(port), "nothing is started on an address someone else configured"


def test_without_root_whatever_is_missing_is_named_with_the_one_command_to_run() -> None:
    """An unprivileged developer on a machine with nothing running and no browser — simulated in namespaces of
    its own: nothing listens on its 127.0.0.1 and /usr/bin/chromium is hidden — is told the one command to
    run, and nothing is attempted."""
    if os.geteuid() != 0:
        pytest.skip("simulating a bare machine (network and mount namespaces of its own) needs root")
    probe = ["unshare", "--net", "--mount", "true"]
    if shutil.which("unshare") is None or subprocess.run(probe, check=False).returncode:
        pytest.skip("this machine does not allow private network and mount namespaces (unshare)")
    bare_machine = [
        "unshare", "--net", "--mount", "--", "bash", "-c",
        '{ [ ! -e /usr/bin/chromium ] || mount --bind /dev/null /usr/bin/chromium; } && '
        'exec runuser -u nobody -- "$@"', "bare-machine",
    ]  # fmt: skip
    result = _prepare(*bare_machine)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "make test: PostgreSQL is down on 127.0.0.1:5432; Mosquitto is down on 127.0.0.1:1883; "
        "Chromium is not installed; run: sudo .ci/prepare"
    ]
    assert "starting" not in result.stdout and "installing" not in result.stdout
    had_browser = os.path.exists("/usr/bin/chromium")
    assert not had_browser or os.access("/usr/bin/chromium", os.X_OK), "the real browser was never touched"
