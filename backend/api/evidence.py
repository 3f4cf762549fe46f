"""Evidence endpoints: photo upload and download, the owner's signature, the service record and its check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter

from backend.api.deps import idempotent
from backend.api.security import requires_role
from backend.api.security_headers import CSP, RECEIPT_POLICY
from backend.domain.models import CurrentUser
from backend.domain.work_orders import Photo
from backend.errors import UnsupportedMedia, ValidationFailed
from backend.services import evidence, receipt
from backend.storage import Storage, build_storage

# People who work on jobs in the field or oversee them; desk agents and guards do not add evidence.
EVIDENCE_ROLES = ("technician", "supervisor", "manager", "admin")
# Blobs never change under a given URL (content-addressed), but they are personal data: the phone may
# keep them, shared caches may not.
BLOB_CACHE_CONTROL = "private, max-age=31536000, immutable"


def provide_storage(state: State) -> Storage:
    """The app's blob store, built once from its settings."""
    storage = getattr(state, "storage", None)
    if storage is None:
        storage = build_storage(state.settings)
        state.storage = storage
    return storage


def _client_at(raw: Any, field: str = "clientAt") -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        value = msgspec.convert(raw, datetime, strict=False)
    except msgspec.ValidationError:
        raise ValidationFailed(f"{field} must be an ISO 8601 time with a time zone", field=field) from None
    if value.tzinfo is None:
        raise ValidationFailed(f"{field} must carry a time zone (e.g. Z or +08:00)", field=field)
    return value


def _now(request: Request[Any, Any, Any]) -> datetime:
    # The app's clock straight from state: Clock is a plain Protocol, which Litestar cannot check
    # as a handler parameter type.
    return request.app.state.clock.now()


def _text(raw: Any) -> str | None:
    return raw if isinstance(raw, str) else None


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
    )
    async def upload_photo(
        self,
        request: Request[CurrentUser, Any, Any],
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
    ) -> Response[Any]:
        """JPEG, PNG or WebP up to 15 MB; the same bytes at the same stage are one photo."""
        form = await _form(request)
        upload = await _file_bytes(form.get("file"))
        if upload is None:
            raise ValidationFailed("attach the image as the multipart field `file`", field="file")
        data, content_type, filename = upload
        stage = _text(form.get("stage")) or ""
        client_at = _client_at(form.get("clientAt"))

        async def action() -> Photo:
            return await evidence.upload_photo(
                conn,
                storage,
                work_order_id=work_order_id,
                actor=user,
                stage=stage,
                data=data,
                content_type=content_type,
                filename=filename,
                client_at=client_at,
                now=_now(request),
            )

        return await idempotent(request, conn, action, status=201)

    @get("/work-orders/{work_order_id:uuid}/photos", summary="A work order's photos")
    async def list_photos(
        self,
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
    ) -> list[Photo]:
        """Metadata and URLs of the photos, before → during → after."""
        return await evidence.list_photos(conn, work_order_id, user)

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
    )
    async def sign(
        self,
        request: Request[CurrentUser, Any, Any],
        work_order_id: FromPath[UUID],
        conn: NamedDependency[asyncpg.Connection],
        user: NamedDependency[CurrentUser],
        storage: Storage,
    ) -> Response[Any]:
        """Store the signature and the hash of the record it binds; the job becomes signed."""
        media_type = request.content_type[0] or ""
        if media_type.startswith("multipart/form-data"):
            fields = await _form(request)
            upload = await _file_bytes(fields.get("file"))
        elif media_type == "application/json":
            try:
                body = msgspec.json.decode(await request.body())
            except msgspec.DecodeError:
                raise ValidationFailed("the body is not valid JSON", field="body") from None
            if not isinstance(body, dict):
                raise ValidationFailed("the body must be a JSON object", field="body")
            fields, upload = body, None
            if "file" in body or "signature" in body:
                raise ValidationFailed("send the signature image as multipart/form-data", field="file")
        else:
            raise UnsupportedMedia("send multipart/form-data (with a signature) or JSON (with noSignReason)")
        png, content_type, filename = upload if upload else (None, None, None)
        client_at = _client_at(fields.get("clientAt"))

        async def action() -> evidence.SignatureView:
            return await evidence.sign_work_order(
                conn,
                storage,
                work_order_id=work_order_id,
                actor=user,
                signature_png=png,
                content_type=content_type,
                filename=filename,
                signer_name=_text(fields.get("signerName")),
                relation=_text(fields.get("relation")),
                no_sign_reason=_text(fields.get("noSignReason")),
                client_at=client_at,
                now=_now(request),
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
        storage: Storage,
        lang: str | None = Parameter(query="lang", default=None),
    ) -> Response[str]:
        """The job, timeline, checklist, photos, signature, record hash and a QR code of the check URL."""
        page = await receipt.render_receipt(
            conn,
            storage,
            work_order_id=work_order_id,
            viewer=user,
            lang=lang or ("en" if user.locale.startswith("en") else "zh-CN"),
            public_url=request.app.state.settings.reach_url,
            now=_now(request),
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
