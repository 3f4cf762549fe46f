"""The QR code on a printed service record opens where users really reach the server: CARETAKER_PUBLIC_URL
when it is set, else the host and port this process serves — never a default that points elsewhere."""

from __future__ import annotations

import re

import msgspec
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.domain.clock import ManualClock
from backend.settings import Settings
from tests.integration.work_order_evidence import create

VERIFY = re.compile(r'data-verify-url="([^"]+)"')


async def _verify_url(settings: Settings, clock: ManualClock) -> tuple[str, str]:
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        r = await client.post("/api/v1/auth/login", json={"username": "agent", "password": "demo1234"})
        agent = {"Authorization": f"Bearer {r.json()['token']}"}
        job = await create(client, agent)
        page = await client.get(f"/api/v1/work-orders/{job['id']}/receipt", headers=agent)
        assert page.status_code == 200, page.text
        found = VERIFY.search(page.text)
        assert found is not None
        return found.group(1), job["id"]


async def test_the_record_links_to_the_address_served(settings: Settings, clock: ManualClock) -> None:
    served = msgspec.structs.replace(settings, host="192.0.2.10", port=8123)
    url, job_id = await _verify_url(served, clock)
    assert url == f"http://192.0.2.10:8123/api/v1/work-orders/{job_id}/verify"


async def test_the_record_links_to_the_public_address_when_set(
    settings: Settings, clock: ManualClock
) -> None:
    public = msgspec.structs.replace(settings, public_url="https://wuye.example.cn/", port=8123)
    url, job_id = await _verify_url(public, clock)
    assert url == f"https://wuye.example.cn/api/v1/work-orders/{job_id}/verify"
