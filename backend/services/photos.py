"""Checking and keeping an uploaded photo: decoded in the bounded pool, cleaned, thumbnailed, its two blobs
recorded, then the bytes stored by hash."""

from __future__ import annotations

from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo

import asyncpg

from backend.db.queries import evidence as q
from backend.domain import evidence as rules
from backend.services.image_decoding import decode_in_pool
from backend.storage import Storage


async def inspect_upload(
    conn: asyncpg.Connection,
    data: bytes,
    content_type: str | None,
    filename: str | None,
    *,
    formats: tuple[str, ...],
    max_bytes: int,
    site_timezone: tzinfo = UTC,
) -> rules.InspectedImage:
    """Check an uploaded image (off the event loop: decoding holds a whole bitmap) and record the blob of
    its cleaned original."""
    image = await decode_in_pool(
        rules.inspect_image,
        data,
        content_type=content_type,
        filename=filename,
        formats=formats,
        max_bytes=max_bytes,
        site_timezone=site_timezone,
    )
    await q.add_blob(conn, image.sha256, image.size, image.media_type)
    return image


async def inspect_photo(
    conn: asyncpg.Connection, data: bytes, content_type: str | None, filename: str | None, timezone: str
) -> rules.InspectedImage:
    """Check a photo and record its original and thumbnail blobs; the caller stores the bytes
    (`store_photo`) once its own rows are written."""
    image = await inspect_upload(
        conn,
        data,
        content_type,
        filename,
        formats=rules.PHOTO_FORMATS,
        max_bytes=rules.MAX_PHOTO_BYTES,
        site_timezone=ZoneInfo(timezone),
    )
    await q.add_blob(conn, image.thumbnail_sha256, len(image.thumbnail), "image/webp")
    return image


async def store_photo(storage: Storage, image: rules.InspectedImage) -> None:
    """The cleaned original (the upload without location, device and other personal metadata) and its
    thumbnail."""
    await storage.put(image.sha256, image.data, image.media_type)
    await storage.put(image.thumbnail_sha256, image.thumbnail, "image/webp")


async def keep_photo(
    conn: asyncpg.Connection, storage: Storage, photo: tuple[bytes, str | None, str | None], timezone: str
) -> tuple[str, str]:
    """Check and keep a photo the way job photos are kept (cleaned, with a thumbnail); its two hashes."""
    data, content_type, filename = photo
    image = await inspect_photo(conn, data, content_type, filename, timezone)
    await store_photo(storage, image)
    return image.sha256, image.thumbnail_sha256
