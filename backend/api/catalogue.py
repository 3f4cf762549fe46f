"""GET /api/v1/catalogue: the labels of every code the API sends, in each language the interface speaks."""

from __future__ import annotations

from litestar import Response, get

from backend.domain.catalogue import CATALOGUE

# Labels change only with a release; a day keeps cheap phones from asking on every start.
CACHE_SECONDS = 86400


@get(
    "/api/v1/catalogue",
    tags=["catalogue"],
    summary="Labels of every code (status, kind, action, category, alarm, error …) by locale",
)
async def catalogue() -> Response[dict[str, dict[str, str]]]:
    """`{"zh-CN": {"status.new": "待派单", …}, "en": {…}}`; screens, the receipt and the CSV share it."""
    return Response(dict(CATALOGUE), headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"})
