"""Reading a row into the Struct whose fields its columns are named after, and writing one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import asyncpg
import msgspec

S = TypeVar("S")


def struct_of(cls: type[S], row: Mapping[str, Any], **given: Any) -> S:
    """A `cls` (a Struct or a dataclass) with each field read from the row's column of that name; `given`
    are the fields the row does not hold as they are (computed, renamed or read elsewhere). A field with
    neither is a KeyError, unless it has a default."""
    if dataclasses.is_dataclass(cls):
        missing = dataclasses.MISSING
        fields = [
            (f.name, f.default is missing and f.default_factory is missing) for f in dataclasses.fields(cls)
        ]
    else:
        fields = [(f.name, f.required) for f in msgspec.structs.fields(cls)]
    read = {name: row[name] for name, required in fields if name not in given and (required or name in row)}
    return cls(**read, **given)


def _insert(table: str, values: Mapping[str, Any], on_conflict: str | None) -> str:
    """INSERT of one row of `values` (column → value; the names are the code's own, never a caller's
    input); with `on_conflict` (a conflict target, or "" for any) a row that would clash is not written."""
    marks = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    clash = "" if on_conflict is None else f" ON CONFLICT {on_conflict} DO NOTHING"
    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks}){clash}"


async def insert_row(conn: asyncpg.Connection, table: str, values: Mapping[str, Any]) -> None:
    """Write one row of `values`."""
    await conn.execute(_insert(table, values, None), *values.values())


async def insert_returning(
    conn: asyncpg.Connection,
    table: str,
    values: Mapping[str, Any],
    *,
    returning: str = "id",
    on_conflict: str | None = None,
) -> Any:
    """Write one row of `values` and give back its `returning` column (None when `on_conflict` kept it
    from being written)."""
    return await conn.fetchval(
        f"{_insert(table, values, on_conflict)} RETURNING {returning}", *values.values()
    )


async def insert_once(
    conn: asyncpg.Connection, table: str, values: Mapping[str, Any], on_conflict: str = ""
) -> bool:
    """A claim row: True when this call wrote it, False when one like it was there already (written by this
    or another process: the unique key decides, so what the claim guards happens once)."""
    return await insert_returning(conn, table, values, returning="true", on_conflict=on_conflict) is not None


async def one_page(
    conn: asyncpg.Connection,
    select: str,
    source: str,
    where: str,
    order: str,
    args: Sequence[Any],
    limit: int,
    offset: int,
    *,
    count_from: str | None = None,
) -> tuple[list[asyncpg.Record], int]:
    """One page of `SELECT select FROM source WHERE where ORDER BY order` and how many rows match in all
    (`where` reads `args` as $1…; the page's limit and offset follow them). `count_from`: the source
    counted, when the joins that only add columns can be left out of the count."""
    total = await conn.fetchval(f"SELECT count(*) FROM {count_from or source} WHERE {where}", *args)
    n = len(args)
    rows = await conn.fetch(
        f"SELECT {select} FROM {source} WHERE {where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",
        *args,
        limit,
        offset,
    )
    return list(rows), total
