"""Logging in and bearer tokens: good and bad credentials, expired, forged and revoked tokens, account rules.

(Throttling is in test_login_throttle.py, ending sessions in test_sessions.py.)
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from uuid import UUID

import asyncpg
import jwt
import pytest
from litestar.testing import AsyncTestClient

from backend.db.pool import connect
from backend.errors import ValidationFailed
from backend.services.sessions import start_session
from backend.services.users import create_user
from tests.conftest import TEST_SECRET, LoginAs

Idem = Callable[[], dict[str, str]]
LOGIN = "/api/v1/auth/login"


def _problem(r, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status
    assert body["type"] and body["title"]
    if code:
        assert body["code"] == code
    return body


async def _user_id(db: asyncpg.Connection, username: str) -> str:
    return str(await db.fetchval("SELECT id FROM users WHERE username = $1", username))


async def test_login_returns_a_token_that_works(client: AsyncTestClient) -> None:
    r = await client.post(LOGIN, json={"username": "tech1", "password": "demo1234"})
    assert r.status_code == 200
    body = r.json()
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] > 0
    assert body["user"]["role"] == "technician"
    assert "passwordHash" not in r.text
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "tech1"
    assert me.json()["skills"] == ["water", "electrical"]


async def test_wrong_password_and_unknown_user_look_the_same(client: AsyncTestClient) -> None:
    wrong = await client.post(LOGIN, json={"username": "tech1", "password": "not-the-password"})
    unknown = await client.post(LOGIN, json={"username": "nobody-here", "password": "demo1234"})
    a, b = _problem(wrong, 401, "bad_credentials"), _problem(unknown, 401, "bad_credentials")
    assert a["detail"] == b["detail"]


async def test_me_needs_a_token(client: AsyncTestClient) -> None:
    _problem(await client.get("/api/v1/me"), 401)
    _problem(await client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-jwt"}), 401)
    _problem(await client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)


async def test_an_expired_token_is_refused(client: AsyncTestClient, db: asyncpg.Connection) -> None:
    now = int(time.time())
    user_id = await _user_id(db, "tech1")
    session_id = await start_session(db, UUID(user_id), 3600)
    claims = {"sub": user_id, "jti": str(session_id), "iat": now - 7200, "exp": now - 60}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    _problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)
    # the same claims, still valid, are accepted: the refusal is about the expiry
    fresh = jwt.encode({**claims, "exp": now + 600}, TEST_SECRET, algorithm="HS256")
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_forged_tokens_are_refused(
    client: AsyncTestClient, login_as: LoginAs, db: asyncpg.Connection
) -> None:
    token = (await login_as("tech1"))["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    admin_id = await _user_id(db, "admin")
    claims = {"sub": admin_id, "iat": int(time.time()), "exp": int(time.time()) + 600}
    forged = {
        "flipped signature": f"{header}.{payload}.{flipped}",
        "other secret": jwt.encode(claims, "another-secret-of-sufficient-length-0000", algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "payload swapped": f"{header}.{_b64(claims)}.{signature}",
        "no sub": jwt.encode({"exp": claims["exp"]}, TEST_SECRET, algorithm="HS256"),
        "sub not a uuid": jwt.encode({**claims, "sub": "admin"}, TEST_SECRET, algorithm="HS256"),
    }
    for name, bad in forged.items():
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        _problem(r, 401)
        assert "admin" not in r.text, name
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_a_deactivated_users_token_stops_working(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem, db: asyncpg.Connection
) -> None:
    tech = await login_as("tech3")
    assert (await client.get("/api/v1/me", headers=tech)).status_code == 200
    r = await client.delete(
        f"/api/v1/users/{await _user_id(db, 'tech3')}", headers={**await login_as("admin"), **idem()}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["onDuty"]) == (False, False)
    _problem(await client.get("/api/v1/me", headers=tech), 401)
    _problem(
        await client.post(LOGIN, json={"username": "tech3", "password": "demo1234"}), 401, "bad_credentials"
    )


async def test_admins_cannot_lock_themselves_out(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem, db: asyncpg.Connection
) -> None:
    admin = await login_as("admin")
    admin_id = await _user_id(db, "admin")
    _problem(
        await client.delete(f"/api/v1/users/{admin_id}", headers={**admin, **idem()}), 409, "self_lockout"
    )
    r = await client.patch(f"/api/v1/users/{admin_id}", json={"role": "agent"}, headers={**admin, **idem()})
    _problem(r, 409, "self_lockout")


async def test_admin_creates_an_account_that_can_log_in(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem
) -> None:
    body = {
        "username": "wang.tech",
        "displayName": "王师傅",
        "password": "a-strong-passphrase",
        "role": "technician",
        "sites": ["demo"],
        "skills": ["gas", "water"],
        "onDuty": True,
        "phone": "13811112222",
    }
    r = await client.post("/api/v1/users", json=body, headers={**await login_as("admin"), **idem()})
    assert r.status_code == 201, r.text
    assert r.json()["skills"] == ["gas", "water"]
    assert "password" not in r.text.lower()
    me = await login_as("wang.tech", "a-strong-passphrase")
    assert (await client.get("/api/v1/me", headers=me)).json()["displayName"] == "王师傅"

    again = await client.post("/api/v1/users", json=body, headers={**await login_as("admin"), **idem()})
    _problem(again, 409, "username_taken")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "demo1234"}, "password"),
        ({"password": "short"}, "password"),
        ({"password": "12345678"}, "password"),
        ({"password": "password"}, "password"),
        ({"password": "1234567890"}, "password"),
        ({"password": "new.agent.2024"}, "password"),
        ({"password": "xin-ke-fu-新客服"}, "password"),
        ({"sites": ["atlantis"]}, "sites"),
        ({"sites": []}, "sites"),
        ({"role": "janitor"}, "role"),
        ({"skills": ["juggling"]}, "skills"),
        ({"username": "has space"}, "username"),
    ],
)
async def test_account_rules(
    client: AsyncTestClient, login_as: LoginAs, idem: Idem, change: dict, field: str
) -> None:
    body = {"username": "new.agent", "displayName": "新客服", "password": "long-enough-1", "role": "agent"}
    r = await client.post(
        "/api/v1/users",
        json={**body, "sites": ["demo"], **change},
        headers={**await login_as("admin"), **idem()},
    )
    assert r.status_code in (400, 422), r.text
    assert r.json()["field"] == field


async def test_the_demo_password_is_refused_outside_the_demo(empty_db_url: str) -> None:
    conn = await connect(empty_db_url)
    try:
        await conn.execute("INSERT INTO sites (code, name) VALUES ('real', '真实小区')")
        with pytest.raises(ValidationFailed) as refused:
            await create_user(
                conn,
                username="ops",
                display_name="ops",
                password="demo1234",
                role="manager",
                site_codes=["real"],
            )
        assert refused.value.field == "password"
        account = {"username": "ops", "display_name": "ops", "role": "manager", "site_codes": ["real"]}
        created = await create_user(conn, **account, password="demo1234", demo=True)
        assert created.username == "ops"
    finally:
        await conn.close()


async def test_me_says_which_time_zone_the_screens_show(
    client: AsyncTestClient, db: asyncpg.Connection
) -> None:
    """Times on every screen are the site's, whatever the phone's clock is set to: the server says which."""
    token = (await client.post(LOGIN, json={"username": "agent", "password": "demo1234"})).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["timeZone"] == "Asia/Shanghai"
    await db.execute("UPDATE sites SET timezone = 'Asia/Urumqi' WHERE code = 'demo'")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["timeZone"] == "Asia/Urumqi"
    assert list(me["siteTimeZones"].values()) == ["Asia/Urumqi"]
