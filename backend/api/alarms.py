"""Alarm reading endpoints: the list (active ones, one site) and one alarm with its history."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, Parameter

from backend.api.deps import Call
from backend.domain.alarms import AlarmDetail, AlarmPage
from backend.services import alarms

# A guard-room screen shows the latest alarms; a page this size never needs scrolling to find a new one.
DEFAULT_PAGE = 100
MAX_PAGE = 200  # the same cap as every other list


class AlarmController(Controller):
    """GET /api/v1/alarms and /api/v1/alarms/{id}; acknowledging and resolving live in alarm_actions."""

    path = "/api/v1/alarms"
    tags: ClassVar[list[str]] = ["alarms"]

    @get("/", summary="Alarms of the caller's sites, newest first")
    async def list_alarms(
        self,
        call: Call,
        active: bool | None = None,
        site: str | None = Parameter(default=None, max_length=64, description="site id or code"),
        limit: int = Parameter(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE),
        offset: int = Parameter(default=0, ge=0, le=10_000_000),  # beyond bigint it would be a 500
    ) -> AlarmPage:
        """`active=true` for what still needs attention; `site` (code or id) narrows to one site."""
        return await alarms.list_alarms(
            call.conn, call.user, site=site, active=active, limit=limit, offset=offset
        )

    @get("/{alarm_id:uuid}", summary="One alarm with its history")
    async def get_alarm(self, call: Call, alarm_id: FromPath[UUID]) -> AlarmDetail:
        """The alarm, its events (raised, repeated, cleared, acked, ...) and its work order id."""
        return await alarms.get_alarm(call.conn, call.user, alarm_id)
