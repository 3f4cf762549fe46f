"""Site endpoints: everyone reads their own sites; admins create them and change their settings."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Response, post
from litestar.params import Body

from backend.api.deps import Call
from backend.api.registry.common import ADMIN_ONLY, UNSET, Name, Unset
from backend.domain.models import Model
from backend.domain.registry import Site
from backend.domain.site_settings import SiteSettings
from backend.services import registry as svc


class SiteCreate(Model):
    """A new estate."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
    name: Name
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


class SiteUpdate(Model):
    """Changes to an estate."""

    name: Name | Unset = UNSET
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | Unset = UNSET
    # replaces the stored settings; a key left out takes the company default
    settings: SiteSettings | Unset = UNSET


@post("/api/v1/sites", guards=ADMIN_ONLY, summary="Create a site", tags=["registry"])
async def create_site(call: Call, data: Annotated[SiteCreate, Body()]) -> Response[Site]:
    """A new estate (admins)."""
    return await call.once(
        lambda: svc.create_site(call.conn, code=data.code, name=data.name, timezone=data.timezone), status=201
    )
