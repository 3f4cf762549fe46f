"""RFC 9457 problem details for every error: one table from exception to status, registered once."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from backend import errors

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details as Caretaker sends them; some errors add members (field, errors, current)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None


# Declared on every operation in the OpenAPI document, replacing the framework's own error shape.
PROBLEM_RESPONSES = {
    status: ResponseSpec(
        data_container=Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False
    )
    for status, description in {
        400: "The request is malformed (body, query or path).",
        401: "No valid bearer token.",
        403: "The caller's role may not do this.",
        404: "Not found, or not in the caller's sites.",
        409: "Conflicts with the current state (the body carries `current` for a stale action).",
        422: "A value is not acceptable; `field` names it.",
        429: "Too many requests; see Retry-After.",
    }.items()
}


STATUS_BY_ERROR: dict[type[errors.CaretakerError], int] = {
    errors.ValidationFailed: 422,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMedia: 415,
    errors.TooManyRequests: 429,
}

_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid value",
    429: "Too many requests",
    500: "Internal error",
}


def problem(status: int, detail: str, code: str, **extra: Any) -> Response[dict[str, Any]]:
    """A problem-details response."""
    body = {
        "type": f"https://caretaker.dev/problems/{code.replace('_', '-')}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429 and "retryAfter" in extra:
        headers["Retry-After"] = str(extra["retryAfter"])
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: errors.CaretakerError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 400


def domain_error(_: Request, exc: errors.CaretakerError) -> Response[dict[str, Any]]:
    """Map a domain exception by the table above."""
    return problem(_status_for(exc), exc.detail, exc.code, **exc.extra)


# msgspec names the field in its message: "... - at `$.geo.lat`", "missing required field `x`",
# "unknown field `x`"; the body as a whole is only the framework's key "data". Litestar cuts the path off
# the message and keeps it as the key ("settings" for an unknown key inside `settings`).
_MSGSPEC_PATH = re.compile(r"at `\$\.([^`]+)`")
_NOT_IN_ENUM = "Invalid enum value"
_MSGSPEC_NAMED = re.compile(r"(missing required|unknown) field `([^`]+)`")


def _field_of(key: str | None, message: str) -> tuple[str | None, str]:
    """(the field a validation message is about, its code)."""
    named = _MSGSPEC_NAMED.search(message)
    path = _MSGSPEC_PATH.search(message)
    where = path.group(1) if path else (None if key in (None, "", "data") else key)
    if named:
        code = "unknown_field" if named.group(1) == "unknown" else "field_required"
        return (f"{where}.{named.group(2)}" if where else named.group(2)), code
    return where, "invalid_request"


def validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    """Litestar's own request validation: name each field and say what is wrong with it."""
    problems = []
    for e in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(e, dict):
            message = str(e.get("message") or "")
            field, code = _field_of(e.get("key"), message)
            problems.append({"field": field, "code": code, "source": e.get("source"), "message": message})
    first = problems[0] if problems else None
    detail = exc.detail or "invalid request"
    if first and first["message"]:
        detail = f"{first['field'] or 'body'}: {first['message']}"
    code = first["code"] if first else "invalid_request"
    if first and first["message"].startswith(_NOT_IN_ENUM):
        # a value outside a documented set is refused as the services refuse one: 422 naming the field
        return problem(422, detail, "validation_failed", field=first["field"], errors=problems)
    return problem(400, detail, code, field=first["field"] if first else None, errors=problems)


def http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    """Framework errors (unknown route, wrong method, bad token, ...)."""
    status = exc.status_code
    code = {
        400: "invalid_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        415: "unsupported_media_type",
        429: "too_many_requests",
    }.get(status, "http_error")
    detail = exc.detail if status < 500 else "internal error"
    response = problem(status, detail, code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def undecodable_body(_: Request, exc: UnicodeDecodeError) -> Response[dict[str, Any]]:
    """A body that is not valid UTF-8 (JSON must be)."""
    return problem(400, f"the request body is not valid UTF-8 (byte {exc.start})", "invalid_request")


def unstorable_text(_: Request, exc: asyncpg.PostgresError) -> Response[dict[str, Any]]:
    """Text PostgreSQL cannot hold (a NUL character): valid JSON, so the client's fault, not ours."""
    return problem(400, "text must not contain NUL (\\u0000) characters", "invalid_text")


def unexpected_error(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    """Anything unforeseen: log it whole, tell the client nothing internal."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal error; it has been logged", "internal_error")


EXCEPTION_HANDLERS = {
    errors.CaretakerError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    UnicodeDecodeError: undecodable_body,
    asyncpg.CharacterNotInRepertoireError: unstorable_text,
    asyncpg.UntranslatableCharacterError: unstorable_text,
    Exception: unexpected_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
