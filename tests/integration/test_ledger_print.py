"""The hazard ledger's print view: one site's ledger as an A4 page, narrowed by status and risk level, in
Chinese or English, escaped, for supervisors and up."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
from litestar.testing import AsyncTestClient

PRINT = "/api/v1/hazards/print"


async def register(client: AsyncTestClient, headers: dict[str, str], place: str, risk: str) -> dict:
    r = await client.post(
        "/api/v1/hazards",
        json={"place": place, "description": f"{place}：需要整改", "riskLevel": risk},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_ledger_prints_per_site_with_filters(
    client: AsyncTestClient, db: asyncpg.Connection, login_as
) -> None:
    supervisor = await login_as("supervisor")
    roof = await register(client, supervisor, "3栋天台", "high")
    await register(client, supervisor, "车库<script>坡道", "low")
    await register(client, supervisor, "2栋配电房", "medium")
    tech1 = str(await db.fetchval("SELECT id FROM users WHERE username = 'tech1'"))
    analysis = {
        "cause": "门锁损坏",
        "responsibleId": tech1,
        "deadline": (date.today() + timedelta(days=7)).isoformat(),
        "standard": "天台门常闭上锁",
    }
    for move, body in (("analyse", analysis), ("control", {"measure": "天台门加锁，设警示牌"})):
        r = await client.post(
            f"/api/v1/hazards/{roof['id']}/{move}",
            json=body,
            headers={**supervisor, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert r.status_code == 200, r.text

    everything = await client.get(PRINT, params={"site": "demo"}, headers=supervisor)
    assert everything.status_code == 200, everything.text
    assert everything.headers["content-type"].startswith("text/html")
    page = everything.text
    assert "@page { size: A4 landscape" in page and "安全隐患台账" in page and "共 3 条" in page
    assert "隐患描述" in page and "临时管控措施" in page and "天台门加锁，设警示牌" in page
    # what a user typed is text, never markup
    assert "<script>" not in page and "车库&lt;script&gt;坡道" in page
    # the inline style is admitted by its hash, and nothing else runs
    policy = everything.headers["content-security-policy"]
    assert "style-src 'sha256-" in policy and "script-src" not in policy and "default-src 'none'" in policy

    high = (await client.get(PRINT, params={"site": "demo", "risk": "high,major"}, headers=supervisor)).text
    assert "3栋天台" in high and "2栋配电房" not in high and "共 1 条" in high
    registered = (await client.get(PRINT, params={"status": "registered"}, headers=supervisor)).text
    assert "3栋天台" not in registered and "2栋配电房" in registered and "共 2 条" in registered
    english = (await client.get(PRINT, params={"lang": "en", "risk": "high"}, headers=supervisor)).text
    assert "Hazard ledger" in english and "Temporary control" in english and "Controlled" in english
    assert "1 hazards" in english

    bad = await client.get(PRINT, params={"risk": "huge"}, headers=supervisor)
    assert bad.status_code == 422 and bad.json()["field"] == "risk"
    assert (await client.get(PRINT, params={"lang": "fr"}, headers=supervisor)).status_code == 422
    assert (await client.get(PRINT, headers=await login_as("guard1"))).status_code == 403
    assert (await client.get(PRINT, headers=await login_as("tech1"))).status_code == 403
