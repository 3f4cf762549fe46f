"""GET /reports/kpis and GET /reports/work-orders.csv: what managers run the estate by."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from litestar.response import Stream

from backend.api.deps import Call
from backend.api.openapi import DAY, KIND_LIST, STATUS_LIST
from backend.api.security import requires_role
from backend.domain.kpis import KpiReport
from backend.domain.roles import OVERSIGHT_ROLES
from backend.domain.work_order_csv import ExportLanguage
from backend.services import reports

_DAY = "ISO date (YYYY-MM-DD), a whole day in the site's timezone"
FromDay = Annotated[str | None, Parameter(query="from", schema_extra=DAY, description=f"first day, {_DAY}")]
ToDay = Annotated[str | None, Parameter(query="to", schema_extra=DAY, description=f"last day, {_DAY}")]


class ReportsController(Controller):
    """Reports for managers, supervisors and admins, limited to their own sites."""

    path = "/api/v1/reports"
    tags = ["reports"]  # noqa: RUF012 (Litestar reads these class attributes as sequences)
    guards = [requires_role(*OVERSIGHT_ROLES)]  # noqa: RUF012

    @get("/kpis", summary="Management KPIs of one site and period")
    async def kpis(
        self,
        call: Call,
        site: Annotated[str | None, Parameter(description="site code or id; default: your only site")] = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
    ) -> KpiReport:
        """Counts, SLA compliance and times, callbacks, satisfaction, reopens, complaints, alarms, overdue
        work and per-technician results (definitions in docs/REPORTS.md)."""
        return await reports.kpi_report(
            call.conn, call.user, site=site, from_date=from_date, to_date=to_date, now=call.now()
        )

    @get("/work-orders.csv", summary="Work orders as CSV for Excel", media_type="text/csv")
    async def work_orders_csv(
        self,
        call: Call,
        site: Annotated[str | None, Parameter(description="site code or id; default: all your sites")] = None,
        status: Annotated[
            str | None, Parameter(description="comma-separated statuses", schema_extra=STATUS_LIST)
        ] = None,
        kind: Annotated[
            str | None, Parameter(description="comma-separated kinds", schema_extra=KIND_LIST)
        ] = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
        overdue: Annotated[str | None, Parameter(description="true: only jobs with a clock past due")] = None,
        lang: Annotated[
            ExportLanguage | None, Parameter(description="zh (default) or en headers and labels")
        ] = None,
    ) -> Stream:
        """The filtered work orders streamed as CSV: UTF-8 BOM, CRLF line ends, site-local times."""
        language = reports.export_language(lang)
        filters = await reports.export_filters(
            call.conn,
            call.user,
            site=site,
            status=status,
            kind=kind,
            overdue=overdue,
            from_date=from_date,
            to_date=to_date,
        )
        now = call.now()
        return Stream(
            reports.stream_export(call.request.app.state.pool, filters, language, now),
            # Litestar adds "; charset=utf-8" to every text/* answer: one charset, not two
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{reports.export_filename(now)}"',
                "Cache-Control": "no-store",
            },
        )
