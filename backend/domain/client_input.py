"""Bounds on what a client may send: every text, list and map has a limit; every time lies in a window.

A phone's clock, a typo or an attacker can send `0001-01-01T00:00:00+14:00`: a valid RFC 3339 time that
Python parses and PostgreSQL cannot store (it falls outside the range once moved to UTC). Request bodies
therefore declare times as `ClientTime`, which decodes only inside [2000, 2100) and only with a UTC offset; a
value outside is a 400 naming the field, like any other wrong value. Texts and lists are bounded so that no
body can make every later reader of a work order pay for it (a `resume` once carried 400,000 parts).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec

from backend.domain.models import Model

EARLIEST_CLIENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_CLIENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=4000)]
# Free-form attributes (an asset's rated load, a brand): named scalars, a few dozen at most.
Attributes = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=64)], ShortText | int | float | bool | None],
    msgspec.Meta(max_length=50),
]


class ClientTime(datetime):
    """A time in a request body: decoded by `decode_client_time`, a plain `datetime` once decoded."""


def check_client_time(value: datetime) -> datetime:
    """The value if it carries a UTC offset and lies in the window; ValueError saying why not."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset (Z or +08:00)")
    # aware datetimes compare without converting, so the calendar's edges cannot overflow here
    if not EARLIEST_CLIENT_TIME <= value < LATEST_CLIENT_TIME:
        raise ValueError(
            f"must lie between {EARLIEST_CLIENT_TIME.date().isoformat()} and "
            f"{LATEST_CLIENT_TIME.date().isoformat()}"
        )
    return value


def decode_client_time(_: type, raw: Any) -> ClientTime:
    """msgspec's dec_hook for ClientTime: an RFC 3339 string (or datetime) inside the window."""
    try:
        value = raw if isinstance(raw, datetime) else msgspec.convert(raw, datetime)
    except msgspec.ValidationError:
        # a ValueError (not msgspec's own error) makes msgspec add the field's path to the message
        raise ValueError("must be an RFC 3339 time such as 2026-11-23T10:02:03+08:00") from None
    check_client_time(value)
    return ClientTime.combine(value.date(), value.timetz())


def is_client_time(annotation: Any) -> bool:
    """The type decoders' predicate."""
    return annotation is ClientTime


def check_client_day(value: date, field: str) -> date:
    """A calendar day a client asked for (a report's range) inside the same window; ValueError naming it."""
    if not EARLIEST_CLIENT_TIME.date() <= value < LATEST_CLIENT_TIME.date():
        raise ValueError(f"{field} must lie between 2000-01-01 and 2100-01-01")
    return value


def plain_datetime(value: datetime | None) -> datetime | None:
    """A decoded ClientTime as the plain datetime the rest of the code (msgspec.to_builtins) can encode."""
    return None if value is None else datetime.combine(value.date(), value.timetz())


class ClientBody(Model):
    """Base of request bodies with ClientTime fields: they are plain datetimes once decoded, so that the
    rest of the code never meets the marker type."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if type(value) is ClientTime:
                msgspec.structs.force_setattr(self, name, plain_datetime(value))


def convert_client_input(raw: Any, into: type[Any]) -> Any:
    """Convert raw input (a multipart form's fields) the way request bodies are: lax, times checked."""
    return msgspec.convert(raw, into, strict=False, dec_hook=decode_client_time)
