"""What a password a person sets must be: long enough, not common, not their name, not easily guessed.

The rules follow NIST SP 800-63B: a minimum length, a check against passwords attackers try first, no
composition rules (a long passphrase beats `P@ssw0rd1`). The common-password list and the guess estimate
come from zxcvbn (Dropbox's estimator): its 30,000 most common passwords, English words, names, keyboard
walks, sequences, repeats and dates, plus the words we give it — the person's own name and ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

from backend.errors import ValidationFailed

MIN_LENGTH = 10
# zxcvbn's score 3 means "at least 10^8 guesses": beyond reach online behind the login throttle, and
# costly offline against argon2 should the hashes ever leak. Scores 0-2 are what attackers try first.
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); the first 72 characters decide the estimate.
ESTIMATE_LENGTH = 72
# Words any Caretaker password is likely to be built from, guessed before the dictionary.
PRODUCT_WORDS = ("caretaker", "wuye", "wuyeguanli", "demo", "admin")
# zxcvbn's lists are English; these are the pinyin words and number codes leaked Chinese password sets are
# full of ("I love you", "forever", "my password", places), so `woaini1314` counts as the guess it is.
CHINESE_PASSWORD_WORDS = (
    "woaini", "5201314", "1314520", "1314", "520", "aini", "mima", "wodemima", "zhongguo", "beijing",
    "shanghai", "shenzhen", "guangzhou", "zhangsan", "lisi", "wangwu", "laogong", "laopo", "baobei",
)  # fmt: skip
# Shorter names are too common as fragments of ordinary words to refuse every password containing them.
MIN_NAME_FRAGMENT = 3

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+", re.UNICODE)


def _folded(text: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", text.casefold())


def _names_in(password: str, names: Iterable[str]) -> bool:
    """True when the password is one of the names, contains one, or one reversed, ignoring case and
    punctuation (`Wang.Tech99`, `hcet.gnaw` for `wang.tech`)."""
    folded = _folded(password)
    for name in names:
        folded_name = _folded(name)
        if len(folded_name) < MIN_NAME_FRAGMENT:
            continue
        if folded_name in folded or folded_name[::-1] in folded or folded in folded_name:
            return True
    return False


def _is_common(result: dict) -> bool:
    """The whole password is one entry of the common-password list (perhaps in l33t or with a capital)."""
    sequence = result["sequence"]
    return len(sequence) == 1 and sequence[0].get("dictionary_name") == "passwords"


def check_password(password: str, *, names: Iterable[str] = (), field: str = "password") -> None:
    """Refuse a password a person may not set; `names` are the account's username and display name."""
    names = tuple(n for n in names if n)
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            f"the password must be at least {MIN_LENGTH} characters; a few words make a good one",
            field=field,
            code="password_too_short",
        )
    if _names_in(password, names):
        raise ValidationFailed(
            "the password must not be the username or name, nor contain them",
            field=field,
            code="password_like_name",
        )
    result = zxcvbn(
        password[:ESTIMATE_LENGTH],
        user_inputs=[*names, *PRODUCT_WORDS, *CHINESE_PASSWORD_WORDS],
        max_length=ESTIMATE_LENGTH,
    )
    if _is_common(result):
        raise ValidationFailed(
            "this is one of the passwords attackers try first; choose another",
            field=field,
            code="password_common",
        )
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        hints = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise ValidationFailed(
            f"the password is too easy to guess. {hints}".strip(), field=field, code="password_too_guessable"
        )
