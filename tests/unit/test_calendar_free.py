"""No test or benchmark may lean on the calendar: a literal date in their sources needs a stated reason.

A test that stamps events with a fixed date passes until a date-window rule (the gateway's clock-skew
limit, retention, "this month") overtakes that date, and then fails on every machine at once. Times are
built relative to now or come from an injected clock. A date may stay fixed only where the calendar cannot
reach it — a pure function given that date, a value merely stored and echoed back, a world read through an
injected clock — and the line then says so with the marker `fixed-date:` followed by the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench")
MARKER = "fixed-date:"
# A reason of a few words, not just the marker: the next reader must learn why the date cannot bite.
MIN_REASON_LENGTH = 12

_YEAR = r"(?:19|20)\d\d"
LITERAL_DATE = re.compile(
    rf"""
    (?<!\d){_YEAR}-\d\d-\d\d(?!\d)            # an ISO 8601 day, alone or opening a datetime
    | (?<!\d){_YEAR}:\d\d:\d\d(?!\d)          # the day as EXIF writes it, with colons
    | \b(?:date|datetime)\(\s*{_YEAR}\s*,     # a date or datetime built from a literal year
    """,
    re.VERBOSE,
)


def _has_reason(line: str) -> bool:
    _, found, reason = line.partition(MARKER)
    return bool(found) and len(reason.strip()) >= MIN_REASON_LENGTH


def literal_dates(source: str) -> list[tuple[int, str]]:
    """(line number, line) of each literal date in `source` whose line does not say why it is fixed."""
    lines = source.splitlines()
    flagged: dict[int, str] = {}
    for match in LITERAL_DATE.finditer(source):
        number = source.count("\n", 0, match.start()) + 1
        line = lines[number - 1]
        if not _has_reason(line):
            flagged[number] = line.strip()
    return sorted(flagged.items())


def literal_dates_under(root: Path) -> list[str]:
    """`path:line: text` for every unexplained literal date in the Python sources under root's folders."""
    found = []
    for folder in sorted(SCANNED):
        for path in sorted((root / folder).rglob("*.py")):
            for number, line in literal_dates(path.read_text(encoding="utf-8")):
                found.append(f"{path.relative_to(root)}:{number}: {line}")
    return found


def test_no_test_or_benchmark_depends_on_a_literal_date() -> None:
    found = literal_dates_under(REPO)
    assert found == [], (
        "literal dates in tests or benchmarks: build the time relative to now or from an injected clock, "
        f"or end the line with `# {MARKER} <why the calendar cannot reach it>`:\n" + "\n".join(found)
    )


# The planted examples are put together from pieces so that this file holds no literal date itself.
DAY = "-".join(("2026", "11", "23"))
EXIF_DAY = ":".join(("2026", "11", "23"))


def test_the_check_flags_a_planted_date_in_each_spelling(tmp_path: Path) -> None:
    planted = tmp_path / "tests" / "gateway" / "test_planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        "\n".join(
            [
                '"""A test that will expire."""',
                f'BODY = {{"ts": "{DAY}T10:02:03Z"}}',
                "START = datetime" + "(2026, 11, 23, tzinfo=UTC)",
                "DAY = date" + "(\n    2026, 12, 8\n)",
                f'EXIF = "{EXIF_DAY} 10:02:03"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "load.py").write_text(f'TS = "{DAY}T10:00:00Z"\n', encoding="utf-8")

    found = literal_dates_under(tmp_path)

    assert [entry.split(": ", 1)[0] for entry in found] == [
        "bench/load.py:1",
        "tests/gateway/test_planted.py:2",
        "tests/gateway/test_planted.py:3",
        "tests/gateway/test_planted.py:4",
        "tests/gateway/test_planted.py:7",
    ]


def test_a_date_is_let_through_only_with_the_marker_and_a_reason() -> None:
    explained = f'CHECKED = "{DAY}"  # {MARKER} a stored value echoed back, no clock reads it\n'
    unexplained = f'CHECKED = "{DAY}"  # {MARKER}\n'
    ordinary = 'TIME = "10:02:03"; PORT = "127.0.0.1:5432"; ID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"\n'

    assert literal_dates(explained) == []
    assert literal_dates(unexplained) == [(1, unexplained.strip())]
    assert literal_dates(ordinary) == []
