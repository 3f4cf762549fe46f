"""Text answers say their charset once: "text/csv; charset=utf-8; charset=utf-8" confuses strict clients
(and Excel's import wizard) about what they are reading."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.work_order_evidence import create


async def test_csv_receipt_and_service_worker_name_one_charset(client: AsyncTestClient, login_as) -> None:
    manager = await login_as("manager")
    csv = await client.get("/api/v1/reports/work-orders.csv", params={"site": "demo"}, headers=manager)
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"

    job = await create(client, await login_as("agent"))
    receipt = await client.get(f"/api/v1/work-orders/{job['id']}/receipt", headers=manager)
    assert receipt.status_code == 200, receipt.text
    assert receipt.headers["content-type"] == "text/html; charset=utf-8"

    worker = await client.get("/sw.js")
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
