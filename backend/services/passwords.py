"""Password hashing (argon2id) and the rules a new password must meet (backend/domain/password_policy.py)."""

from __future__ import annotations

from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.domain.password_policy import check_password
from backend.errors import ValidationFailed

# The published demo password. Only the demo estate's seeding may set it (it is far below the policy, which
# is the point: anyone can log in to a demo); every password a person sets meets the policy.
DEMO_PASSWORD = "demo1234"  # noqa: S105

_hasher = PasswordHasher()
# Checked against when the username is unknown, so a wrong username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("caretaker-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def check_new_password(
    password: str, *, names: Sequence[str] = (), demo: bool = False, field: str = "password"
) -> None:
    """Refuse a password a person may not set; seeding the demo estate (`demo`) is exempt."""
    if demo:
        return
    if password == DEMO_PASSWORD:
        raise ValidationFailed(
            "the demo password may only be used by the demo estate", field=field, code="password_common"
        )
    check_password(password, names=names, field=field)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; runs a full hash even when there is no user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
