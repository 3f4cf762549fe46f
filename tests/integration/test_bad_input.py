"""Hostile and clumsy input against every endpoint in the OpenAPI schema: always a 4xx problem, never a 500.

The endpoint table is read from the app's own schema, so endpoints added later are covered without
touching this file. Each test walks the whole table and reports every offender at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import msgspec.inspect as mi
import pytest
from litestar.testing import AsyncTestClient

from backend.api.evidence import PhotoForm, SignatureForm
from backend.api.security import PUBLIC_PATHS
from backend.app import create_app
from backend.settings import Settings
from tests.conftest import TEST_SECRET, LoginAs

NIL_UUID = "00000000-0000-0000-0000-000000000000"
# Valid RFC 3339, parsed by Python, out of PostgreSQL's range once moved to UTC.
CALENDAR_EDGES = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
# A time of now with no UTC offset: whose now it is cannot be known, so it is refused.
WITHOUT_OFFSET = datetime.now().replace(microsecond=0).isoformat()
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
    "nested 1,000 deep": DEEP_ARRAY,
    "a field nested 1,000 deep": b'{"name": ' + DEEP_ARRAY + b"}",
}
GARBAGE_QUERY_VALUES = ("not-a-uuid", "-1", "99999999999999999999999999", "x" * 3000, "", "true'--",
                        *CALENDAR_EDGES, "0001-01-01", "9999-12-31")  # fmt: skip
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
    # the JSON body's fields that are times (from the schema), to be sent the calendar's edges
    time_fields: tuple[str, ...] = ()

    def url(self, value: str) -> str:
        """The path with every parameter set to `value`."""
        return re.sub(r"\{[^}]+\}", lambda _: value, self.path)

    @property
    def public(self) -> bool:
        """Reachable without a token."""
        return any(re.match(p, self.path) for p in PUBLIC_PATHS)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _time_fields(schema: dict[str, Any], op: dict[str, Any]) -> tuple[str, ...]:
    """The top-level fields of the operation's JSON body whose schema is a date-time (nullable or not)."""
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for option in [body, *body.get("oneOf", [])]:
        if "$ref" in option:
            body = schema["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]
            break
    found = []
    for name, prop in body.get("properties", {}).items():
        if any(o.get("format") == "date-time" for o in [prop, *prop.get("oneOf", [])]):
            found.append(name)
    return tuple(found)


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
                    time_fields=_time_fields(schema, op),
                )
            )
    return found


ENDPOINTS = _endpoints()
# Logging out ends the caller's session: each such call gets a session of its own, or every endpoint walked
# after it would only ever answer 401.
ENDS_SESSION = {"POST /api/v1/auth/logout", "POST /api/v1/auth/logout-all"}


def _request_types() -> dict[str, Any]:
    """Every JSON request body type of the app's handlers, and the multipart forms' Structs."""
    app = create_app(Settings(database_url="postgresql://schema-only/none", secret_key=TEST_SECRET))
    found: dict[str, Any] = {"PhotoForm": PhotoForm, "SignatureForm": SignatureForm}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                found[str(data.annotation)] = data.annotation
    return found


def _unbounded(t: mi.Type, where: str) -> Iterator[str]:
    """Every place in a type where a client could send text, lists or maps without a limit, or anything."""
    if isinstance(t, mi.StrType) and t.max_length is None:
        yield f"{where}: text without a maximum length"
    elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        if t.max_length is None:
            yield f"{where}: list without a maximum length"
        yield from _unbounded(t.item_type, f"{where}[]")
    elif isinstance(t, mi.DictType):
        if t.max_length is None:
            yield f"{where}: map without a maximum number of keys"
        yield from _unbounded(t.key_type, f"{where} key")
        yield from _unbounded(t.value_type, f"{where}[key]")
    elif isinstance(t, mi.AnyType):
        yield f"{where}: takes anything"
    elif isinstance(t, mi.UnionType):
        for option in t.types:
            yield from _unbounded(option, where)
    elif isinstance(t, mi.StructType):
        for f in t.fields:
            yield from _unbounded(f.type, f"{where}.{f.encode_name}")


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


