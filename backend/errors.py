"""Domain exceptions. They say what went wrong in the business's terms; the API maps them to HTTP once."""

from __future__ import annotations

from typing import Any


class CaretakerError(Exception):
    """Base of every error a client can cause; `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra or {}


class NotFound(CaretakerError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"


class Forbidden(CaretakerError):
    """The caller's role or sites do not allow this."""

    code = "forbidden"


class Unauthorized(CaretakerError):
    """No valid credentials."""

    code = "unauthorized"


class ValidationFailed(CaretakerError):
    """The request is well-formed but a value is not acceptable; `field` names it."""

    code = "validation_failed"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, code=code, extra={**({"field": field} if field else {}), **(extra or {})})
        self.field = field


class Conflict(CaretakerError):
    """The request clashes with the current state (a duplicate, a stale action)."""

    code = "conflict"


class InvalidTransition(Conflict):
    """The action is not allowed from the work order's current status."""

    code = "invalid_transition"


class TooManyRequests(CaretakerError):
    """The caller must slow down (login throttling)."""

    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retryAfter": retry_after})
        self.retry_after = retry_after


class PayloadTooLarge(CaretakerError):
    """The body is larger than this endpoint accepts."""

    code = "payload_too_large"


class UnsupportedMedia(CaretakerError):
    """The upload is not a kind of file this endpoint accepts."""

    code = "unsupported_media_type"
