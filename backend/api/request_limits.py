"""What every request must satisfy before a handler sees it, set once on the app (backend/app.py).

- A JSON body is at most MAX_JSON_BODY_BYTES and nests at most MAX_JSON_DEPTH levels, checked where the
  body is decoded: a decoder recursing 1,000 levels down ends in a RecursionError (a 500) before any type is
  checked. No request of ours needs more than a few kilobytes or nests deeper than four.
- A path holds no NUL character: the PWA's files are looked up on disk, and the OS refuses such a name.
- A `ClientTime` field (backend/domain/client_input.py) is decoded by its own hook and documented in the
  OpenAPI schema as a date-time.
"""

from __future__ import annotations

from array import array
from itertools import accumulate
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from backend.api.openapi import client_time_schema
from backend.domain.client_input import decode_client_time, is_client_time

MAX_JSON_DEPTH = 32
# Photos come as multipart (up to 16 MiB); a JSON body of ours is a few kilobytes. The cap also bounds the
# nesting scan below to a few tens of milliseconds.
MAX_JSON_BODY_BYTES = 1024 * 1024
# Opening brackets become +1 and closing ones -1 (0xFF as a signed byte); everything else is dropped.
_NESTING_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

TYPE_DECODERS = [(is_client_time, decode_client_time)]


def json_nests_deeper_than(body: bytes, limit: int) -> bool:
    """True when the JSON text opens more than `limit` arrays or objects inside one another."""
    # fewer opening brackets in all than the limit cannot nest deeper: almost every body stops here
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    # brackets inside strings do not nest: drop escaped backslashes and quotes, then every other piece
    # between quotes is a string's content
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[0::2])
    steps = array("b", outside_strings.translate(_NESTING_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0) > limit


class LimitedRequest(Request[Any, Any, Any]):
    """Litestar's request, with a nesting limit on JSON bodies."""

    async def json(self) -> Any:
        """The decoded body: 413 past MAX_JSON_BODY_BYTES, 400 when it nests deeper than MAX_JSON_DEPTH."""
        body = await self.body()
        if len(body) > MAX_JSON_BODY_BYTES:
            raise HTTPException(
                status_code=413, detail=f"a JSON body may be at most {MAX_JSON_BODY_BYTES // 1024} KiB"
            )
        if json_nests_deeper_than(body, MAX_JSON_DEPTH):
            raise ClientException(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
        return await super().json()


def refuse_nul_in_path(request: Request[Any, Any, Any]) -> None:
    """before_request: a 400 for a path with a NUL character (`%00`) instead of an OS error later."""
    if "\x00" in request.scope["path"]:
        raise ClientException("the path contains a NUL character")


class ClientTimeSchema(OpenAPISchemaPlugin):
    """ClientTime in the OpenAPI document: a date-time, with its window."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Only ClientTime."""
        return is_client_time(value)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """string / date-time inside the window."""
        return client_time_schema()
