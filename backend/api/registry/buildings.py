"""Building bodies: read and list by everyone on the site; admins create, change and delete."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.api.registry.common import Code, Floors, Name, changes_to
from backend.domain.models import Model


class BuildingCreate(Model):
    """A new building."""

    site_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    code: Code
    name: Name
    floors: Floors = 1


BuildingUpdate = changes_to(BuildingCreate, "BuildingUpdate")
