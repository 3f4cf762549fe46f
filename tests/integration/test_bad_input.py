"""Hostile and clumsy input against every endpoint in the OpenAPI schema: always a 4xx problem, never a 500.

The endpoint table is read from the app's own schema, so endpoints added later are covered without
touching this file. Each test walks the whole table and reports every offender at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from backend.api.security import PUBLIC_PATHS
from backend.app import create_app
from backend.settings import Settings
from tests.conftest import TEST_SECRET, LoginAs

NIL_UUID = "00000000-0000-0000-0000-000000000000"
GARBAGE_PATH_VALUES = ("not-a-uuid", "x" * 2000, "%F0%9F%92%A9'--", "-1")
GARBAGE_BODIES: dict[str, bytes] = {
    "malformed": b'{"name": ',
    "array": b"[1, 2, 3]",
    "string": b'"hello"',
    "null": b"null",
    "wrong types": b'{"name": 12, "siteId": [], "code": {"x": 1}, "buildingId": "nope", "onDuty": "yes",'
    b' "password": 5, "kind": false, "note": [], "clientAt": "yesterday", "geo": "here"}',
    "huge string": b'{"name": "' + b"x" * 200_000 + b'", "code": "' + b"y" * 50_000 + b'"}',
    "not utf-8": b'{"name": "\xff\xfe"}',
}
GARBAGE_QUERY_VALUES = ("not-a-uuid", "-1", "99999999999999999999999999", "x" * 3000, "", "true'--")
BAD_PAGING = ({"limit": "-1"}, {"limit": "0"}, {"limit": "201"}, {"limit": "1" * 30}, {"limit": "ten"},
              {"offset": "-1"})  # fmt: skip


@dataclass(frozen=True)
class Endpoint:
    """One operation of the schema."""

    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    streams: bool
    takes_body: bool

    def url(self, value: str) -> str:
        """The path with every parameter set to `value`."""
        return re.sub(r"\{[^}]+\}", lambda _: value, self.path)

    @property
    def public(self) -> bool:
        """Reachable without a token."""
        return any(re.match(p, self.path) for p in PUBLIC_PATHS)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _endpoints() -> list[Endpoint]:
    app = create_app(Settings(database_url="postgresql://schema-only/none", secret_key=TEST_SECRET))
    schema = app.openapi_schema.to_schema()
    found = []
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            params = op.get("parameters", [])
            content_types = [c for r in op.get("responses", {}).values() for c in (r.get("content") or {})]
            found.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                    query_params=tuple(p["name"] for p in params if p["in"] == "query"),
                    streams="text/event-stream" in content_types or path.endswith("/stream"),
                    takes_body="requestBody" in op,
                )
            )
    return found


ENDPOINTS = _endpoints()
# Logging out ends the caller's session: each such call gets a session of its own, or every endpoint walked
# after it would only ever answer 401.
ENDS_SESSION = {"POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all"}


def _is_problem(r: httpx.Response) -> str | None:
    """What is wrong with this answer to bad input, or None."""
    if r.status_code >= 500:
        return f"status {r.status_code}: {r.text[:200]}"
    if r.status_code < 400:
        return None
    if not r.headers.get("content-type", "").startswith("application/problem+json"):
        return f"status {r.status_code} without problem+json ({r.headers.get('content-type')})"
    body = r.json()
    missing = [k for k in ("type", "title", "status", "code") if k not in body]
    if missing:
        return f"problem without {missing}"
    if body["status"] != r.status_code:
        return f"problem status {body['status']} != {r.status_code}"
    return None


class Offenders:
    """Collects every endpoint that answered badly, so one run shows them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, what: str, r: httpx.Response, *, must_fail: bool = False) -> None:
        """Record `what` when the answer is a 5xx, a malformed problem, or (must_fail) a success."""
        wrong = _is_problem(r)
        if wrong is None and must_fail and r.status_code < 400:
            wrong = f"accepted with {r.status_code}"
        if wrong:
            self.found.append(f"{what}: {wrong}")

    def assert_none(self) -> None:
        """Fail listing every offender."""
        assert not self.found, "\n".join(self.found)


def _json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}


def _mutations() -> Iterator[Endpoint]:
    return (e for e in ENDPOINTS if e.method in {"POST", "PUT", "PATCH", "DELETE"})


