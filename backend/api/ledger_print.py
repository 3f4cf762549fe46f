"""The hazard ledger's print view: an A4 page of one site's ledger, narrowed by status and risk level."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get
from litestar.params import Parameter

from backend.api.deps import Call
from backend.api.security import requires_role
from backend.api.security_headers import CSP
from backend.domain.hazards import OVERSIGHT
from backend.services import ledger_print


@get(
    "/api/v1/hazards/print",
    summary="The ledger as a printable page (HTML, A4 landscape)",
    tags=["hazards"],
    guards=[requires_role(*OVERSIGHT)],
    media_type="text/html",
)
async def print_ledger(
    call: Call,
    site: Annotated[str | None, Parameter(description="site code or id")] = None,
    status: Annotated[str | None, Parameter(description="comma-separated statuses")] = None,
    risk: Annotated[str | None, Parameter(description="comma-separated risk levels")] = None,
    lang: Annotated[str, Parameter(description="zh-CN or en")] = "zh-CN",
) -> Response[str]:
    """For supervisors and up: the same rows as the CSV, to print and file."""
    page = await ledger_print.ledger_page(
        call.conn, viewer=call.user, site=site, status=status, risk=risk, lang=lang, now=call.now()
    )
    return Response(
        page,
        media_type="text/html",
        headers={"Cache-Control": "no-store", CSP: ledger_print.LEDGER_POLICY},
    )
