"""Promises made to owners on cases: make one on a work order, list a case's, mark one kept."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Body, FromPath

from backend.api.deps import Call
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.security import requires_role
from backend.domain.promises import PROMISE_ROLES, Promise, PromiseCreate, PromiseKeep
from backend.services import promises


class PromiseController(Controller):
    """承诺: what was promised to the owner, by when, by whom; kept or not."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["promises"]

    @get(
        "/work-orders/{work_order_id:uuid}/promises",
        summary="The promises made on a case, oldest first",
        # admins read them too (a case's detail shows them to whoever sees the case)
        guards=[requires_role(*sorted(PROMISE_ROLES | {"admin"}))],
    )
    async def list_promises(
        self, call: Call, work_order_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[Promise]:
        """Each with its state now: open, kept (on time or not), broken."""
        found = await promises.case_promises(
            call.conn, work_order_id=work_order_id, viewer=call.user, now=call.now()
        )
        return page_of(found, limit, offset)

    @post(
        "/work-orders/{work_order_id:uuid}/promises",
        summary="Record a promise made to the owner",
        guards=[requires_role(*sorted(PROMISE_ROLES))],
    )
    async def make_promise(
        self, call: Call, work_order_id: FromPath[UUID], data: Annotated[PromiseCreate, Body()]
    ) -> Response[Promise]:
        """What was promised and when it is due (ahead, within 30 days); the maker is reminded 15 min before
        it is due, and told with the supervisors once it is past due unkept."""
        return await call.once(
            lambda: promises.make_promise(
                call.conn, work_order_id=work_order_id, actor=call.user, data=data, now=call.now()
            ),
            status=201,
        )

    @post(
        "/promises/{promise_id:uuid}/keep",
        status_code=200,
        summary="Mark a promise kept",
        guards=[requires_role(*sorted(PROMISE_ROLES))],
    )
    async def keep_promise(
        self, call: Call, promise_id: FromPath[UUID], data: Annotated[PromiseKeep, Body()]
    ) -> Response[Promise]:
        """Once: a promise already kept is a 409."""
        return await call.once(
            lambda: promises.keep_promise(
                call.conn, promise_id=promise_id, actor=call.user, data=data, now=call.now()
            )
        )
