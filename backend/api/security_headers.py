"""Security headers on every response: a Content-Security-Policy fit for the PWA, no framing, no sniffing,
no referrer.

Added by a `before_send` hook, so they reach every response — the PWA's files, API answers, problem
details, 404s of unknown paths and the live stream — and a handler that sets its own policy (the printable
service record) keeps it. HSTS is left to the TLS-terminating proxy (docs/DEPLOY.md): the app may also be
served over plain HTTP on a site's LAN, where the header would be wrong.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from backend.services.ledger_print import LEDGER_STYLE_SOURCE
from backend.services.owner_desk import unit_sheet_style_source
from backend.services.receipt import receipt_style_source
from backend.services.rounds import QR_SHEET_STYLE_SOURCE


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# The PWA: every script and stylesheet is a file of ours (pwa/js, pwa/css, pwa/vendor) — no inline script,
# no inline style attribute, no eval. Photos are previewed from blob: URLs, signatures drawn to data: URLs,
# receipt thumbnails are data: URLs. The receipt is shown full page in a shadow root (js/views/receipt.js):
# its inline <style>, copied unchanged, is allowed by hash and by nothing broader. fetch and EventSource stay
# on our origin. The ledger's print page and the QR sheets, opened from the app as blob: documents that keep
# this policy, have their inline <style> allowed by hash too. Nobody may frame the app (clickjacking a
# guard's "acknowledge" button).
APP_POLICY = _policy(
    {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": " ".join(
            (
                "'self'",
                receipt_style_source(),
                unit_sheet_style_source(),
                LEDGER_STYLE_SOURCE,
                QR_SHEET_STYLE_SOURCE,
            )
        ),
        "img-src": "'self' data: blob:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "media-src": "'self' blob:",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
)

# The printable service record opened on its own: its inline style by hash, its images inline; nothing
# else loads, nothing runs.
RECEIPT_POLICY = _policy(
    {
        "default-src": "'none'",
        "style-src": receipt_style_source(),
        "img-src": "data:",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
)

# Litestar's API browsers under /schema (Swagger UI, ReDoc, RapiDoc, Elements) are pages built from a CDN's
# scripts and inline set-up code; they get what they need, and no more than that, on those pages only.
_CDNS = "https://cdn.jsdelivr.net https://unpkg.com"
DOCS_POLICY = _policy(
    {
        "default-src": "'self'",
        "script-src": f"'self' 'unsafe-inline' {_CDNS}",
        "style-src": f"'self' 'unsafe-inline' {_CDNS} https://fonts.googleapis.com",
        "font-src": "'self' data: https://fonts.gstatic.com",
        "img-src": "'self' data: https:",
        "worker-src": "'self' blob:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
)
_DOCS_PREFIX = "/schema"
_DOCS_DATA_SUFFIXES = (".json", ".yaml", ".yml")

CSP = "Content-Security-Policy"
SECURITY_HEADERS = {
    # what an old browser that ignores frame-ancestors understands
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # job links carry ids; nothing about a resident's home should leave in a Referer header
    "Referrer-Policy": "no-referrer",
    # a popup the app might open cannot reach back into it
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _policy_for(path: str) -> str:
    if path.startswith(_DOCS_PREFIX) and not path.endswith(_DOCS_DATA_SUFFIXES):
        return DOCS_POLICY
    return APP_POLICY


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Before a response starts: add each security header the handler did not set itself."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    if CSP not in headers:
        headers[CSP] = _policy_for(scope.get("path", ""))
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
