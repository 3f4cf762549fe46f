"""Login throttling is no lock-out tool: someone hammering an account slows only themselves, an office
behind one address logs in all day, and X-Forwarded-For counts only from a trusted proxy.

Different client addresses come through a "proxy" at 127.0.0.1 (the app served by uvicorn, trusting
127.0.0.1) that names them in X-Forwarded-For. The app's clock is a ManualClock, so waits are crossed by
moving it, never by sleeping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.domain.clock import ManualClock
from backend.settings import Settings
from tests.integration.sse_client import serve

LOGIN = "/api/v1/auth/login"
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"
RIGHT, WRONG = "demo1234", "not-the-password"


def _throttled(settings: Settings, **changes: object) -> Settings:
    base = {"login_failures_before_backoff": 3, "login_failures_per_address": 10}
    return msgspec.structs.replace(settings, **{**base, **changes})


async def _login(
    http: httpx.AsyncClient, username: str, password: str, address: str | None
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return await http.post(LOGIN, json={"username": username, "password": password}, headers=headers)


@pytest.fixture
async def behind_proxy(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app served over HTTP, whose peer (127.0.0.1) is a trusted proxy."""
    app = create_app(_throttled(settings, trusted_proxies=("127.0.0.1/32",)), clock=clock)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_someone_hammering_an_account_does_not_lock_its_owner_out(
    behind_proxy: httpx.AsyncClient, clock: ManualClock
) -> None:
    for _ in range(4):
        assert (await _login(behind_proxy, "tech1", WRONG, ATTACKER)).status_code == 401
    refused = await _login(behind_proxy, "tech1", RIGHT, ATTACKER)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_requests"
    wait = int(refused.headers["Retry-After"])
    assert refused.json()["retryAfter"] == wait

    # the owner, from their own address, gets straight in
    owner = await _login(behind_proxy, "tech1", RIGHT, OWNER)
    assert owner.status_code == 200, owner.text

    # the attacker waits out the backoff, and the next wrong guess makes the wait twice as long
    clock.advance(wait)
    assert (await _login(behind_proxy, "tech1", WRONG, ATTACKER)).status_code == 401
    again = await _login(behind_proxy, "tech1", WRONG, ATTACKER)
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) == 2 * wait


async def test_one_address_spraying_accounts_meets_the_address_ceiling(
    behind_proxy: httpx.AsyncClient,
) -> None:
    accounts = ["tech1", "tech2", "tech3", "guard1", "guard2", "agent", "supervisor", "manager", "admin"]
    for n in range(10):
        r = await _login(behind_proxy, accounts[n % len(accounts)], WRONG, ATTACKER)
        assert r.status_code == 401, (n, r.text)
    refused = await _login(behind_proxy, "tech2", RIGHT, ATTACKER)
    assert refused.status_code == 429
    assert (await _login(behind_proxy, "tech2", RIGHT, OWNER)).status_code == 200


async def test_an_office_behind_one_address_logs_in_all_day(settings: Settings, clock: ManualClock) -> None:
    app = create_app(
        _throttled(settings, login_failures_before_backoff=1, login_failures_per_address=1), clock=clock
    )
    async with AsyncTestClient(app=app) as office:
        for shift in range(3):
            for username in ("tech1", "tech2", "tech3", "guard1", "guard2", "agent", "supervisor"):
                r = await office.post(LOGIN, json={"username": username, "password": RIGHT})
                assert r.status_code == 200, (shift, username, r.text)


async def test_forwarded_for_from_anyone_else_is_ignored(settings: Settings, clock: ManualClock) -> None:
    # no trusted proxies: the attacker's made-up X-Forwarded-For does not make them someone new
    app = create_app(_throttled(settings), clock=clock)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        for n in range(4):
            assert (await _login(http, "tech1", WRONG, f"192.0.2.{n}")).status_code == 401
        assert (await _login(http, "tech1", RIGHT, "192.0.2.200")).status_code == 429


async def test_wrong_current_passwords_are_throttled_like_logins(
    behind_proxy: httpx.AsyncClient,
) -> None:
    r = await _login(behind_proxy, "agent", RIGHT, OWNER)
    headers = {"Authorization": f"Bearer {r.json()['token']}", "X-Forwarded-For": ATTACKER}
    change = {"currentPassword": WRONG, "newPassword": "pump room 7 at dawn"}
    for _ in range(4):
        r = await behind_proxy.post("/api/v1/me/password", json=change, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "wrong_current_password"
        assert r.json()["field"] == "currentPassword"
    r = await behind_proxy.post(
        "/api/v1/me/password", json={**change, "currentPassword": RIGHT}, headers=headers
    )
    assert r.status_code == 429, r.text
