"""What the registry's queries share: filters, pages, SET clauses, constraint errors, deleting by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from backend.errors import Conflict, ValidationFailed

_encode_json = msgspec.json.Encoder().encode


def _json_texts(values: Sequence[Any]) -> list[str]:
    # passed as text[] and cast in SQL, so the bulk insert does not depend on a jsonb[] codec
    return [_encode_json(v).decode() for v in values]


# Reading and writing the registry. `site_ids=None` means every site (admins); otherwise only those sites.


class _Filter:
    """WHERE conditions with numbered parameters, built from optional filters."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.args: list[Any] = []

    def add(self, condition: str, *values: Any) -> None:
        """Add a condition whose `{}` placeholders take the next parameter numbers."""
        numbers = []
        for value in values:
            self.args.append(value)
            numbers.append(f"${len(self.args)}")
        self.conditions.append(condition.format(*numbers))

    def sites(self, column: str, site_ids: Sequence[UUID] | None) -> None:
        """Restrict to the caller's sites."""
        if site_ids is not None:
            self.add(f"{column} = ANY({{}}::uuid[])", list(site_ids))

    def search(
        self, columns: Sequence[str], text: str | None, *, alternative: tuple[str, Any] | None = None
    ) -> None:
        """Case-insensitive substring search over some columns, or-ed with an `alternative` condition whose
        `{}` placeholder takes its value."""
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            self.args.append(pattern)
            n = len(self.args)
            matches = [f"{c} ILIKE ${n}" for c in columns]
            if alternative is not None:
                self.args.append(alternative[1])
                matches.append(alternative[0].format(f"${len(self.args)}"))
            self.conditions.append("(" + " OR ".join(matches) + ")")

    @property
    def where(self) -> str:
        """The WHERE clause, or nothing."""
        return " WHERE " + " AND ".join(self.conditions) if self.conditions else ""


async def _page(
    conn: asyncpg.Connection, select: str, count_from: str, f: _Filter, order: str, limit: int, offset: int
) -> tuple[list[asyncpg.Record], int]:
    total = await conn.fetchval(f"SELECT count(*) {count_from}{f.where}", *f.args)
    n = len(f.args)
    rows = await conn.fetch(
        f"{select}{f.where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}", *f.args, limit, offset
    )
    return rows, total


def _set_clause(changes: dict[str, Any], columns: dict[str, str], first: int) -> tuple[str, list[Any]]:
    # column names come from the fixed `columns` table, never from the request
    parts, args = [], []
    for key, value in changes.items():
        args.append(value)
        cast = columns[key]
        parts.append(f"{key} = ${first + len(args) - 1}{cast}")
    return ", ".join(parts), args


def _raise_for(e: asyncpg.PostgresError, what: str) -> None:
    """Turn a constraint violation into the domain error a client can act on."""
    if isinstance(e, asyncpg.UniqueViolationError):
        raise Conflict(f"{what} already exists", code="duplicate") from e
    if isinstance(e, asyncpg.ForeignKeyViolationError):
        if "is still referenced" in (e.detail or ""):
            raise Conflict(f"{what} is still in use and cannot be deleted", code="in_use") from e
        raise ValidationFailed(f"{what} refers to something that does not exist", field=None) from e
    if isinstance(e, (asyncpg.CheckViolationError, asyncpg.NotNullViolationError, asyncpg.DataError)):
        raise ValidationFailed(
            f"{what} has a value out of range: {e.message}", field=getattr(e, "column_name", None)
        ) from e
    raise e


# The tables a row of the registry may be deleted from by its id (the name never comes from a request).
_DELETABLE = frozenset({"buildings", "units", "residents", "assets"})


async def delete_row(conn: asyncpg.Connection, table: str, row_id: UUID, what: str) -> bool:
    """Delete one row by id; False when there was none; a row still referenced is a Conflict (`in_use`)."""
    assert table in _DELETABLE
    try:
        return await conn.execute(f"DELETE FROM {table} WHERE id = $1", row_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, what)
        raise
