"""Photo and signature blobs, content-addressed by sha256: a local directory or an S3-compatible bucket.

Blobs are immutable: a key is the sha256 of its bytes, so writing the same bytes twice is one object and
an existing object is never overwritten. The blobs table in PostgreSQL says which blobs belong to the
record; this module only keeps the bytes.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error

from backend.errors import NotFound
from backend.settings import Settings

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# S3 answers these codes for a key (or bucket) that is not there.
_MISSING_CODES = {"NoSuchKey", "NoSuchObject", "NotFound", "NoSuchBucket"}


def blob_key(sha256: str) -> str:
    """The relative key of a blob: ab/cd/<sha256>, so no directory grows past 65,536 entries per level."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobMissing(NotFound):
    """The database names a blob that the store does not hold."""

    code = "blob_missing"


@runtime_checkable
class Storage(Protocol):
    """Where blob bytes live. Every method is safe to call from the event loop."""

    async def put(self, sha256: str, data: bytes, media_type: str) -> None:
        """Store the bytes under their hash; a blob already stored is left as it is."""
        ...

    async def get(self, sha256: str) -> bytes:
        """The bytes of a blob; BlobMissing when it is not stored."""
        ...

    async def exists(self, sha256: str) -> bool:
        """True when the blob is stored."""
        ...


class LocalStorage:
    """Blobs as files under `root`/ab/cd/<sha256>; the default, for one machine."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        """Where the blob's file is (or would be)."""
        return self.root / blob_key(sha256)

    def _put(self, sha256: str, data: bytes) -> None:
        target = self.path_of(sha256)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file in the same directory and rename: a crash or a concurrent writer of
        # the same blob never leaves a half-written file under the final name.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, sha256: str) -> bytes:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"blob {sha256} is not in the store") from None

    async def put(self, sha256: str, data: bytes, media_type: str) -> None:
        """Store the bytes under their hash (media type is implied by the blobs table)."""
        await asyncio.to_thread(self._put, sha256, data)

    async def get(self, sha256: str) -> bytes:
        """The bytes of a blob."""
        return await asyncio.to_thread(self._get, sha256)

    async def exists(self, sha256: str) -> bool:
        """True when the blob's file exists."""
        return await asyncio.to_thread(self.path_of(sha256).is_file)


class S3Storage:
    """Blobs as objects in an S3-compatible bucket (MinIO, AWS S3, ...), for several API replicas."""

    def __init__(self, client: Minio, bucket: str, prefix: str = "blobs/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._bucket_checked = False

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """A client for CARETAKER_S3_ENDPOINT (http[s]://host:port) and the bucket named in the settings."""
        if not settings.s3_bucket:
            raise ValueError("the s3 storage backend needs CARETAKER_S3_BUCKET")
        endpoint = settings.s3_endpoint or "https://s3.amazonaws.com"
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        client = Minio(
            parts.netloc,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=parts.scheme == "https",
        )
        return cls(client, settings.s3_bucket)

    def _key(self, sha256: str) -> str:
        return self.prefix + blob_key(sha256)

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        if not self.client.bucket_exists(self.bucket):
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as e:
                # Another replica created it between our check and our request.
                if e.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    raise
        self._bucket_checked = True

    def _exists(self, sha256: str) -> bool:
        try:
            self.client.stat_object(self.bucket, self._key(sha256))
        except S3Error as e:
            if e.code in _MISSING_CODES:
                return False
            raise
        return True

    def _put(self, sha256: str, data: bytes, media_type: str) -> None:
        self._ensure_bucket()
        if self._exists(sha256):
            return
        self.client.put_object(
            self.bucket, self._key(sha256), io.BytesIO(data), length=len(data), content_type=media_type
        )

    def _get(self, sha256: str) -> bytes:
        try:
            response = self.client.get_object(self.bucket, self._key(sha256))
        except S3Error as e:
            if e.code in _MISSING_CODES:
                raise BlobMissing(f"blob {sha256} is not in the store") from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def put(self, sha256: str, data: bytes, media_type: str) -> None:
        """Upload the object unless it is already there (the client is blocking: run it in a thread)."""
        await asyncio.to_thread(self._put, sha256, data, media_type)

    async def get(self, sha256: str) -> bytes:
        """Download the object."""
        return await asyncio.to_thread(self._get, sha256)

    async def exists(self, sha256: str) -> bool:
        """True when the object exists."""
        return await asyncio.to_thread(self._exists, sha256)


def build_storage(settings: Settings) -> Storage:
    """The backend chosen by CARETAKER_STORAGE: `local` (under the data dir) or `s3`."""
    if settings.storage_backend == "s3":
        return S3Storage.from_settings(settings)
    return LocalStorage(Path(settings.data_dir) / "blobs")
