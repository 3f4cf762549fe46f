"""One wire shape for every list: {items, total, limit, offset}, with the same bounds on limit and offset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar

from litestar.params import Parameter

from backend.domain.models import Page

T = TypeVar("T")

MAX_LIMIT = 200

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="page size (1-200)")]
Offset = Annotated[int, Parameter(ge=0, le=10_000_000, description="rows to skip")]
# The site a list is of: the caller's only site when left out.
SiteQuery = Annotated[str | None, Parameter(description="site code or id")]
SiteRef = Annotated[str | None, Parameter(max_length=64, description="site id or code")]


def page_of(items: Sequence[T], limit: int, offset: int) -> Page[T]:
    """A page cut from a list that is short by nature (a job's photos, a unit's residents, ranked technicians,
    a site's plans), so it is read whole and cut here rather than counted twice in SQL."""
    return Page(items=list(items[offset : offset + limit]), total=len(items), limit=limit, offset=offset)