async def _send(client: AsyncTestClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    return await client.request(method, url, **kwargs)


def test_the_schema_lists_the_registry_and_auth_endpoints() -> None:
    names = {str(e) for e in ENDPOINTS}
    for expected in ("POST /api/v1/auth/login", "GET /api/v1/me", "GET /api/v1/units/lookup",
                     "PATCH /api/v1/devices/{device_id}", "GET /api/v1/users"):  # fmt: skip
        assert expected in names


async def test_without_a_token_every_private_endpoint_answers_401(client: AsyncTestClient) -> None:
    offenders = Offenders()
    for endpoint in ENDPOINTS:
        url = endpoint.url(NIL_UUID)
        r = await _send(
            client, endpoint.method, url, content=b"{}", headers={"Content-Type": "application/json"}
        )
        offenders.check(str(endpoint), r)
        if not endpoint.public and r.status_code != 401:
            offenders.found.append(f"{endpoint}: {r.status_code} without a token")
    offenders.assert_none()


@pytest.mark.parametrize("username", ["admin", "tech1"])
async def test_garbage_bodies_are_refused_with_a_problem(
    client: AsyncTestClient, login_as: LoginAs, username: str
) -> None:
    headers = await login_as(username)
    offenders = Offenders()
    walked = [e for e in _mutations() if str(e) not in ENDS_SESSION]
    for endpoint in walked:
        for name, body in GARBAGE_BODIES.items():
            r = await _send(
                client, endpoint.method, endpoint.url(NIL_UUID), content=body, headers=_json_headers(headers)
            )
            # an operation without a body (DELETE, a stream ticket) may ignore a garbage one; every
            # operation that reads a body must refuse it
            offenders.check(f"{endpoint} [{name}]", r, must_fail=endpoint.takes_body)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200, "walked signed in throughout"
    # logging out last, each call with a fresh login (logout-all ends every session of the user)
    for endpoint in (e for e in _mutations() if str(e) in ENDS_SESSION):
        for name, body in GARBAGE_BODIES.items():
            fresh = await _fresh_login(client, username)
            r = await _send(
                client, endpoint.method, endpoint.url(NIL_UUID), content=body, headers=_json_headers(fresh)
            )
            offenders.check(f"{endpoint} [{name}]", r, must_fail=endpoint.takes_body)
    offenders.assert_none()


async def _fresh_login(client: AsyncTestClient, username: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_garbage_path_parameters_are_refused_with_a_problem(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    headers = await login_as("admin")
    offenders = Offenders()
    for endpoint in ENDPOINTS:
        if not endpoint.path_params or endpoint.streams:
            continue
        for value in GARBAGE_PATH_VALUES:
            r = await _send(
                client,
                endpoint.method,
                endpoint.url(value),
                content=b'{"x": 1}',
                headers=_json_headers(headers),
            )
            offenders.check(f"{endpoint} [{value[:20]}]", r, must_fail=True)
    offenders.assert_none()


async def test_garbage_query_parameters_never_cause_a_500(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("admin")
    offenders = Offenders()
    for endpoint in ENDPOINTS:
        if endpoint.method != "GET" or endpoint.streams or not endpoint.query_params:
            continue
        for param in endpoint.query_params:
            for value in GARBAGE_QUERY_VALUES:
                r = await client.get(endpoint.url(NIL_UUID), params={param: value}, headers=headers)
                offenders.check(f"{endpoint} ?{param}={value[:20]}", r)
    offenders.assert_none()


async def test_bad_paging_is_a_400_on_every_list(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("admin")
    offenders = Offenders()
    lists = [e for e in ENDPOINTS if e.method == "GET" and {"limit", "offset"} <= set(e.query_params)]
    assert len(lists) >= 6
    for endpoint in lists:
        for params in BAD_PAGING:
            r = await client.get(endpoint.url(NIL_UUID), params=params, headers=headers)
            offenders.check(f"{endpoint} {params}", r, must_fail=True)
            if r.status_code != 400:
                offenders.found.append(f"{endpoint} {params}: {r.status_code} instead of 400")
    offenders.assert_none()


async def test_a_registry_validation_problem_names_the_field(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    headers = _json_headers(await login_as("admin"))
    r = await client.post(
        "/api/v1/buildings", json={"siteId": "demo", "code": "Q", "name": 42}, headers=headers
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_request"
    assert body["field"] == "name"

    r = await client.patch("/api/v1/devices/pump-1", json={"colour": "red"}, headers=_json_headers(headers))
    assert r.status_code == 400, r.text  # an unknown field in a change is refused, not silently dropped

    r = await client.post(
        "/api/v1/buildings",
        json={"siteId": "demo", "code": "Q", "name": "x" * 101},
        headers=_json_headers(headers),
    )
    assert r.status_code == 400
    assert r.json()["field"] == "name"


async def test_bad_login_bodies(client: AsyncTestClient) -> None:
    offenders = Offenders()
    bodies = ({}, {"username": "admin"}, {"username": 1, "password": 2}, {"username": "", "password": ""},
              {"username": "a" * 100, "password": "b"},
              {"username": "admin", "password": "p" * 10_000})  # fmt: skip
    for body in bodies:
        r = await client.post("/api/v1/auth/login", json=body)
        offenders.check(str(body)[:60], r, must_fail=True)
    offenders.assert_none()
