"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.errors import ValidationFailed

DEMO_PASSWORD = "demo1234"  # noqa: S105 - the published demo password; refused for real accounts below
MIN_LENGTH = 8

_hasher = PasswordHasher()
# Checked against when the username is unknown, so a wrong username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("caretaker-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def check_new_password(password: str, *, demo: bool = False) -> None:
    """Refuse passwords that are too short, or the demo password outside demo seeding."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_LENGTH} characters", field="password")
    if password == DEMO_PASSWORD and not demo:
        raise ValidationFailed("the demo password may only be used by the demo estate", field="password")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; runs a full hash even when there is no user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
