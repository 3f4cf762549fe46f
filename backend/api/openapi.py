"""The OpenAPI document (/schema/openapi.json) says what the server really accepts and answers.

Litestar writes most of it from the handlers' types; this module adds what it cannot see:
- a body Struct that refuses unknown fields is an object with `additionalProperties: false`;
- the bearer token is required exactly where the app asks for one (public routes declare no security);
- every operation documents its problem+json answers;
- photo and signature uploads, which read the multipart form themselves, document that form.
The fuzzer (tests/abuse/test_schemathesis.py) checks the server against this document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_args

import msgspec
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.typing import FieldDefinition

from backend.api.problems import PROBLEM_RESPONSES
from backend.domain.client_input import EARLIEST_CLIENT_TIME, LATEST_CLIENT_TIME
from backend.domain.evidence import NO_SIGN_REASONS, RELATIONS, STAGES
from backend.domain.rounds import Result as ScanResult
from backend.domain.safety_checks import Outcome as SafetyCheckOutcome
from backend.domain.safety_checks import RiskLevel as SafetyCheckRisk
from backend.domain.workflow import Kind, Status

BEARER = "BearerToken"


def listing(values: Iterable[str]) -> str:
    """A pattern for a comma-separated list of these values (`status=new,assigned`)."""
    one = "|".join(values)
    return f"^({one})(,({one}))*$"


# Comma-separated query filters are checked by the services (a 422 naming the field); the document says what
# they accept.
STATUS_LIST = {"pattern": listing(Status)}
KIND_LIST = {"pattern": listing(Kind)}
# A calendar day in a query (the window 2000-2100 is checked by the service).
DAY = {"format": OpenAPIFormat.DATE}
# An RFC 3339 time inside the client window [2000, 2100): the year is what the format cannot say.
CLIENT_TIME_PATTERN = r"^20[0-9]{2}-"


class StrictStructSchema(StructSchemaPlugin):
    """Structs as Litestar draws them, closed to unknown fields when the Struct refuses them."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """The Struct's schema, with additionalProperties false for forbid_unknown_fields."""
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct = field_definition.type_
        if struct.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        for field in msgspec.inspect.type_info(struct).fields:  # type: ignore[union-attr]
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _add_missing_bounds(prop, _unwrap(field.type))
        return schema


def _unwrap(info: Any) -> Any:
    """The type inside `X | None`."""
    if isinstance(info, msgspec.inspect.UnionType):
        inner = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        if len(inner) == 1:
            return inner[0]
    return info


def _add_missing_bounds(prop: Schema, info: Any) -> None:
    """What Litestar drops: a bound of 0 on a number (it tests the bound for truth), the bounds of a list's
    texts, the keys of a map."""
    if isinstance(info, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        if info.ge == 0 and prop.minimum is None:
            prop.minimum = 0
        if info.gt == 0 and prop.exclusive_minimum is None:
            prop.exclusive_minimum = 0
    item = info.item_type if isinstance(info, msgspec.inspect.ListType) else None
    if isinstance(item, msgspec.inspect.Metadata):  # a text type with examples or a description
        item = item.type
    if isinstance(item, msgspec.inspect.StrType):
        arrays = [prop, *(s for s in prop.one_of or () if isinstance(s, Schema))]
        for items in (a.items for a in arrays if isinstance(a.items, Schema)):
            items.min_length = items.min_length or item.min_length
            items.max_length = items.max_length or item.max_length
            items.pattern = items.pattern or item.pattern
    if isinstance(info, msgspec.inspect.DictType) and isinstance(info.key_type, msgspec.inspect.StrType):
        key = info.key_type
        if key.min_length or key.max_length or key.pattern:
            prop.property_names = Schema(
                type=OpenAPIType.STRING,
                min_length=key.min_length,
                max_length=key.max_length,
                pattern=key.pattern,
            )


def client_time_schema() -> Schema:
    """A ClientTime: an RFC 3339 date-time with an offset, inside the client window."""
    return Schema(
        type=OpenAPIType.STRING,
        format=OpenAPIFormat.DATE_TIME,
        pattern=CLIENT_TIME_PATTERN,
        description=(
            f"RFC 3339 with a UTC offset, from {EARLIEST_CLIENT_TIME.date().isoformat()} "
            f"to before {LATEST_CLIENT_TIME.date().isoformat()}"
        ),
    )


def _text(max_length: int, values: Iterable[str] | None = None) -> Schema:
    if values is not None:
        return Schema(type=OpenAPIType.STRING, enum=list(values))
    return Schema(type=OpenAPIType.STRING, max_length=max_length)


def _image(description: str) -> Schema:
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)


