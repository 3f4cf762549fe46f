"""Asset (equipment) bodies: read and list by everyone on the site; admins create, change and delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from uuid import UUID

import msgspec

from backend.api.registry.common import Code, Days, Name, Text, changes_to
from backend.domain.client_input import Attributes
from backend.domain.models import Model
from backend.domain.registry import AssetKind


class AssetCreate(Model):
    """A new facility."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    kind: AssetKind
    building_id: UUID | None = None
    location: Text = ""
    parameters: Attributes = msgspec.field(default_factory=dict)
    maintenance_days: Days | None = None
    installed_on: dt.date | None = None


AssetUpdate = changes_to(AssetCreate, "AssetUpdate")
