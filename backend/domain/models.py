"""Structs shared across layers: what services return and the API serialises (camelCase on the wire)."""

from __future__ import annotations

from typing import Generic, TypeVar
from uuid import UUID

import msgspec

T = TypeVar("T")


class Model(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Base: camelCase JSON, keyword construction; a body with a field nobody knows is refused, naming it."""


class Page(Model, Generic[T], frozen=True):
    """One page of a list: {items, total, limit, offset}, the one wire shape of every list. A list with a
    name of its own in the API document subclasses it and names its items again, for the document's sake
    (`class AlarmPage(Page[Alarm]): items: list[Alarm]`)."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CurrentUser(Model, frozen=True):
    """The authenticated caller: identity, role and the sites they may see."""

    id: UUID
    username: str
    display_name: str
    role: str
    site_ids: tuple[UUID, ...]
    skills: tuple[str, ...] = ()
    on_duty: bool = False
    locale: str = "zh-CN"

    @property
    def is_admin(self) -> bool:
        """Admins look after the registry of every site."""
        return self.role == "admin"

    def may_see_site(self, site_id: UUID) -> bool:
        """True when the site is one of the caller's (admins see all)."""
        return self.is_admin or site_id in self.site_ids


class SiteRef(Model, frozen=True):
    """A site as other records name it: id, code, name and its time zone."""

    id: UUID
    code: str
    name: str
    timezone: str


class Me(CurrentUser, frozen=True, kw_only=True):
    """The signed-in user as their own screens need it: with the time zone of each of their sites, and the
    one their screens show times in (their first site's; None for an admin of no site in particular)."""

    time_zone: str | None = None
    site_time_zones: dict[str, str] = {}
