"""The VAPID key pair that signs our Web Push requests: made once, kept in app_secrets, shared by all."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.db.queries import push as q

SECRET_NAME = "vapid_private_key"  # noqa: S105 - the row name, not a secret


@dataclass(frozen=True)
class VapidKeys:
    """The private key (PEM, for pywebpush) and the public key browsers subscribe with."""

    private_pem: str
    public_key: str
    """applicationServerKey: the uncompressed P-256 point, base64url without padding."""


def _generate_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def keys_from_pem(private_pem: str) -> VapidKeys:
    """Derive the public half of a stored private key."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(
        private_pem=private_pem, public_key=base64.urlsafe_b64encode(point).rstrip(b"=").decode()
    )


async def ensure_vapid_keys(pool: asyncpg.Pool | asyncpg.Connection) -> VapidKeys:
    """The stored key pair, generating it on first use; concurrent first starts agree on one key."""
    stored = await q.get_secret(pool, SECRET_NAME)
    if stored is None:
        # ON CONFLICT DO NOTHING: when two processes race, both read back the one that landed
        stored = await q.put_secret_once(pool, SECRET_NAME, _generate_private_pem())
    return keys_from_pem(stored)
