"""Every handler declares its dependencies and bodies the way Litestar 3 reads them: the app builds without
one deprecation warning about them (query parameters aside, which move with Litestar 3 itself)."""

from __future__ import annotations

import warnings

from litestar.exceptions import LitestarDeprecationWarning

from backend.app import create_app
from backend.settings import Settings
from tests.conftest import TEST_SECRET

QUERY_PARAMETERS = "query parameter"


def test_no_handler_leaves_a_dependency_or_its_body_to_be_inferred() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LitestarDeprecationWarning)
        create_app(Settings(database_url="postgresql://declarations-only/none", secret_key=TEST_SECRET))
    left = sorted(
        {
            str(w.message)
            for w in caught
            if issubclass(w.category, LitestarDeprecationWarning) and QUERY_PARAMETERS not in str(w.message)
        }
    )
    assert left == []