def test_the_schema_shows_the_time_fields_of_action_bodies() -> None:
    by_name = {str(e): e for e in ENDPOINTS}
    assert set(by_name["POST /api/v1/work-orders/{work_order_id}/assign"].time_fields) == {
        "clientAt",
        "appointmentAt",
    }
    assert set(by_name["POST /api/v1/work-orders"].time_fields) == {"clientAt", "appointmentAt"}


async def test_times_at_the_edges_of_the_calendar_are_a_400_naming_the_field(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    offenders = Offenders()
    for endpoint in _mutations():
        for field in endpoint.time_fields:
            for value in (*CALENDAR_EDGES, WITHOUT_OFFSET):
                # the role guard answers before the body is read: send it as someone the action is for
                for username in ROLE_PER_USER:
                    r = await client.request(
                        endpoint.method,
                        endpoint.url(NIL_UUID),
                        json={field: value},
                        headers=_json_headers(await login_as(username)),
                    )
                    if r.status_code != 403:
                        break
                offenders.check(f"{endpoint} {field}={value}", r, must_fail=True)
                if r.status_code != 400 or r.json().get("field") != field:
                    offenders.found.append(f"{endpoint} {field}={value}: {r.status_code} {r.text[:200]}")
    offenders.assert_none()


async def test_options_without_a_token_never_cause_a_500(client: AsyncTestClient) -> None:
    offenders = Offenders()
    for path in sorted({e.url(NIL_UUID) for e in ENDPOINTS} | {"/", "/index.html"}):
        r = await client.options(path)
        offenders.check(f"OPTIONS {path}", r)
    offenders.assert_none()


def _big_resume() -> dict[str, Any]:
    return {"parts": [{"name": "角阀阀芯", "qty": 1}] * 400_000}


# One demo user per role, to find one an action is for.
ROLE_PER_USER = ("admin", "tech1", "agent", "supervisor", "guard1", "manager")


# One row per hostile input: who sends it, where, what, and the problem expected back (status, field).
HOSTILE_INPUTS: list[tuple[str, str | None, str, str, dict[str, Any], int, str | None]] = [
    ("login nested 1,000 deep", None, "POST", "/api/v1/auth/login", {"content": DEEP_ARRAY}, 400, None),
    ("login with a field nested 1,000 deep", None, "POST", "/api/v1/auth/login",
     {"content": b'{"username": "admin", "password": "x", "extra": ' + DEEP_ARRAY + b"}"}, 400, None),
    ("brackets inside a string are no nesting", None, "POST", "/api/v1/auth/login",
     {"json": {"username": "[" * 60, "password": "{" * 60}}, 401, None),
    ("intake nested 1,000 deep", "agent", "POST", "/api/v1/work-orders", {"content": DEEP_ARRAY}, 400, None),
    ("appointment at year 1", "agent", "POST", "/api/v1/work-orders",
     {"json": {"kind": "repair", "category": "water", "channel": "phone", "title": "x",
               "appointmentAt": CALENDAR_EDGES[0]}}, 400, "appointmentAt"),
    ("accepted at year 9999", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/accept",
     {"json": {"clientAt": CALENDAR_EDGES[1]}}, 400, "clientAt"),
    ("accepted at a time without an offset", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/accept",
     {"json": {"clientAt": WITHOUT_OFFSET}}, 400, "clientAt"),
    ("accepted at a number", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/accept",
     {"json": {"clientAt": 1_790_000_000}}, 400, "clientAt"),
    ("called back at year 1", "agent", "POST", f"/api/v1/work-orders/{NIL_UUID}/callback",
     {"json": {"reached": True, "clientAt": CALENDAR_EDGES[0]}}, 400, "clientAt"),
    ("arrived on the moon", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/arrive",
     {"json": {"geo": {"lat": 1000, "lng": 0}}}, 400, "geo.lat"),
    ("geo with no coordinates", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/arrive",
     {"json": {"geo": {"note": "x" * 10_000}}}, 400, "geo.note"),
    ("brackets after an escaped quote are no nesting either", None, "POST", "/api/v1/auth/login",
     {"json": {"username": '\\"' + "[" * 60, "password": "x"}}, 401, None),
    ("resumed with 400,000 parts", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/resume",
     {"json": _big_resume()}, 413, None),
    ("completed with 51 parts", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/complete",
     {"json": {"parts": [{"name": "角阀阀芯"}] * 51}}, 400, "parts"),
    ("completed with a part of 10,000 characters", "tech1", "POST",
     f"/api/v1/work-orders/{NIL_UUID}/complete", {"json": {"parts": [{"name": "x" * 10_000}]}}, 400,
     "parts[0].name"),
    ("completed with 1,000 checklist answers", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/complete",
     {"json": {"checklist": {f"item{i}": True for i in range(1000)}}}, 400, "checklist"),
    ("an asset with 1,000 parameters", "admin", "POST", "/api/v1/assets",
     {"json": {"siteId": "demo", "code": "X", "name": "x", "kind": "pump",
               "parameters": {f"p{i}": i for i in range(1000)}}}, 400, "parameters"),
    ("an asset parameter that is a document", "admin", "POST", "/api/v1/assets",
     {"json": {"siteId": "demo", "code": "X", "name": "x", "kind": "pump",
               "parameters": {"manual": {"pages": ["x"] * 100}}}}, 400, "parameters[...]"),
    ("a photo taken at year 1", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/photos",
     {"files": {"file": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")},
      "data": {"stage": "after", "clientAt": CALENDAR_EDGES[0]}}, 400, "clientAt"),
    ("a signer's name of 10,000 characters", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/sign",
     {"files": {"file": ("s.png", b"\x89PNG", "image/png")},
      "data": {"signerName": "x" * 10_000, "relation": "owner"}}, 400, "signerName"),
    ("no signature, at year 9999", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/sign",
     {"json": {"noSignReason": "owner_absent", "clientAt": CALENDAR_EDGES[1]}}, 400, "clientAt"),
    ("no signature, for a reason nested 1,000 deep", "tech1", "POST", f"/api/v1/work-orders/{NIL_UUID}/sign",
     {"content": b'{"noSignReason": ' + DEEP_ARRAY + b"}"}, 400, None),
    ("a report from year 1", "manager", "GET", "/api/v1/reports/kpis?from=0001-01-01", {}, 422, "from"),
    ("a report to year 9999", "manager", "GET", "/api/v1/reports/kpis?to=9999-12-31", {}, 422, "to"),
    ("a report from a time at the edge", "manager", "GET",
     f"/api/v1/reports/kpis?from={CALENDAR_EDGES[0].replace('+', '%2B')}", {}, 422, "from"),
    ("OPTIONS on a guarded controller without a token", None, "OPTIONS", "/api/v1/reports/kpis", {}, 401,
     None),
    ("OPTIONS on a guarded action without a token", None, "OPTIONS", f"/api/v1/alarms/{NIL_UUID}/ack", {},
     401, None),
    ("NUL in the PWA's root", None, "GET", "/%00", {}, 400, None),
    ("NUL after a file name", None, "GET", "/index.html%00", {}, 400, None),
    ("NUL inside a static path", None, "GET", "/js/%00app.js", {}, 400, None),
    ("NUL in an API path", "admin", "GET", "/api/v1/devices/%00", {}, 400, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("user", "method", "url", "send", "status", "field"),
    [pytest.param(*row[1:], id=row[0]) for row in HOSTILE_INPUTS],
)
async def test_hostile_input_gets_a_problem(
    client: AsyncTestClient,
    login_as: LoginAs,
    user: str | None,
    method: str,
    url: str,
    send: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if "content" in send:
        headers["Content-Type"] = "application/json"
    if user is not None:
        headers.update(await login_as(user))
    r = await client.request(method, url, headers=headers, **send)
    assert r.status_code == status, r.text[:300]
    assert _is_problem(r) is None, _is_problem(r)
    if field is not None:
        assert r.json()["field"] == field


def test_every_text_list_and_map_a_client_may_send_is_bounded() -> None:
    types = _request_types()
    assert len(types) >= 20
    unbounded = [problem for name, t in types.items() for problem in _unbounded(mi.type_info(t), name)]
    assert unbounded == []
