"""Sessions that can be ended: every way a user's access ends or changes closes their open live streams at
once (a real SSE client over HTTP) and, where the access ended, makes the old token a 401."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import httpx
import pytest

from backend.app import create_app
from backend.domain.clock import ManualClock
from backend.scheduling import JOBS, JobContext, forget_old_sessions
from backend.services.notifications import publish
from backend.settings import Settings
from tests.integration.sse_client import SseStream, login, open_stream, serve, stream_ticket

NEW_PASSWORD = "pump room 7 at dawn"


@pytest.fixture
async def base_url(settings: Settings, clock: ManualClock) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port."""
    async with serve(create_app(settings, clock=clock)) as url:
        yield url


@dataclass
class World:
    """The served app, a direct database connection and a way to call the API."""

    base_url: str
    db: asyncpg.Connection
    db_url: str
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, token: str, json: object = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        return await self.http.request(method, path, headers=headers, json=json)

    async def user_id(self, username: str) -> UUID:
        return await self.db.fetchval("SELECT id FROM users WHERE username = $1", username)

    async def demo_site(self) -> UUID:
        return await self.db.fetchval("SELECT id FROM sites WHERE code = 'demo'")

    async def publish(self, marker: str) -> None:
        async with self.db.transaction():
            await publish(
                self.db, site_id=await self.demo_site(), type="work_order.updated", data={"m": marker}
            )


@pytest.fixture
async def world(base_url: str, db: asyncpg.Connection, db_url: str) -> AsyncIterator[World]:
    """The app over HTTP and the test's database."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        yield World(base_url=base_url, db=db, db_url=db_url, http=http)


async def _closing_reason(stream: SseStream) -> str:
    """Read to the stream's `stream.closed` event, check that the stream then ends, and say why it closed."""
    [*_, closed] = await stream.events_until(lambda e: e.event == "stream.closed", timeout=10)
    assert closed.id is None, "the closing event must not move the browser's Last-Event-ID"
    with pytest.raises(EOFError):
        await stream.next_event(timeout=10)
    return closed.json["reason"]


async def _still_open(world: World, stream: SseStream) -> None:
    marker = uuid.uuid4().hex
    await world.publish(marker)
    [*_, event] = await stream.events_until(
        lambda e: e.event == "work_order.updated" and e.json["m"] == marker
    )
    assert event.id is not None


Change = Callable[[World, str, str], Awaitable[None]]  # (world, the user's token, an admin's token)


async def _log_out(world: World, token: str, _admin: str) -> None:
    r = await world.call("POST", "/api/v1/auth/logout", token)
    assert r.status_code == 200, r.text
    assert r.json() == {"sessionsEnded": 1}


async def _log_out_everywhere(world: World, token: str, _admin: str) -> None:
    r = await world.call("POST", "/api/v1/auth/logout-all", token)
    assert r.status_code == 200, r.text
    assert r.json()["sessionsEnded"] >= 1


