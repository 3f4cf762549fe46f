"""What the registry endpoints share: the admins-only guard, query and field types, what a DELETE answers,
the body of a PATCH and the fields it sent."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import Parameter

from backend.api.security import requires_role
from backend.domain.models import Model
from backend.domain.roles import Role

ADMIN_ONLY = [requires_role(Role.ADMIN)]

Search = Annotated[str | None, Parameter(max_length=100, description="case-insensitive search")]
SiteRef = Annotated[str | None, Parameter(max_length=64, description="site id or code")]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=32, pattern=r"^[0-9+\- ()]+$")]
Floors = Annotated[int, msgspec.Meta(ge=1, le=200)]
Floor = Annotated[int, msgspec.Meta(ge=-10, le=200)]
Area = Annotated[float, msgspec.Meta(ge=0, le=99_999)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Skill = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
UNSET = msgspec.UNSET
Unset = msgspec.UnsetType


class Removed(Model):
    """What a DELETE removed."""

    id: str
    removed: bool = True


def changes_to(create: type[Model], name: str, *, leave_out: tuple[str, ...] = ("site_id",)) -> type[Model]:
    """The body of a PATCH, `name`: each field of the `create` body but those left out, all optional (a field
    left unset is left unchanged, a null clears what may be null)."""
    fields = [
        (f.name, f.type | Unset, UNSET) for f in msgspec.structs.fields(create) if f.name not in leave_out
    ]
    body = msgspec.defstruct(name, fields, bases=(Model,), module=create.__module__)
    body.__doc__ = f"Changes to what {create.__name__} sets."
    return body


def patch_fields(patch_body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, by (snake_case) column name."""
    return {
        name: value
        for name in patch_body.__struct_fields__
        if (value := getattr(patch_body, name)) is not UNSET
    }
