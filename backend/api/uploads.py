"""Uploaded forms and photos, and the photos sent back: one way for the work order, round, safety-check,
hazard and owner endpoints that take a multipart `file`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.datastructures import State, UploadFile
from litestar.di import Provide
from litestar.exceptions import ValidationException

from backend.domain.client_input import ClientBody, convert_client_input
from backend.errors import UnsupportedMedia, ValidationFailed
from backend.services.evidence import Storage

FormT = TypeVar("FormT", bound=ClientBody)

# An uploaded file: its bytes, the content type and the file name the browser gave.
Upload = tuple[bytes, str | None, str | None]

MULTIPART = ("multipart/form-data",)
# Forms whose photo is optional may come without one, urlencoded.
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
NO_FILE = "attach the image as the multipart field `file`"

# Blobs never change under a given URL (content-addressed), but they are personal data: the phone may
# keep them, shared caches may not.
BLOB_CACHE_CONTROL = "private, max-age=31536000, immutable"

# msgspec's message ends with where the bad value is: "... - at `$.clientAt`".
_AT_PATH = re.compile(r"^(?P<message>.*) - at `\$\.?(?P<field>[^`]*)`$")


def provide_storage(state: State) -> Storage:
    """The app's blob store, built in the lifespan (backend/app.py)."""
    return state.storage


# The dependencies of a Controller whose handlers read or write blobs.
STORAGE = {"storage": Provide(provide_storage, sync_to_thread=False)}


async def read_form(
    request: Request[Any, Any, Any], refusal: str, types: tuple[str, ...] = MULTIPART
) -> dict[str, Any]:
    """The request's form fields; a 415 `not_multipart` saying `refusal` when it is no form of `types`."""
    if not (request.content_type[0] or "").startswith(types):
        raise UnsupportedMedia(refusal, code="not_multipart")
    return dict((await request.form()).items())


async def file_bytes(value: Any) -> Upload | None:
    """The uploaded file of a form field, or None when the field holds no file."""
    if isinstance(value, UploadFile):
        return await value.read(), value.content_type, value.filename
    return None


async def required_file(form: Mapping[str, Any], message: str = NO_FILE, code: str | None = None) -> Upload:
    """The form's `file`; a 400 naming the field when there is none."""
    upload = await file_bytes(form.get("file"))
    if upload is None:
        raise ValidationFailed(message, field="file", code=code)
    return upload


def form_fields(raw: dict[str, Any], form: type[FormT]) -> FormT:
    """The form's text fields as a checked Struct (an empty field counts as left out); a 400 naming the
    field otherwise, as for a JSON body."""
    given = {k: v for k, v in raw.items() if k != "file" and v != ""}
    try:
        return convert_client_input(given, form)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        field, message = (match["field"], match["message"]) if match else ("", str(exc))
        raise ValidationException(
            f"{field or 'form'}: {message}", extra=[{"key": field, "message": message, "source": "body"}]
        ) from None


async def form_with_photo(
    request: Request[Any, Any, Any], what: str, form: type[FormT]
) -> tuple[FormT, Upload | None]:
    """The checked fields of a form that may carry a photo as `file` (multipart) or come without one."""
    raw = await read_form(
        request, f"send the {what} as a form (multipart with a photo in `file`)", FORM_TYPES
    )
    photo = await file_bytes(raw.get("file"))
    return form_fields(raw, form), photo


def photo_response(data: bytes, media_type: str, sha: str) -> Response[bytes]:
    """A stored photo, cached by the phone under its content hash."""
    return Response(
        data, media_type=media_type, headers={"Cache-Control": BLOB_CACHE_CONTROL, "ETag": f'"{sha}"'}
    )
