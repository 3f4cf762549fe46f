"""GET /api/v1/catalogue: the labels of every code the API sends, in each language the interface speaks."""

from __future__ import annotations

from litestar import Response, get

from backend.domain.catalogue import CATALOGUE, Catalogue

# Labels change only with a release; a day keeps cheap phones from asking on every start.
CACHE_SECONDS = 86400


@get(
    "/api/v1/catalogue",
    tags=["catalogue"],
    summary="Labels of every code by locale, and the choices each form offers",
)
async def catalogue() -> Response[Catalogue]:
    """`labels`: `{"zh-CN": {"status.new": "待派单", …}, "en": {…}}`, shared by screens, the receipt and the
    CSV; `choices`: the codes each form may offer (categories per kind, channels, priorities …)."""
    return Response(CATALOGUE, headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"})
