"""Staff side of owners' messages: a case's messages and a reply (GET|POST /work-orders/{id}/owner-messages),
the failed messages of a site and a retry by hand (/owner-messages/failed, /owner-messages/{id}/retry)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, SiteQuery
from backend.api.security import requires_role
from backend.api.security_headers import CSP
from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.owner_messages import STAFF_REPLY_MAX
from backend.domain.roles import DESK_ROLES
from backend.services import owner_desk


class OwnerReply(ClientBody, frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=STAFF_REPLY_MAX)]
    client_at: ClientTime | None = None


class OwnerDeskController(Controller):
    path = "/api/v1"
    tags: ClassVar[list[str]] = ["owners"]
    guards: ClassVar[list] = [requires_role(*DESK_ROLES)]

    @get(
        "/work-orders/{work_order_id:uuid}/owner-messages", summary="A case's messages to and from its owners"
    )
    async def case_messages(
        self, call: Call, work_order_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        """Oldest first; `direction` out (a message, with its status) or in (what the owner told staff).
        Recipients are masked."""
        return await owner_desk.case_messages(call.conn, call.user, work_order_id, limit, offset)

    @post(
        "/work-orders/{work_order_id:uuid}/owner-messages",
        status_code=201,
        summary="Reply to a case's owners (SMS and email, through the outbox)",
    )
    async def reply(
        self, call: Call, work_order_id: FromPath[UUID], data: Annotated[OwnerReply, Body()]
    ) -> Response[Any]:
        return await call.once(
            lambda: owner_desk.reply(call.conn, call.user, work_order_id, data.text, call.now()), status=201
        )

    @post(
        "/work-orders/{work_order_id:uuid}/owner-messages/read",
        status_code=200,
        summary="Mark the owners' messages on a case read (the case was opened at the desk)",
    )
    async def read(self, call: Call, work_order_id: FromPath[UUID]) -> dict[str, Any]:
        """Pressing again changes nothing (there is nothing unread left)."""
        return await owner_desk.mark_read(call.conn, call.user, work_order_id, call.now())

    @get("/owner-messages/waiting", summary="Cases whose owners wait for an answer")
    async def waiting(
        self, call: Call, site: SiteQuery = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        return await owner_desk.waiting_for_answer(call.conn, call.user, site, limit, offset)

    @get("/owner-messages/failed", summary="Owners' messages that ended failed, the latest first")
    async def failed(
        self, call: Call, site: SiteQuery = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        return await owner_desk.failed_messages(call.conn, call.user, site, limit, offset)

    @post("/owner-messages/{message_id:str}/retry", status_code=200, summary="Send a failed message again")
    async def retry(self, call: Call, message_id: FromPath[str]) -> Response[Any]:
        """The same message back in the outbox for a new round of attempts: it still goes once. The id is
        the number the failed list gives."""
        return await call.once(
            lambda: owner_desk.retry(call.conn, call.user, owner_desk.message_number(message_id), call.now())
        )


class UnitLinkSheetController(Controller):
    path = "/api/v1/buildings"
    tags: ClassVar[list[str]] = ["owners"]
    guards: ClassVar[list] = [requires_role(*owner_desk.SHEET_ROLES)]

    @get(
        "/{building_id:uuid}/owner-link-sheet",
        summary="Printable QR codes of a building's unit links (HTML)",
        media_type="text/html",
    )
    async def sheet(self, call: Call, building_id: FromPath[UUID]) -> Response[str]:
        """One code per unit (its owner's page), the unit under each, on A4."""
        base = call.request.app.state.settings.reach_url
        page = await owner_desk.unit_link_sheet(call.conn, call.user, building_id, base)
        return Response(
            page,
            media_type="text/html",
            headers={"Cache-Control": "no-store", CSP: owner_desk.UNIT_SHEET_POLICY},
        )
