"""Property-based fuzzing of every operation in the OpenAPI schema: no 5xx, and answers match the schema.

Schemathesis reads /schema/openapi.json from the app in-process (ASGI) and sends generated requests as an
admin and as a technician, each with its own Idempotency-Key so mutations are not collapsed into replays.
Stateless: every operation, valid and invalid input, checked for server errors, documented status codes,
content types, headers and bodies; valid input must not be refused except for rules a schema cannot state.
Stateful: schemathesis chains operations along the links it infers (create -> read -> act) on the module's
throwaway database. docs/RELIABILITY.md says how to run it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from litestar.testing import AsyncTestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.app import create_app
from backend.db.pool import connect
from backend.settings import Settings
from tests.abuse.conftest import bearer_for, user_ids
from tests.conftest import TEST_SECRET, LoginAs

FUZZED_AS = ("admin", "tech1")


@pytest.fixture(scope="module")
async def fuzz_headers(module_db_url: str) -> dict[str, dict[str, str]]:
    """Bearer headers of the users the fuzzer acts as."""
    conn = await connect(module_db_url)
    try:
        ids = await user_ids(conn)
        return {name: await bearer_for(conn, ids[name]) for name in FUZZED_AS}
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def fuzz_app(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    """One app for the whole module: schemathesis keeps an ASGI app's lifespan running until exit."""
    return create_app(
        Settings(
            database_url=module_db_url,
            secret_key=TEST_SECRET,
            data_dir=Path(tmp_path_factory.mktemp("fuzz-data")),
            scheduler_enabled=False,
            # the fuzzer's made-up logins are all wrong; let them reach the code rather than the throttle
            login_failures_before_backoff=100_000,
            login_failures_per_address=100_000,
            db_pool_min=1,
            db_pool_max=4,
        )
    )


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Litestar) -> Iterator[schemathesis.BaseSchema]:
    """The app's own schema, minus what cannot be fuzzed."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", fuzz_app)
    # The live stream never ends by design: a fuzzer would wait on it forever. Logging out would end the
    # fuzzer's own session, and every operation after it would only ever see a 401.
    yield schema.exclude(path=["/api/v1/stream", "/api/v1/auth/logout", "/api/v1/auth/logout-all"])
    # The lifespan holds pool connections to the module's database, which is dropped after the module.
    from schemathesis.python.asgi import shutdown_lifespans

    shutdown_lifespans()


EXAMPLES_PER_MODE = 6
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def valid_input_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """positive_data_acceptance, except for refusals a schema cannot state: a 422 names a rule that needs
    the database or several fields (an unknown site, a wrong current password, a category that does not fit
    the kind, a day outside 2000-2100), and PostgreSQL cannot store U+0000 in any text (400 invalid_text)."""
    if response.status_code == 422:
        return None
    if response.status_code == 400 and b'"code":"invalid_text"' in response.content:
        return None
    return positive_data_acceptance(ctx, response, case)


def _fuzz(schema: schemathesis.BaseSchema, headers: dict[str, str]) -> list[str]:
    """Run every operation with valid and invalid generated input; return one line per failing operation."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = [*CONFORMANCE, valid_input_accepted] if mode == GenerationMode.POSITIVE else CONFORMANCE

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_MODE,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                phases=[Phase.generate, Phase.shrink],
            )
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                    checks=checks,  # noqa: B023 - run() is called in this iteration
                )

            try:
                run()
            except Unsatisfiable:
                # an operation without parameters or body (GET /health) has no invalid input to send
                if mode != GenerationMode.NEGATIVE:
                    failures.append(f"{operation.label} [{mode.value}]: no valid input could be generated")
            except Exception as failure:
                failures.append(f"{operation.label} [{mode.value}]: {str(failure)[:1500]}")
    # every operation above was tried signed in: had one ended the session, the rest only tested a 401
    me = schema["/api/v1/me"]["GET"].Case(headers=headers).call()
    if me.status_code != 200:
        failures.append(f"the fuzzer's session ended along the way: GET /api/v1/me answered {me.status_code}")
    return failures


def test_as_admin_no_server_error_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema, fuzz_headers: dict[str, dict[str, str]]
) -> None:
    failures = _fuzz(api_schema, fuzz_headers["admin"])
    assert not failures, "\n\n".join(failures)


def test_as_technician_no_server_error_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema, fuzz_headers: dict[str, dict[str, str]]
) -> None:
    failures = _fuzz(api_schema, fuzz_headers["tech1"])
    assert not failures, "\n\n".join(failures)


STATEFUL_RUNS = 15
STATEFUL_STEPS = 8


def test_stateful_chains_of_operations_conform(
    api_schema: schemathesis.BaseSchema, fuzz_headers: dict[str, dict[str, str]]
) -> None:
    """Create -> read -> act chains along the links schemathesis infers (an id from one answer used in the
    next request), as the admin, with the same conformance checks."""
    headers = fuzz_headers["admin"]

    class Chains(api_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": {**headers, "Idempotency-Key": str(uuid.uuid4())}}

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(
                response,
                checks=CONFORMANCE,
                headers=headers,
                transport_kwargs=kwargs or None,
                recorder=getattr(self, "recorder", None),
            )

    Chains.run(
        settings=settings(
            max_examples=STATEFUL_RUNS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.generate],
        )
    )


async def test_text_with_a_nul_character_is_a_400_not_a_500(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    """Found by the fuzzer: PostgreSQL cannot store U+0000, which is valid JSON."""
    headers = {**await login_as("tech1"), "Idempotency-Key": str(uuid.uuid4())}
    r = await client.request(
        "DELETE",
        "/api/v1/push/subscriptions",
        json={"endpoint": "https://push.example/\u0000"},
        headers=headers,
    )
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_text"


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def test_an_undocumented_method_is_a_405_that_lists_the_documented_ones(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    """Every path of the document: a method it does not list is refused with 405, and Allow names exactly
    the documented methods (and OPTIONS)."""
    headers = {**await login_as("admin"), "Idempotency-Key": str(uuid.uuid4())}
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    wrong = []
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        documented = {m.upper() for m in operations}
        for method in sorted(set(HTTP_METHODS) - documented)[:1]:
            r = await client.request(method, path, headers=headers)
            allowed = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
            if r.status_code != 405 or allowed - {"OPTIONS", "HEAD"} != documented:
                wrong.append(f"{method} {template}: {r.status_code}, Allow: {r.headers.get('allow')}")
    assert not wrong, "\n".join(wrong)
