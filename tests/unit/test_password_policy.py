"""The password policy: what a person may not set, and that ordinary good passwords pass."""

from __future__ import annotations

import pytest

from backend.domain.password_policy import MIN_LENGTH, check_password
from backend.errors import ValidationFailed
from backend.services.passwords import DEMO_PASSWORD, check_new_password

NAMES = ("wang.tech", "王师傅")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("12345678", "password_too_short"),
        ("password", "password_too_short"),
        ("wang.tech", "password_too_short"),
        ("1234567890", "password_common"),
        ("qwertyuiop", "password_common"),
        ("Password1234", "password_too_guessable"),
        ("wang.tech2024", "password_like_name"),
        ("Wang-Tech-99!", "password_like_name"),
        ("hcet.gnaw!!!", "password_like_name"),
        ("xxwangtechxx", "password_like_name"),
        ("caretaker2024", "password_too_guessable"),
        ("aaaaaaaaaaaa", "password_too_guessable"),
        ("abcdefghijk", "password_too_guessable"),
        ("1qaz2wsx3edc", "password_common"),
        ("p@ssw0rd1234", "password_too_guessable"),
        ("woaini1314520", "password_too_guessable"),
    ],
)
def test_weak_passwords_are_refused_with_a_code_naming_why(password: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password(password, names=NAMES)
    assert refused.value.code == code
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "password",
    ["a-strong-passphrase", "long-enough-pw", "pump room 7 at dawn", "楼顶水箱每周巡检一次", "liftpump-7731"],
)
def test_ordinary_good_passwords_pass(password: str) -> None:
    check_password(password, names=NAMES)


def test_the_field_is_named_as_the_caller_says() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_password("short", field="newPassword")
    assert refused.value.field == "newPassword"


def test_a_short_username_does_not_veto_every_word_containing_it() -> None:
    check_password("ligature-of-seven-pumps", names=("li", "李"))


def test_very_long_passwords_are_judged_without_error() -> None:
    check_password("the-first-72-characters-decide " * 8, names=NAMES)
    with pytest.raises(ValidationFailed):
        check_password("a" * 200, names=NAMES)


def test_the_demo_password_only_for_the_demo_estate() -> None:
    assert len(DEMO_PASSWORD) < MIN_LENGTH  # the demo's password is below the policy on purpose
    check_new_password(DEMO_PASSWORD, demo=True)
    with pytest.raises(ValidationFailed) as refused:
        check_new_password(DEMO_PASSWORD, names=NAMES)
    assert refused.value.field == "password"
