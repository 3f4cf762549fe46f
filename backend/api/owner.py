"""The owner's page API (/api/v1/owner/...): outside staff auth; an owner signs in with a one-time SMS
code and then carries `Authorization: Bearer <owner token>`, which names one resident of one unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, HeaderParameter, Parameter

from backend.api.openapi import OwnerPhotoUpload
from backend.api.uploads import STORAGE, required_file
from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.clock import Clock
from backend.domain.feedback import FeedbackKind
from backend.domain.owner_messages import OWNER_NOTE_MAX
from backend.services import owner_conversation, owner_portal
from backend.services.evidence import Storage

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Phone = Annotated[str, msgspec.Meta(min_length=7, max_length=20)]
Link = Annotated[str, msgspec.Meta(min_length=8, max_length=64)]
OwnerLimit = Annotated[int, Parameter(ge=1, le=100)]
OwnerOffset = Annotated[int, Parameter(ge=0, le=100_000)]


class CodeRequest(ClientBody, frozen=True):
    link: Link
    phone: Phone


class SignIn(ClientBody, frozen=True):
    link: Link
    phone: Phone
    code: Annotated[str, msgspec.Meta(min_length=4, max_length=8)]


class OwnerReport(ClientBody, frozen=True):
    kind: owner_portal.OwnerKind
    category: Annotated[str, msgspec.Meta(max_length=40)]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    preferred_at: ClientTime | None = None


class OwnerFeedback(ClientBody, frozen=True):
    kind: FeedbackKind
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class OwnerCaseMessage(ClientBody, frozen=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=OWNER_NOTE_MAX)]


class OwnerRating(ClientBody, frozen=True):
    satisfaction: Score
    speed: Score | None = None
    attitude: Score | None = None
    quality: Score | None = None
    recommend: Annotated[int, msgspec.Meta(ge=0, le=10)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


def _token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials if scheme.lower() == "bearer" and credentials else None


@dataclass(frozen=True, slots=True)
class OwnerCallContext:
    """What an owner's handler works with: the request, its transaction and the clock."""

    request: Request[Any, Any, Any]
    conn: asyncpg.Connection
    clock: Clock

    def now(self) -> datetime:
        """The app's time now."""
        return self.clock.now()

    async def owner(self) -> asyncpg.Record:
        """The signed-in owner the bearer token names (401 `owner_signed_out` without one). Asked for by the
        handler, after the body is read, so a bad body is a 400 whoever sends it."""
        return await owner_portal.owner_of(self.conn, _token(self.request), self.now())


def provide_owner_call(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], clock: NamedDependency[Clock]
) -> OwnerCallContext:
    """The request's call (provided as `call` to the owner's handlers)."""
    return OwnerCallContext(request, conn, clock)


# An owner's handler's `call` parameter, named as the dependency it is.
OwnerCall = NamedDependency[OwnerCallContext]


