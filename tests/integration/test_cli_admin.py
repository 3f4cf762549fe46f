"""The administration commands as an operator runs them: migrate, seed and `user add` in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import psutil
import pytest

from backend.db.migrate import available_migrations
from backend.services.passwords import verify_password

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def caretaker(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the command as a user would, with its own environment."""
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MQTT_URL"}}
    env.update(values)
    return env


async def test_migrate_seed_and_user_add_on_a_configured_database(blank_db_url: str) -> None:
    env = _environment(DATABASE_URL=blank_db_url)

    migrated = caretaker("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "migrations: applied" in migrated.stderr
    assert "up to date" in caretaker("migrate", env=env).stderr

    for _ in range(2):
        seeded = caretaker("seed", env=env)
        assert seeded.returncode == 0, seeded.stderr

    added = caretaker(
        "user", "add", "tech9", "--role", "technician", "--site", "demo", "--name", "钱师傅",
        "--skills", "water,gas", "--on-duty", "--password-stdin",
        env=env, stdin="a-long-enough-secret\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    conn = await asyncpg.connect(blank_db_url)
    try:
        applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        units = await conn.fetchval("SELECT count(*) FROM units")
        jobs = {
            r["title"]: (r["status"], r["assignee"])
            for r in await conn.fetch(
                """SELECT w.title, w.status, u.username AS assignee FROM work_orders w
                   LEFT JOIN users u ON u.id = w.assignee_id"""
            )
        }
        tech9 = await conn.fetchrow(
            """SELECT u.display_name, u.role, u.skills, u.on_duty, u.password_hash, s.code AS site
               FROM users u JOIN user_sites us ON us.user_id = u.id JOIN sites s ON s.id = us.site_id
               WHERE u.username = 'tech9'"""
        )
    finally:
        await conn.close()
    assert applied == len(available_migrations())
    assert units == 120, "seeding twice leaves one demo estate"
    # a morning's work to start with, recorded once: tech1's list, the dispatch board and a complaint
    assert jobs == {
        "厨房水龙头漏水": ("assigned", "tech1"),
        "卧室插座不通电": ("accepted", "tech1"),
        "入户门锁芯损坏": ("new", None),
        "电梯夜间运行噪音扰民": ("new", None),
    }
    assert tech9 is not None
    assert (tech9["display_name"], tech9["role"], tech9["site"]) == ("钱师傅", "technician", "demo")
    assert sorted(tech9["skills"]) == ["gas", "water"]
    assert tech9["on_duty"] is True
    assert verify_password(tech9["password_hash"], "a-long-enough-secret")


async def test_user_add_refuses_bad_input_with_one_line_naming_it(blank_db_url: str) -> None:
    env = _environment(DATABASE_URL=blank_db_url)
    assert caretaker("seed", env=env).returncode == 0

    add_boss = ("user", "add", "boss", "--site", "demo", "--password-stdin")
    bad_role = caretaker(*add_boss, "--role", "owner", env=env, stdin="a-long-enough-secret\n")
    assert bad_role.returncode == 1
    assert bad_role.stderr.strip().splitlines()[-1].startswith("caretaker: role:")

    demo_password = caretaker(*add_boss, "--role", "manager", env=env, stdin="demo1234\n")
    assert demo_password.returncode == 1
    assert demo_password.stderr.strip().splitlines()[-1].startswith("caretaker: password:")
    for weak in ("12345678", "password", "boss-boss-1"):
        refused = caretaker(*add_boss, "--role", "manager", env=env, stdin=f"{weak}\n")
        assert refused.returncode == 1, weak
        assert refused.stderr.strip().splitlines()[-1].startswith("caretaker: password:"), weak

    taken = caretaker("user", "add", "tech1", "--role", "technician", "--site", "demo", "--password-stdin",
                      env=env, stdin="a-long-enough-secret\n")  # fmt: skip
    assert taken.returncode == 1
    assert "Traceback" not in taken.stderr


def test_migrate_without_a_database_url_uses_the_embedded_server_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = caretaker("migrate", env=_environment(CARETAKER_DATA_DIR=str(data_dir)))
    moved = data_dir / "pg" / "cluster-location"
    cluster_root = Path(moved.read_text().strip()) if moved.exists() else data_dir / "pg"
    try:
        assert result.returncode == 0, result.stderr
        assert "PostgreSQL (embedded) on 127.0.0.1:" in result.stderr
        assert "migrations: applied" in result.stderr
        assert (cluster_root / "cluster" / "PG_VERSION").exists()
        still_running = [
            p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "postgres" and str(cluster_root / "cluster") in (p.info["cmdline"] or [])
        ]  # fmt: skip
        assert still_running == []
    finally:
        if cluster_root != data_dir / "pg":
            shutil.rmtree(cluster_root, ignore_errors=True)
