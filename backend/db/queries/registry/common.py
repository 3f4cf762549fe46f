"""What the registry's queries share: one description per table, and reading, listing, inserting, changing
and deleting rows by it; filters, pages, SET clauses, constraint errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import asyncpg
import msgspec

from backend.db.queries.rows import struct_of
from backend.errors import Conflict, ValidationFailed

_encode_json = msgspec.json.Encoder().encode
R = TypeVar("R", bound=msgspec.Struct)


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


@dataclass(frozen=True)
class Table(Generic[R]):
    """How one registry table is read, listed and written. Table and column names come from here, never from
    a request."""

    name: str
    """The table: buildings, units, residents, assets, devices, sites."""
    what: str
    """What a row is called in errors: building, unit …"""
    row: type[R]
    """The Struct a row reads into."""
    fields: str
    """The SELECT list, a column for each field of `row`."""
    source: str = ""
    """What to select from, when more than the table (a join naming the table's columns `u.id` …)."""
    columns: dict[str, str] = field(default_factory=dict)
    """The columns a row is written with, each with its SQL cast ("" for none); what a client may change
    is what the API's update body names."""
    search: tuple[str, ...] = ()
    """The columns a list's `q` looks in."""
    order: str = "site_id, code"
    key: str = "id"
    """The row's id in `source`; a list is limited to the caller's sites by `site_key`."""
    site_key: str = "site_id"
    deletable: bool = False
    """Whether a row may be deleted (devices and sites are deactivated or kept)."""

    @property
    def select(self) -> str:
        """SELECT every field FROM the table (or its join)."""
        return f"SELECT {self.fields} FROM {self.source or self.name}"

    def read(self, record: asyncpg.Record) -> R:
        """The Struct of a row."""
        return struct_of(self.row, record)


async def get_row(conn: asyncpg.Connection, table: Table[R], row_id: Any) -> R | None:
    """One row by id, or None."""
    record = await conn.fetchrow(f"{table.select} WHERE {table.key} = $1", row_id)
    return table.read(record) if record else None


async def list_rows(
    conn: asyncpg.Connection,
    table: Table[R],
    *,
    site_ids: Sequence[UUID] | None,
    equal: dict[str, Any],
    q: str | None,
    limit: int,
    offset: int,
    f: _Filter | None = None,
) -> tuple[list[R], int]:
    """One page of the rows of the caller's sites (`site_ids`, None: all) whose columns are `equal` to the
    filters given (a None is no filter) and that match `q`, and how many there are in all. A table with a
    search of its own passes its filter as `f` and no `q`."""
    f = f or _Filter()
    f.sites(table.site_key, site_ids)
    for column, value in equal.items():
        if value is not None:
            f.add(f"{column} = {{}}", value)
    f.search(table.search, q)
    rows, total = await _page(
        conn, table.select, f"FROM {table.source or table.name}", f, table.order, limit, offset
    )
    return [table.read(r) for r in rows], total


async def insert_row(conn: asyncpg.Connection, table: Table[R], fields: dict[str, Any], label: str) -> R:
    """A new row from `fields` (by column name); `label` names it in a Conflict or a refusal."""
    names = list(fields)
    placeholders = ", ".join(f"${i + 1}{table.columns.get(n, '')}" for i, n in enumerate(names))
    try:
        row_id = await conn.fetchval(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders}) RETURNING id",
            *fields.values(),
        )
    except asyncpg.PostgresError as e:
        _raise_for(e, label)
        raise
    row = await get_row(conn, table, row_id)
    assert row is not None
    return row


async def update_row(
    conn: asyncpg.Connection, table: Table[R], row_id: Any, changes: dict[str, Any]
) -> R | None:
    """Change some columns of a row; the row as it stands afterwards, or None when there is none."""
    if changes:
        sets, args = _set_clause(changes, table.columns, 2)
        try:
            await conn.execute(f"UPDATE {table.name} SET {sets} WHERE id = $1", row_id, *args)
        except asyncpg.PostgresError as e:
            _raise_for(e, table.what)
    return await get_row(conn, table, row_id)


async def delete_row(conn: asyncpg.Connection, table: Table[Any], row_id: UUID) -> bool:
    """Delete one row by id; False when there was none; a row still referenced is a Conflict (`in_use`)."""
    assert table.deletable
    try:
        return await conn.execute(f"DELETE FROM {table.name} WHERE id = $1", row_id) == "DELETE 1"
    except asyncpg.PostgresError as e:
        _raise_for(e, table.what)
        raise
