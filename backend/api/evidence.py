"""Evidence endpoints: photo upload and download, the owner's signature, the service record and its check."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, TypeVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import SerializationException, ValidationException
from litestar.params import FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.openapi import PhotoUpload, SignatureUpload
from backend.api.paging import Limit, Offset, Page, page_of
from backend.api.security import requires_role
from backend.api.security_headers import CSP, RECEIPT_POLICY
from backend.domain.client_input import ClientBody, ClientTime, ShortText, convert_client_input
from backend.domain.clock import Clock
from backend.domain.models import CurrentUser
from backend.domain.roles import EVIDENCE_ROLES
from backend.domain.work_orders import Photo
from backend.errors import UnsupportedMedia, ValidationFailed
from backend.services import evidence, receipt
from backend.services.evidence import Storage

FormT = TypeVar("FormT", bound=ClientBody)

# Blobs never change under a given URL (content-addressed), but they are personal data: the phone may
# keep them, shared caches may not.
BLOB_CACHE_CONTROL = "private, max-age=31536000, immutable"


def provide_storage(state: State) -> Storage:
    """The app's blob store, built in the lifespan (backend/app.py)."""
    return state.storage


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


# msgspec's message ends with where the bad value is: "... - at `$.clientAt`".
_AT_PATH = re.compile(r"^(?P<message>.*) - at `\$\.?(?P<field>[^`]*)`$")


def _fields(raw: dict[str, Any], form: type[FormT]) -> FormT:
    """The form's text fields as a checked Struct (an empty field counts as left out); a 400 naming the
    field otherwise, as for a JSON body."""
    given = {k: v for k, v in raw.items() if k != "file" and v != ""}
    try:
        return convert_client_input(given, form)
    except msgspec.ValidationError as exc:
        match = _AT_PATH.match(str(exc))
        field, message = (match["field"], match["message"]) if match else ("", str(exc))
        raise ValidationException(
            f"{field or 'form'}: {message}", extra=[{"key": field, "message": message, "source": "body"}]
        ) from None


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    if not (request.content_type[0] or "").startswith("multipart/form-data"):
        raise UnsupportedMedia(
            "send multipart/form-data with the image in the field `file`", code="not_multipart"
        )
    form = await request.form()
    return dict(form.items())


async def _file_bytes(value: Any) -> tuple[bytes, str | None, str | None] | None:
    if isinstance(value, UploadFile):
        return await value.read(), value.content_type, value.filename
    return None


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
    dependencies: ClassVar[dict[str, Provide]] = {"storage": Provide(provide_storage, sync_to_thread=False)}

    @post(
        "/work-orders/{work_order_id:uuid}/photos",
        guards=[requires_role(*EVIDENCE_ROLES)],
        status_code=201,
        summary="Upload a photo (multipart: file, stage=before|during|after, optional clientAt)",
        operation_class=PhotoUpload,
    )
    async def upload_photo(
        self,
        request: Request[CurrentUser, Any, Any],
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        storage: Storage,
    ) -> Response[Photo]:
        """JPEG, PNG or WebP up to 15 MB; the same bytes at the same stage are one photo."""
        form = await _form(request)
        upload = await _file_bytes(form.get("file"))
        if upload is None:
            raise ValidationFailed("attach the image as the multipart field `file`", field="file")
        data, content_type, filename = upload
        fields = _fields(form, PhotoForm)

        async def action() -> Photo:
            return await evidence.upload_photo(
                conn,
                storage,
                work_order_id=work_order_id,
                actor=user,
                stage=fields.stage,
                data=data,
                content_type=content_type,
                filename=filename,
                client_at=fields.client_at,
                now=clock.now(),
            )

        return await idempotent(request, conn, action, status=201)

    @get("/work-orders/{work_order_id:uuid}/photos", summary="A work order's photos")
    async def list_photos(
        self,
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[Photo]:
        """Metadata and URLs of the photos, before → during → after."""
        return page_of(await evidence.list_photos(conn, work_order_id, user), limit, offset)

    @get("/photos/{photo_id:uuid}", summary="A photo's original bytes")
    async def photo(
        self,
        request: Request[CurrentUser, Any, Any],
        photo_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
    ) -> Response[bytes]:
        """The image as uploaded, for staff of the work order's site."""
        blob = await evidence.photo_bytes(conn, storage, photo_id, user, thumbnail=False)
        return _blob_response(blob, request)

    @get("/photos/{photo_id:uuid}/thumb", summary="A photo's 320 px WebP thumbnail")
    async def thumbnail(
        self,
        request: Request[CurrentUser, Any, Any],
        photo_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
    ) -> Response[bytes]:
        """The thumbnail, upright (EXIF orientation applied)."""
        blob = await evidence.photo_bytes(conn, storage, photo_id, user, thumbnail=True)
        return _blob_response(blob, request)

    @post(
        "/work-orders/{work_order_id:uuid}/sign",
        guards=[requires_role(*EVIDENCE_ROLES)],
        status_code=200,
        summary="Sign a completed job: multipart (file=PNG, signerName, relation) or noSignReason",
        operation_class=SignatureUpload,
    )
    async def sign(
        self,
        request: Request[CurrentUser, Any, Any],
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        storage: Storage,
    ) -> Response[evidence.SignatureView]:
        """Store the signature and the hash of the record it binds; the job becomes signed."""
        media_type = request.content_type[0] or ""
        if media_type.startswith("multipart/form-data"):
            raw = await _form(request)
            upload = await _file_bytes(raw.get("file"))
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
        fields = _fields(raw, SignatureForm)

        async def action() -> evidence.SignatureView:
            return await evidence.sign_work_order(
                conn,
                storage,
                work_order_id=work_order_id,
                actor=user,
                signature_png=png,
                content_type=content_type,
                filename=filename,
                signer_name=fields.signer_name,
                relation=fields.relation,
                no_sign_reason=fields.no_sign_reason,
                client_at=fields.client_at,
                now=clock.now(),
            )

        return await idempotent(request, conn, action)

    @get(
        "/work-orders/{work_order_id:uuid}/receipt",
        summary="The printable service record (HTML, ?lang=zh-CN|en)",
        media_type="text/html",
    )
    async def receipt(
        self,
        request: Request[CurrentUser, Any, Any],
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[Clock],
        storage: Storage,
        lang: receipt.ReceiptLanguage | None = Parameter(query="lang", default=None),
    ) -> Response[str]:
        """The job, timeline, checklist, photos, signature, record hash and a QR code of the check URL."""
        page = await receipt.render_receipt(
            conn,
            storage,
            work_order_id=work_order_id,
            viewer=user,
            lang=lang or ("en" if user.locale.startswith("en") else "zh-CN"),
            public_url=request.app.state.settings.reach_url,
            now=clock.now(),
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
