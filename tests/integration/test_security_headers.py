"""Security headers on every response, a Content-Security-Policy the PWA can live under, and the receipt's
own policy that lets in its one inline style by hash."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import LoginAs
from tests.integration.test_signature import job_on_site

PWA = Path(__file__).resolve().parents[2] / "pwa"
BASIC = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def _assert_secured(r, what: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    for name, value in BASIC.items():
        assert r.headers.get(name) == value, (what, name, r.headers.get(name))
    assert "content-security-policy" in r.headers, what
    return _directives(r.headers["content-security-policy"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/index.html"),
        ("GET", "/js/app.js"),
        ("GET", "/sw.js"),
        ("GET", "/app.webmanifest"),
        ("GET", "/health"),
        ("GET", "/api/v1/me"),  # 401 problem details
        ("GET", "/api/v1/no-such-thing"),  # 404 of no route at all
        ("POST", "/api/v1/auth/login"),  # 400: no body
        ("GET", "/schema/openapi.json"),
    ],
)
async def test_every_response_carries_the_headers(client: AsyncTestClient, method: str, path: str) -> None:
    policy = _assert_secured(await client.request(method, path), path)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["script-src"] == ["'self'"], "no inline script and no eval in the app"
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]


async def test_signed_in_answers_and_the_live_stream_too(client: AsyncTestClient, login_as: LoginAs) -> None:
    headers = await login_as("guard1")
    _assert_secured(await client.get("/api/v1/alarms", headers=headers), "alarms")
    ticket = await client.post("/api/v1/stream/tickets", headers=headers)
    _assert_secured(ticket, "ticket")


async def test_the_api_browsers_get_their_own_policy(client: AsyncTestClient) -> None:
    r = await client.get("/schema/swagger")
    policy = _assert_secured(r, "swagger")
    assert policy["frame-ancestors"] == ["'none'"]
    assert "https://cdn.jsdelivr.net" in policy["script-src"]


async def test_the_receipt_allows_its_own_style_and_nothing_else(
    client: AsyncTestClient, db, clock, login_as: LoginAs
) -> None:  # type: ignore[no-untyped-def]
    wo = await job_on_site(db, clock)
    r = await client.get(f"/api/v1/work-orders/{wo}/receipt", headers=await login_as("tech1"))
    assert r.status_code == 200, r.text
    policy = _assert_secured(r, "receipt")
    [style] = re.findall(r"<style>(.*?)</style>", r.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == [f"'sha256-{digest}'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["img-src"] == ["data:"]
    # the PWA shows the receipt in a srcdoc frame, which inherits the app's policy: the same hash is there
    app_policy = _directives((await client.get("/")).headers["content-security-policy"])
    assert f"'sha256-{digest}'" in app_policy["style-src"]


INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["'{$]""")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def test_the_pwa_has_no_inline_script_or_style_the_policy_would_block() -> None:
    offenders = []
    for path in [PWA / "index.html", *sorted((PWA / "js").rglob("*.js"))]:
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_HANDLER, INLINE_STYLE_ATTRIBUTE, INLINE_SCRIPT):
            offenders += [f"{path.relative_to(PWA)}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
        if "eval(" in text or "new Function(" in text:
            offenders.append(f"{path.relative_to(PWA)}: eval")
    assert offenders == []
