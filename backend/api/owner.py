"""The owner's page API (/api/v1/owner/...): outside staff auth; an owner signs in with a one-time SMS
code and then carries `Authorization: Bearer <owner token>`, which names one resident of one unit."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import Body, FromPath, Parameter

from backend.api.evidence import provide_storage
from backend.api.openapi import OwnerPhotoUpload
from backend.domain.client_input import ClientBody, ClientTime
from backend.domain.clock import Clock
from backend.errors import ValidationFailed
from backend.services import owner_portal
from backend.services.evidence import Storage

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]
Phone = Annotated[str, msgspec.Meta(min_length=7, max_length=20)]
Link = Annotated[str, msgspec.Meta(min_length=8, max_length=64)]


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


def _link_base(request: Request[Any, Any, Any]) -> str:
    return request.app.state.settings.reach_url


class OwnerController(Controller):
    path = "/api/v1/owner"
    tags: ClassVar[list[str]] = ["owners"]
    dependencies: ClassVar[dict[str, Provide]] = {"storage": Provide(provide_storage, sync_to_thread=False)}

    @get("/units/{link:str}", summary="The unit a printed link names (site, building, unit number)")
    async def unit(self, link: FromPath[str], conn: NamedDependency[asyncpg.Connection]) -> dict[str, Any]:
        return await owner_portal.unit_page(conn, link)

    @post("/codes", status_code=202, summary="Send a one-time sign-in code by SMS")
    async def codes(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[CodeRequest, Body()],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
    ) -> dict[str, str]:
        """The same answer whether or not the number lives there; the SMS goes only if it does."""
        address = request.app.state.client_address.of(request)
        await owner_portal.send_code(conn, link=data.link, phone=data.phone, address=address, now=clock.now())
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
    async def cases(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=100_000)] = 0,
    ) -> dict[str, Any]:
        owner = await owner_portal.owner_of(conn, _token(request), clock.now())
        return await owner_portal.list_cases(conn, owner, limit, offset)

    @get("/cases/{case_id:uuid}", summary="One of the unit's cases")
    async def case(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
    ) -> dict[str, Any]:
        owner = await owner_portal.owner_of(conn, _token(request), clock.now())
        return await owner_portal.get_case(conn, owner, case_id)

    @post("/cases", status_code=201, summary="Report a repair or file a complaint")
    async def report(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[OwnerReport, Body()],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
    ) -> dict[str, Any]:
        owner = await owner_portal.owner_of(conn, _token(request), clock.now())
        return await owner_portal.report(
            conn,
            owner,
            kind=data.kind,
            category=data.category,
            description=data.description,
            preferred_at=data.preferred_at,
            clock=clock,
            link_base=_link_base(request),
        )

    @post(
        "/cases/{case_id:uuid}/photos",
        status_code=201,
        summary="Attach a photo of the fault (multipart)",
        operation_class=OwnerPhotoUpload,
    )
    async def photo(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
        storage: NamedDependency[Storage],
    ) -> dict[str, Any]:
        """JPEG, PNG or WebP, checked and stripped of location like staff photos; up to 4 per case."""
        owner = await owner_portal.owner_of(conn, _token(request), clock.now())
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("attach the image as the multipart field `file`", field="file")
        return await owner_portal.add_photo(
            conn,
            storage,
            owner,
            case_id,
            data=await upload.read(),
            content_type=upload.content_type,
            filename=upload.filename,
            now=clock.now(),
        )

    @post(
        "/cases/{case_id:uuid}/rating", status_code=200, summary="Rate finished work (counts as the callback)"
    )
    async def rate(
        self,
        request: Request[Any, Any, Any],
        case_id: FromPath[UUID],
        data: Annotated[OwnerRating, Body()],
        conn: NamedDependency[asyncpg.Connection],
        clock: NamedDependency[Clock],
    ) -> dict[str, Any]:
        owner = await owner_portal.owner_of(conn, _token(request), clock.now())
        return await owner_portal.rate(conn, owner, case_id, msgspec.to_builtins(data), clock.now())
