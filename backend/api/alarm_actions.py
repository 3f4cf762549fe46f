"""POST /alarms/{id}/ack and /alarms/{id}/resolve: the people on site answering an alarm."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Response, post
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.security import requires_role
from backend.domain.alarms import Alarm
from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.roles import Role
from backend.services import alarm_response

# Guards answer alarms first; technicians on the spot and the people above them may too. Desk agents do not.
RESPONDER_ROLES = (Role.GUARD, Role.TECHNICIAN, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)


class AlarmResolution(ClientBody):
    """What the responder found (optional), and when on the phone it was resolved."""

    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    client_at: ClientTime | None = None


class AlarmActionController(Controller):
    """Acknowledge and resolve alarms."""

    path = "/api/v1/alarms"
    tags: ClassVar[list[str]] = ["alarms"]
    guards: ClassVar[list[Any]] = [requires_role(*RESPONDER_ROLES)]

    @post("/{alarm_id:uuid}/ack", status_code=200, summary="Acknowledge an alarm (stops its escalation)")
    async def acknowledge(self, call: Call, alarm_id: FromPath[UUID]) -> Response[Alarm]:
        """Take the alarm on; the time from raise to acknowledgement is kept for the KPIs."""
        return await call.once(
            lambda: alarm_response.acknowledge_alarm(call.conn, call.user, alarm_id, now=call.now())
        )

    @post("/{alarm_id:uuid}/resolve", status_code=200, summary="Resolve an alarm")
    async def resolve(
        self, call: Call, alarm_id: FromPath[UUID], data: Annotated[AlarmResolution | None, Body()] = None
    ) -> Response[Alarm]:
        """Close the alarm as dealt with, with an optional note."""
        note = data.note if data is not None else None
        return await call.once(
            lambda: alarm_response.resolve_alarm(call.conn, call.user, alarm_id, now=call.now(), note=note)
        )
