"""The two PWA files that need their own headers; everything else under pwa/ is served as static files."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get

PWA_DIR = Path(__file__).resolve().parent.parent.parent / "pwa"

# A browser checks for a new service worker against the HTTP cache unless told not to; no-cache makes every
# check revalidate, so a fixed bug reaches phones on their next visit instead of a day later.
NO_CACHE = {"Cache-Control": "no-cache"}


@get("/sw.js", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def service_worker() -> Response[bytes]:
    """The service worker, always revalidated, allowed to control the whole origin."""
    return Response(
        (PWA_DIR / "sw.js").read_bytes(),
        media_type="text/javascript",  # Litestar adds the charset of every text/* answer
        headers={**NO_CACHE, "Service-Worker-Allowed": "/"},
    )


@get("/app.webmanifest", include_in_schema=False, exclude_from_auth=True, sync_to_thread=False)
def web_manifest() -> Response[bytes]:
    """The web app manifest with its registered media type."""
    return Response(
        (PWA_DIR / "app.webmanifest").read_bytes(), media_type="application/manifest+json", headers=NO_CACHE
    )