# The multipart forms of backend/api/evidence.py (PhotoForm, SignatureForm) with their image field.
PHOTO_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file", "stage"],
    properties={
        "file": _image("JPEG, PNG or WebP, up to 15 MB"),
        "stage": _text(16, STAGES),
        "clientAt": client_time_schema(),
    },
    additional_properties=False,
)
SIGNATURE_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={
        "file": _image("the owner's signature, PNG"),
        "signerName": Schema(type=OpenAPIType.STRING, min_length=1, max_length=100),
        "relation": _text(32, RELATIONS),
        "clientAt": client_time_schema(),
    },
    additional_properties=False,
)
NO_SIGNATURE = Schema(
    type=OpenAPIType.OBJECT,
    required=["noSignReason"],
    properties={"noSignReason": _text(64, NO_SIGN_REASONS), "clientAt": client_time_schema()},
    additional_properties=False,
)

# A round's scan (backend/api/rounds.py): the decoded code and the finding, with an optional photo.
SCAN_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["qr"],
    properties={
        "qr": Schema(type=OpenAPIType.STRING, min_length=1, max_length=200),
        "result": _text(16, get_args(ScanResult)),
        "note": Schema(type=OpenAPIType.STRING, max_length=1000),
        "clientAt": client_time_schema(),
        "file": _image("optional photo of what was found: JPEG, PNG or WebP, up to 15 MB"),
    },
    additional_properties=False,
)
# One point of the quarterly safety check (backend/api/safety_checks.py).
SAFETY_CHECK_ANSWER_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["outcome"],
    properties={
        "outcome": _text(16, get_args(SafetyCheckOutcome)),
        "note": Schema(type=OpenAPIType.STRING, max_length=1000),
        "riskLevel": _text(16, get_args(SafetyCheckRisk)),
        "clientAt": client_time_schema(),
        "file": _image("optional photo of the finding: JPEG, PNG or WebP, up to 15 MB"),
    },
    additional_properties=False,
)
# An owner's photo of their case (backend/api/owner.py).
OWNER_PHOTO_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={"file": _image("JPEG, PNG or WebP, up to 15 MB")},
    additional_properties=False,
)


def _multipart(schema: Schema) -> RequestBody:
    return RequestBody(required=True, content={"multipart/form-data": OpenAPIMediaType(schema=schema)})


@dataclass
class ScanUpload(Operation):
    """A scan's operation: a multipart form."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(SCAN_FORM)


@dataclass
class SafetyCheckAnswerUpload(Operation):
    """A quarterly check point's answer: a multipart form."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(SAFETY_CHECK_ANSWER_FORM)


@dataclass
class OwnerPhotoUpload(Operation):
    """An owner's photo upload: a multipart form."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(OWNER_PHOTO_FORM)


@dataclass
class HazardPhotoUpload(Operation):
    """A hazard's photo: a multipart form with the image in `file`."""

    def __post_init__(self) -> None:
        self.request_body = _multipart(OWNER_PHOTO_FORM)


@dataclass
class PhotoUpload(Operation):
    """The photo upload's operation: a multipart form."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True, content={"multipart/form-data": OpenAPIMediaType(schema=PHOTO_FORM)}
        )


@dataclass
class SignatureUpload(Operation):
    """The signature's operation: a multipart form with the image, or JSON with the reason there is none."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(schema=SIGNATURE_FORM),
                "application/json": OpenAPIMediaType(schema=NO_SIGNATURE),
            },
        )


def document_operations(app: Litestar, public_paths: Iterable[str]) -> None:
    """Problem answers on every operation (a handler's own declarations win), and the bearer token on every
    operation the app guards, none on the public ones."""
    public = [re.compile(p) for p in public_paths]
    assert app.openapi_config is not None
    app.openapi_config.security = None  # per operation instead: a public route must not claim to need a token
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if not (isinstance(handler, HTTPRouteHandler) and handler.include_in_schema):
                continue
            handler.responses = {**PROBLEM_RESPONSES, **(handler.responses or {})}
            is_public = handler.opt.get("exclude_from_auth") or any(p.search(route.path) for p in public)
            if not is_public:
                handler.security = [{BEARER: []}]
