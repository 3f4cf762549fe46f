"""Migrations are numbered on without gaps or twins (the early history keeps its one gap and one twin:
renaming an applied migration would make every existing database apply it again)."""

from __future__ import annotations

import re

from backend.db.migrate import available_migrations

# The last number of the history that was numbered before this rule; everything after follows it.
RULE_STARTS_AFTER = 13


def test_every_migration_after_the_rule_takes_the_next_number() -> None:
    numbers = [int(re.match(r"(\d{4})_", name).group(1)) for name, _ in available_migrations()]
    later = [n for n in numbers if n > RULE_STARTS_AFTER]
    assert later == list(range(RULE_STARTS_AFTER + 1, RULE_STARTS_AFTER + 1 + len(later))), later


def test_names_say_what_they_do() -> None:
    for name, sql in available_migrations():
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", name), name
        assert sql.lstrip().startswith("--"), f"{name} opens with a comment saying why"
