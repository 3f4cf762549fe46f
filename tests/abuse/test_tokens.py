"""Tokens stay honest after the account changes, and garbage Authorization headers are plain 401s.

(Expiry, forged signatures, a deactivated user and login throttling are in tests/integration/test_auth.py.)
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from litestar.testing import AsyncTestClient

from tests.abuse.conftest import bearer_for
from tests.abuse.estate import A_REPAIR, add_user
from tests.conftest import LoginAs


async def test_a_role_changed_since_the_token_was_issued_applies_at_once(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    headers = await login_as("agent")
    r = await client.get("/api/v1/users", headers=headers)
    assert r.status_code == 200
    admin = await login_as("admin")
    agent_id = await db.fetchval("SELECT id FROM users WHERE username = 'agent'")
    r = await client.patch(
        f"/api/v1/users/{agent_id}",
        json={"role": "guard"},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 200, r.text
    # The same token, unchanged: it now carries a guard's rights.
    me = await client.get("/api/v1/me", headers=headers)
    assert me.json()["role"] == "guard"
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 403
    promoted = await client.patch(
        f"/api/v1/users/{agent_id}",
        json={"role": "admin"},
        headers={**admin, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert promoted.status_code == 200, promoted.text
    r = await client.post(
        "/api/v1/sites",
        json={"code": "promoted", "name": "新苑", "timezone": "Asia/Shanghai"},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert r.status_code == 201, r.text


async def test_the_token_of_a_deleted_user_is_refused(
    client: AsyncTestClient, db: asyncpg.Connection
) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    user_id = await add_user(db, "shortlived", "agent", site_id)
    headers = await bearer_for(db, user_id)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await db.execute("DELETE FROM users WHERE id = $1", user_id)
    # The API forgets a remembered user when PostgreSQL's NOTIFY of the deletion reaches it (at commit, the
    # same event loop here): give the loop its turn to read it, then the old token must be refused.
    for _ in range(100):
        r = await client.get("/api/v1/work-orders", headers=headers)
        if r.status_code != 200:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_removing_a_site_membership_hides_that_site_from_an_old_token(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs
) -> None:
    headers = await login_as("supervisor")
    listed = await client.get("/api/v1/work-orders", headers=headers)
    job = listed.json()["items"][0]["id"] if listed.json().get("items") else None
    if job is None:
        agent = await login_as("agent")
        created = await client.post(
            "/api/v1/work-orders",
            json=A_REPAIR,
            headers={**agent, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert created.status_code == 201, created.text
        job = created.json()["id"]
    assert (await client.get(f"/api/v1/work-orders/{job}", headers=headers)).status_code == 200
    await db.execute(
        "DELETE FROM user_sites WHERE user_id = (SELECT id FROM users WHERE username = 'supervisor')"
    )
    # Forgotten when the NOTIFY of the change reaches the API (as for a deleted user above): give the loop
    # its turn to read it, then the job must be out of reach.
    for _ in range(100):
        r = await client.get(f"/api/v1/work-orders/{job}", headers=headers)
        if r.status_code != 200:
            break
        await asyncio.sleep(0.02)
    assert r.status_code == 404
    assert job not in (await client.get("/api/v1/work-orders", headers=headers)).text
    assert (await client.get("/api/v1/units", headers=headers)).json()["items"] == []
    assert (
        await client.get("/api/v1/reports/kpis", params={"site": "demo"}, headers=headers)
    ).status_code == 404


GARBAGE_AUTHORIZATION = {
    "no scheme": "{token}",
    "another scheme with a valid token": "Basic {token}",
    "two spaces": "Bearer  {token}",
    "trailing junk": "Bearer {token} extra",
    "lower-case scheme twice": "bearer bearer {token}",
    "10 KB token": "Bearer " + "A" * 10_240,
    "non-ASCII token": "Bearer 令牌令牌.令牌.令牌",
    "empty bearer": "Bearer ",
    "three dots": "Bearer ...",
    "alg none": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.",
}


async def test_garbage_authorization_headers_are_a_401_problem(
    client: AsyncTestClient, login_as: LoginAs
) -> None:
    token = (await login_as("tech1"))["Authorization"].removeprefix("Bearer ")
    wrong = []
    for name, template in GARBAGE_AUTHORIZATION.items():
        value = template.format(token=token)
        r = await client.get("/api/v1/me", headers={"Authorization": value.encode("utf-8")})
        problem = r.headers.get("content-type", "").startswith("application/problem+json")
        if r.status_code != 401 or not problem or r.json()["status"] != 401:
            wrong.append(f"{name}: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)