class OwnerController(Controller):
    path = "/api/v1/owner"
    tags: ClassVar[list[str]] = ["owners"]
    dependencies: ClassVar[dict[str, Provide]] = {
        **STORAGE,
        "call": Provide(provide_owner_call, sync_to_thread=False),
    }

    @get("/units/{link:str}", summary="The unit a printed link names (site, building, unit number)")
    async def unit(self, link: FromPath[str], conn: NamedDependency[asyncpg.Connection]) -> dict[str, Any]:
        return await owner_portal.unit_page(conn, link)

    @post("/codes", status_code=202, summary="Send a one-time sign-in code by SMS")
    async def codes(self, call: OwnerCall, data: Annotated[CodeRequest, Body()]) -> dict[str, str]:
        """The same answer whether or not the number lives there; the SMS goes only if it does."""
        address = call.request.app.state.client_address.of(call.request)
        await owner_portal.send_code(
            call.conn, link=data.link, phone=data.phone, address=address, now=call.now()
        )
        return {"status": "sent-if-registered"}

    @post("/sessions", status_code=200, summary="Sign in with the code")
    async def sign_in(
        self, request: Request[Any, Any, Any], data: Annotated[SignIn, Body()], clock: NamedDependency[Clock]
    ) -> dict[str, Any]:
        """Outside the request transaction: a wrong guess is recorded even though the request fails."""
        address = request.app.state.client_address.of(request)
        async with request.app.state.pool.acquire() as conn:
            return await owner_portal.sign_in(
                conn, link=data.link, phone=data.phone, code=data.code, address=address, now=clock.now()
            )

    @get("/cases", summary="The unit's cases, newest first")
    async def cases(self, call: OwnerCall, limit: OwnerLimit = 20, offset: OwnerOffset = 0) -> dict[str, Any]:
        return await owner_portal.list_cases(call.conn, await call.owner(), limit, offset)

    @get("/cases/{case_id:uuid}", summary="One of the unit's cases")
    async def case(self, call: OwnerCall, case_id: FromPath[UUID]) -> dict[str, Any]:
        return await owner_portal.get_case(call.conn, await call.owner(), case_id)

    @post("/cases", status_code=201, summary="Report a repair or file a complaint")
    async def report(self, call: OwnerCall, data: Annotated[OwnerReport, Body()]) -> dict[str, Any]:
        return await owner_portal.report(
            call.conn,
            await call.owner(),
            kind=data.kind,
            category=data.category,
            description=data.description,
            preferred_at=data.preferred_at,
            clock=call.clock,
            link_base=call.request.app.state.settings.reach_url,
        )

    @post(
        "/cases/{case_id:uuid}/photos",
        status_code=201,
        summary="Attach a photo of the fault (multipart)",
        operation_class=OwnerPhotoUpload,
    )
    async def photo(
        self, call: OwnerCall, case_id: FromPath[UUID], storage: NamedDependency[Storage]
    ) -> dict[str, Any]:
        """JPEG, PNG or WebP, checked and stripped of location like staff photos; up to 4 per case."""
        owner = await call.owner()
        data, content_type, filename = await required_file(await call.request.form())
        return await owner_portal.add_photo(
            call.conn,
            storage,
            owner,
            case_id,
            data=data,
            content_type=content_type,
            filename=filename,
            now=call.now(),
        )

    @post(
        "/cases/{case_id:uuid}/rating", status_code=200, summary="Rate finished work (counts as the callback)"
    )
    async def rate(
        self, call: OwnerCall, case_id: FromPath[UUID], data: Annotated[OwnerRating, Body()]
    ) -> dict[str, Any]:
        owner = await call.owner()
        return await owner_portal.rate(call.conn, owner, case_id, msgspec.to_builtins(data), call.now())

    @post("/cases/{case_id:uuid}/confirmation", status_code=200, summary="Confirm the work is done")
    async def confirm(self, call: OwnerCall, case_id: FromPath[UUID]) -> dict[str, Any]:
        """Once per case, separately from the rating; staff see it in the case's owner messages."""
        return await owner_portal.confirm(call.conn, await call.owner(), case_id, call.now())

    @get("/feedback", summary="The unit's suggestions and praise, newest first, with the staff's answers")
    async def feedback(
        self, call: OwnerCall, limit: OwnerLimit = 20, offset: OwnerOffset = 0
    ) -> dict[str, Any]:
        return await owner_portal.list_owner_feedback(call.conn, await call.owner(), limit, offset)

    @post("/feedback", status_code=201, summary="File a suggestion or praise (建议/表扬)")
    async def file_feedback(
        self,
        call: OwnerCall,
        data: Annotated[OwnerFeedback, Body()],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False, min_length=1, max_length=200)
        ] = None,
    ) -> dict[str, Any]:
        """Goes to the site's supervisor with channel `app`; the same Idempotency-Key files it once."""
        return await owner_portal.file_owner_feedback(
            call.conn,
            await call.owner(),
            kind=data.kind,
            text=data.text,
            request_key=idempotency_key,
            now=call.now(),
        )

    @get("/cases/{case_id:uuid}/messages", summary="The conversation on one of the unit's cases")
    async def case_thread(self, call: OwnerCall, case_id: FromPath[UUID]) -> dict[str, Any]:
        """The owner's own messages and the staff's replies (role and name only), times in the site's zone."""
        return await owner_conversation.thread(call.conn, await call.owner(), case_id)

    @post("/cases/{case_id:uuid}/messages", status_code=201, summary="Write to the staff about a case")
    async def write_message(
        self,
        call: OwnerCall,
        case_id: FromPath[UUID],
        data: Annotated[OwnerCaseMessage, Body()],
        idempotency_key: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False, min_length=1, max_length=200)
        ] = None,
    ) -> dict[str, Any]:
        """Kept on the case once per Idempotency-Key; the handler (or the site's agents) is told once.
        Answers the thread."""
        return await owner_conversation.write(
            call.conn,
            await call.owner(),
            case_id,
            text=data.text,
            request_key=idempotency_key,
            now=call.now(),
        )