async def _change_password_elsewhere(world: World, _token: str, _admin: str) -> None:
    # from the same user's other phone: the session whose stream we watch is one of the "others"
    other = await login(world.base_url, "guard1")
    r = await world.call(
        "POST", "/api/v1/me/password", other, {"currentPassword": "demo1234", "newPassword": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    assert (await world.call("GET", "/api/v1/me", other)).status_code == 200, "the changing session goes on"


async def _deactivate(world: World, _token: str, admin: str) -> None:
    r = await world.call("DELETE", f"/api/v1/users/{await world.user_id('guard1')}", admin)
    assert r.status_code == 200, r.text


async def _reset_password(world: World, _token: str, admin: str) -> None:
    r = await world.call(
        "PATCH", f"/api/v1/users/{await world.user_id('guard1')}", admin, {"password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text


async def _switch_off_by_hand(world: World, _token: str, _admin: str) -> None:
    # an operator's UPDATE, not the API: the database itself says the access changed
    await world.db.execute("UPDATE users SET active = false WHERE username = 'guard1'")


async def _move_to_another_site(world: World, _token: str, admin: str) -> None:
    await world.db.execute("INSERT INTO sites (code, name) VALUES ('north', '北苑')")
    r = await world.call(
        "PATCH", f"/api/v1/users/{await world.user_id('guard1')}", admin, {"sites": ["north"]}
    )
    assert r.status_code == 200, r.text


async def _change_role(world: World, _token: str, admin: str) -> None:
    r = await world.call(
        "PATCH", f"/api/v1/users/{await world.user_id('guard1')}", admin, {"role": "technician"}
    )
    assert r.status_code == 200, r.text


# change -> (why the stream closes, what the old token gets afterwards)
CHANGES: dict[str, tuple[Change, str, int]] = {
    "logout": (_log_out, "signed_out", 401),
    "logout-all": (_log_out_everywhere, "signed_out", 401),
    "password changed on another device": (_change_password_elsewhere, "signed_out", 401),
    "deactivated": (_deactivate, "signed_out", 401),
    "password reset by an admin": (_reset_password, "signed_out", 401),
    "switched off in the database": (_switch_off_by_hand, "signed_out", 401),
    # rights changed, not ended: the token goes on with the new rights; the stream reopens with them
    "moved to another site": (_move_to_another_site, "access_changed", 200),
    "role changed": (_change_role, "access_changed", 200),
}


@pytest.mark.parametrize("change", CHANGES)
async def test_each_change_of_access_ends_the_open_stream(world: World, change: str) -> None:
    act, reason, token_status = CHANGES[change]
    token, admin = await login(world.base_url, "guard1"), await login(world.base_url, "admin")
    async with open_stream(world.base_url, ticket=await stream_ticket(world.base_url, token)) as stream:
        await _still_open(world, stream)
        await act(world, token, admin)
        assert await _closing_reason(stream) == reason
    assert (await world.call("GET", "/api/v1/me", token)).status_code == token_status
    if token_status == 401:
        refused = await world.call("POST", "/api/v1/stream/tickets", token)
        assert refused.status_code == 401
        async with open_stream(world.base_url, token=token) as stream:
            assert stream.response.status_code == 401


async def test_logout_ends_only_this_session(world: World) -> None:
    phone, desk = await login(world.base_url, "supervisor"), await login(world.base_url, "supervisor")
    async with (
        open_stream(world.base_url, ticket=await stream_ticket(world.base_url, phone)) as on_phone,
        open_stream(world.base_url, token=desk) as on_desk,
    ):
        await _log_out(world, phone, "")
        assert await _closing_reason(on_phone) == "signed_out"
        await _still_open(world, on_desk)
    assert (await world.call("GET", "/api/v1/me", phone)).status_code == 401
    assert (await world.call("GET", "/api/v1/me", desk)).status_code == 200
    assert (await world.call("POST", "/api/v1/auth/logout", phone)).status_code == 401


async def test_logout_everywhere_ends_every_session_and_a_new_login_works(world: World) -> None:
    tokens = [await login(world.base_url, "tech1") for _ in range(3)]
    async with (
        open_stream(world.base_url, token=tokens[1]) as first,
        open_stream(world.base_url, ticket=await stream_ticket(world.base_url, tokens[2])) as second,
    ):
        r = await world.call("POST", "/api/v1/auth/logout-all", tokens[0])
        assert r.json() == {"sessionsEnded": 3}
        assert await _closing_reason(first) == "signed_out"
        assert await _closing_reason(second) == "signed_out"
    for token in tokens:
        assert (await world.call("GET", "/api/v1/me", token)).status_code == 401
    assert (await world.call("GET", "/api/v1/me", await login(world.base_url, "tech1"))).status_code == 200


async def test_a_password_change_keeps_this_session_and_its_stream(world: World) -> None:
    token, other = await login(world.base_url, "agent"), await login(world.base_url, "agent")
    async with open_stream(world.base_url, ticket=await stream_ticket(world.base_url, token)) as stream:
        r = await world.call(
            "POST", "/api/v1/me/password", token, {"currentPassword": "demo1234", "newPassword": NEW_PASSWORD}
        )
        assert r.json() == {"sessionsEnded": 1}
        await _still_open(world, stream)
    assert (await world.call("GET", "/api/v1/me", token)).status_code == 200
    assert (await world.call("GET", "/api/v1/me", other)).status_code == 401
    async with httpx.AsyncClient(base_url=world.base_url) as http:
        old = await http.post("/api/v1/auth/login", json={"username": "agent", "password": "demo1234"})
        new = await http.post("/api/v1/auth/login", json={"username": "agent", "password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (401, 200)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"currentPassword": "wrong-password"}, "currentPassword", "wrong_current_password"),
        ({"newPassword": "12345678"}, "newPassword", "password_too_short"),
        ({"newPassword": "password1234"}, "newPassword", "password_common"),
        ({"newPassword": "agent-agent-1"}, "newPassword", "password_like_name"),
        ({"newPassword": "demo1234"}, "newPassword", "password_unchanged"),
    ],
)
async def test_a_refused_password_change_changes_nothing(
    world: World, change: dict, field: str, code: str
) -> None:
    token, other = await login(world.base_url, "agent"), await login(world.base_url, "agent")
    body = {"currentPassword": "demo1234", "newPassword": NEW_PASSWORD, **change}
    r = await world.call("POST", "/api/v1/me/password", token, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["field"], r.json()["code"]) == (field, code)
    assert (await world.call("GET", "/api/v1/me", other)).status_code == 200
    assert await login(world.base_url, "agent")


async def test_reactivating_an_account_does_not_revive_its_old_tokens(world: World) -> None:
    token, admin = await login(world.base_url, "guard2"), await login(world.base_url, "admin")
    guard = await world.user_id("guard2")
    assert (await world.call("DELETE", f"/api/v1/users/{guard}", admin)).status_code == 200
    assert (await world.call("PATCH", f"/api/v1/users/{guard}", admin, {"active": True})).status_code == 200
    assert (await world.call("GET", "/api/v1/me", token)).status_code == 401
    assert (await world.call("GET", "/api/v1/me", await login(world.base_url, "guard2"))).status_code == 200


async def test_a_stream_outlives_neither_its_token_nor_a_lost_notification(
    settings: Settings, clock: ManualClock, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the timer is what catches what no NOTIFY announces: a token reaching its expiry
    monkeypatch.setattr("backend.notify.hub.RECHECK_SECONDS", 0.2)
    async with serve(create_app(settings, clock=clock)) as url:
        token = await login(url, "guard1")
        async with open_stream(url, token=token) as stream:
            await db.execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
            [*_, closed] = await stream.events_until(lambda e: e.event == "stream.closed", timeout=10)
            assert closed.json["reason"] == "signed_out"


async def test_housekeeping_forgets_long_expired_sessions_and_expired_tickets(
    world: World, clock: ManualClock
) -> None:
    token = await login(world.base_url, "tech2")
    await stream_ticket(world.base_url, token)
    stale = await world.db.fetchval(
        "INSERT INTO sessions (user_id, expires_at) VALUES ($1, now() - interval '31 days') RETURNING id",
        await world.user_id("tech2"),
    )
    await world.db.execute("UPDATE stream_tickets SET expires_at = now() - interval '1 second'")
    assert (forget_old_sessions, 3600.0) in JOBS
    pool = await asyncpg.create_pool(world.db_url, min_size=1, max_size=1)
    try:
        assert await forget_old_sessions(JobContext(pool=pool, clock=clock)) == 1
    finally:
        await pool.close()
    assert await world.db.fetchval("SELECT count(*) FROM sessions WHERE id = $1", stale) == 0
    assert await world.db.fetchval("SELECT count(*) FROM stream_tickets") == 0
    assert (await world.call("GET", "/api/v1/me", token)).status_code == 200


async def test_a_remembered_token_is_refused_once_its_session_ends_elsewhere(world: World) -> None:
    # the token's user is remembered after its first request; ending the session outside this process
    # (another API process, an operator) reaches this one only through the NOTIFY
    token = await login(world.base_url, "tech2")
    for _ in range(3):
        assert (await world.call("GET", "/api/v1/me", token)).status_code == 200
    await world.db.execute("UPDATE sessions SET ended_at = now(), ended_why = 'logout'")
    statuses = set()
    for _ in range(200):
        status = (await world.call("GET", "/api/v1/me", token)).status_code
        statuses.add(status)
        if status == 401:
            break
        await asyncio.sleep(0.05)
    assert 401 in statuses


async def test_a_remembered_user_carries_the_rights_changed_since(world: World) -> None:
    token, admin = await login(world.base_url, "tech2"), await login(world.base_url, "admin")
    assert (await world.call("GET", "/api/v1/me", token)).json()["role"] == "technician"
    r = await world.call("PATCH", f"/api/v1/users/{await world.user_id('tech2')}", admin, {"role": "guard"})
    assert r.status_code == 200, r.text
    roles = []
    for _ in range(200):
        roles.append((await world.call("GET", "/api/v1/me", token)).json()["role"])
        if roles[-1] == "guard":
            break
        await asyncio.sleep(0.05)
    assert roles[-1] == "guard"


async def _me_until(world: World, token: str, done: Callable[[dict], bool]) -> dict:
    """GET /me until `done` holds (the NOTIFY reaches the app within milliseconds), or give up."""
    for _ in range(200):
        me = (await world.call("GET", "/api/v1/me", token)).json()
        if done(me):
            break
        await asyncio.sleep(0.05)
    return me


async def test_a_remembered_user_carries_a_changed_name_duty_and_language(world: World) -> None:
    token, admin = await login(world.base_url, "tech2"), await login(world.base_url, "admin")
    before = (await world.call("GET", "/api/v1/me", token)).json()
    change = {"displayName": "新名字", "onDuty": not before["onDuty"], "locale": "en"}
    r = await world.call("PATCH", f"/api/v1/users/{await world.user_id('tech2')}", admin, change)
    assert r.status_code == 200, r.text
    me = await _me_until(world, token, lambda m: m["locale"] == "en")
    assert (me["displayName"], me["onDuty"], me["locale"]) == ("新名字", not before["onDuty"], "en")


async def test_a_remembered_admin_sees_a_site_added_since(world: World) -> None:
    admin = await login(world.base_url, "admin")
    assert (await world.call("GET", "/api/v1/me", admin)).status_code == 200
    north = await world.db.fetchval("INSERT INTO sites (code, name) VALUES ('north', '北苑') RETURNING id")
    me = await _me_until(world, admin, lambda m: str(north) in m["siteIds"])
    assert str(north) in me["siteIds"]
