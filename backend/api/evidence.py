"""Evidence endpoints: photo upload and download, the owner's signature, the service record and its check."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import SerializationException
from litestar.params import FromPath, Parameter

from backend.api.deps import Call
from backend.api.openapi import PhotoUpload, SignatureUpload
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.security import requires_role
from backend.api.security_headers import CSP, RECEIPT_POLICY
from backend.api.uploads import BLOB_CACHE_CONTROL, STORAGE, file_bytes, form_fields, read_form, required_file
from backend.domain.client_input import ClientBody, ClientTime, ShortText
from backend.domain.roles import EVIDENCE_ROLES
from backend.domain.work_orders import Photo
from backend.errors import UnsupportedMedia, ValidationFailed
from backend.services import evidence, receipt
from backend.services.evidence import Storage


class PhotoForm(ClientBody, frozen=True):
    """The text fields of a photo upload; the image itself is the multipart field `file`."""

    stage: Annotated[str, msgspec.Meta(max_length=16)] = ""
    client_at: ClientTime | None = None


class SignatureForm(ClientBody, frozen=True):
    """The text fields of a signature (multipart, with the image as `file`) or of a reason (JSON)."""

    signer_name: ShortText | None = None
    relation: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    no_sign_reason: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    client_at: ClientTime | None = None


# What a photo or signature upload that is no multipart form is told (415).
NOT_MULTIPART = "send multipart/form-data with the image in the field `file`"


def _blob_response(blob: evidence.Blob, request: Request[Any, Any, Any]) -> Response[bytes]:
    etag = f'"{blob.sha256}"'
    headers = {"Cache-Control": BLOB_CACHE_CONTROL, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    return Response(blob.data, media_type=blob.media_type, headers=headers)


class EvidenceController(Controller):
    """Photos, signature, receipt and verification of a work order."""

    path = "/api/v1"
    tags: ClassVar[list[str]] = ["evidence"]
    dependencies: ClassVar[dict[str, Provide]] = STORAGE

    @post(
        "/work-orders/{work_order_id:uuid}/photos",
        guards=[requires_role(*EVIDENCE_ROLES)],
        status_code=201,
        summary="Upload a photo (multipart: file, stage=before|during|after, optional clientAt)",
        operation_class=PhotoUpload,
    )
    async def upload_photo(
        self, call: Call, work_order_id: FromPath[UUID], storage: NamedDependency[Storage]
    ) -> Response[Photo]:
        """JPEG, PNG or WebP up to 15 MB; the same bytes at the same stage are one photo."""
        form = await read_form(call.request, NOT_MULTIPART)
        data, content_type, filename = await required_file(form)
        fields = form_fields(form, PhotoForm)

        async def action() -> Photo:
            return await evidence.upload_photo(
                call.conn,
                storage,
                work_order_id=work_order_id,
                actor=call.user,
                stage=fields.stage,
                data=data,
                content_type=content_type,
                filename=filename,
                client_at=fields.client_at,
                now=call.now(),
            )

        return await call.once(action, status=201)

    @get("/work-orders/{work_order_id:uuid}/photos", summary="A work order's photos")
    async def list_photos(
        self, call: Call, work_order_id: FromPath[UUID], limit: Limit = 50, offset: Offset = 0
    ) -> Page[Photo]:
        """Metadata and URLs of the photos, before → during → after."""
        return page_of(await evidence.list_photos(call.conn, work_order_id, call.user), limit, offset)

    @get("/photos/{photo_id:uuid}", summary="A photo's original bytes")
    async def photo(
        self, call: Call, photo_id: FromPath[UUID], storage: NamedDependency[Storage]
    ) -> Response[bytes]:
        """The image as uploaded, for staff of the work order's site."""
        blob = await evidence.photo_bytes(call.conn, storage, photo_id, call.user, thumbnail=False)
        return _blob_response(blob, call.request)

    @get("/photos/{photo_id:uuid}/thumb", summary="A photo's 320 px WebP thumbnail")
    async def thumbnail(
        self, call: Call, photo_id: FromPath[UUID], storage: NamedDependency[Storage]
    ) -> Response[bytes]:
        """The thumbnail, upright (EXIF orientation applied)."""
        blob = await evidence.photo_bytes(call.conn, storage, photo_id, call.user, thumbnail=True)
        return _blob_response(blob, call.request)

    @post(
        "/work-orders/{work_order_id:uuid}/sign",
        guards=[requires_role(*EVIDENCE_ROLES)],
        status_code=200,
        summary="Sign a completed job: multipart (file=PNG, signerName, relation) or noSignReason",
        operation_class=SignatureUpload,
    )
    async def sign(
        self, call: Call, work_order_id: FromPath[UUID], storage: NamedDependency[Storage]
    ) -> Response[evidence.SignatureView]:
        """Store the signature and the hash of the record it binds; the job becomes signed."""
        request = call.request
        media_type = request.content_type[0] or ""
        if media_type.startswith("multipart/form-data"):
            raw = await read_form(request, NOT_MULTIPART)
            upload = await file_bytes(raw.get("file"))
        elif media_type == "application/json":
            try:
                body = await request.json()
            except SerializationException:
                raise ValidationFailed("the body is not valid JSON", field="body") from None
            if not isinstance(body, dict):
                raise ValidationFailed("the body must be a JSON object", field="body")
            raw, upload = body, None
            if "file" in body or "signature" in body:
                raise ValidationFailed("send the signature image as multipart/form-data", field="file")
        else:
            raise UnsupportedMedia("send multipart/form-data (with a signature) or JSON (with noSignReason)")
        png, content_type, filename = upload if upload else (None, None, None)
        fields = form_fields(raw, SignatureForm)

        async def action() -> evidence.SignatureView:
            return await evidence.sign_work_order(
                call.conn,
                storage,
                work_order_id=work_order_id,
                actor=call.user,
                signature_png=png,
                content_type=content_type,
                filename=filename,
                signer_name=fields.signer_name,
                relation=fields.relation,
                no_sign_reason=fields.no_sign_reason,
                client_at=fields.client_at,
                now=call.now(),
            )

        return await call.once(action)

    @get(
        "/work-orders/{work_order_id:uuid}/receipt",
        summary="The printable service record (HTML, ?lang=zh-CN|en)",
        media_type="text/html",
    )
    async def receipt(
        self,
        call: Call,
        work_order_id: FromPath[UUID],
        storage: NamedDependency[Storage],
        lang: receipt.ReceiptLanguage | None = Parameter(query="lang", default=None),
    ) -> Response[str]:
        """The job, timeline, checklist, photos, signature, record hash and a QR code of the check URL."""
        page = await receipt.render_receipt(
            call.conn,
            storage,
            work_order_id=work_order_id,
            viewer=call.user,
            lang=lang or ("en" if call.user.locale.startswith("en") else "zh-CN"),
            public_url=call.request.app.state.settings.reach_url,
            now=call.now(),
        )
        return Response(
            page,
            media_type="text/html",  # Litestar adds "; charset=utf-8": one charset, not two
            headers={"Cache-Control": "no-store", CSP: RECEIPT_POLICY},
        )

    @get(
        "/work-orders/{work_order_id:uuid}/verify",
        exclude_from_auth=True,
        summary="Public: does the signed record still match its hash?",
    )
    async def verify(
        self, work_order_id: FromPath[UUID], conn: NamedDependency[asyncpg.Connection]
    ) -> evidence.Verification:
        """Recompute the record hash from the stored rows; reveals only result, hashes, number and time."""
        return await evidence.verify_record(conn, work_order_id)
