"""Web Push subscriptions as an attack surface: endpoints that would make the server call into its own
network, a stored endpoint that should never be posted to, and one user taking over another's endpoint.

These run with the default settings (private endpoints refused). No test here makes the server send to a
public address: the scheduler is off, and the only dispatcher run is pointed at the local push service.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.notify.dispatcher import PushSender, send_due_notifications
from backend.notify.vapid import ensure_vapid_keys
from tests.conftest import LoginAs
from tests.integration.alarm_fixtures import raise_device_alarm
from tests.integration.fake_push_service import BrowserKeys, FakePushService

# A public address, never contacted: storing a subscription makes no request to it.
PUBLIC_ENDPOINT = "https://8.8.8.8/push/guard-room-phone"

REFUSED: dict[str, tuple[str, str]] = {
    "plain http": ("http://8.8.8.8/push/x", "push_endpoint_not_https"),
    "loopback literal": ("https://127.0.0.1:8443/push/x", "push_endpoint_not_public"),
    "localhost, resolved": ("https://localhost/push/x", "push_endpoint_not_public"),
    "127.0.0.1 spelled as one number, resolved": ("https://2130706433/push/x", "push_endpoint_not_public"),
    "RFC 1918 10/8": ("https://10.1.2.3/push/x", "push_endpoint_not_public"),
    "RFC 1918 172.16/12": ("https://172.16.5.4/push/x", "push_endpoint_not_public"),
    "RFC 1918 192.168/16": ("https://192.168.1.10/push/x", "push_endpoint_not_public"),
    "cloud metadata (link-local)": ("https://169.254.169.254/latest/meta-data", "push_endpoint_not_public"),
    "carrier-grade NAT 100.64/10": ("https://100.64.0.1/push/x", "push_endpoint_not_public"),
    "IPv6 loopback": ("https://[::1]/push/x", "push_endpoint_not_public"),
    "IPv6 link-local": ("https://[fe80::1]/push/x", "push_endpoint_not_public"),
    "IPv6 unique local": ("https://[fd12:3456::1]/push/x", "push_endpoint_not_public"),
    "IPv4-mapped loopback": ("https://[::ffff:127.0.0.1]/push/x", "push_endpoint_not_public"),
    "unspecified": ("https://0.0.0.0/push/x", "push_endpoint_not_public"),
    "credentials in the URL": ("https://user:pw@8.8.8.8/push/x", "push_endpoint_invalid"),
    "a name that does not resolve": ("https://push.invalid/x", "push_endpoint_unresolvable"),
}


def _subscription(endpoint: str, keys: BrowserKeys) -> dict[str, Any]:
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}}


@pytest.mark.parametrize("case", REFUSED)
async def test_only_https_endpoints_on_public_addresses_are_stored(
    case: str, client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem
) -> None:
    endpoint, code = REFUSED[case]
    r = await client.post(
        "/api/v1/push/subscriptions",
        headers={**await login_as("guard1"), **idem()},
        json=_subscription(endpoint, BrowserKeys()),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["code"], r.json()["field"]) == (code, "endpoint")
    assert await db.fetchval("SELECT count(*) FROM push_subscriptions") == 0


async def test_a_public_https_endpoint_is_stored(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem
) -> None:
    r = await client.post(
        "/api/v1/push/subscriptions",
        headers={**await login_as("guard1"), **idem()},
        json=_subscription(PUBLIC_ENDPOINT, BrowserKeys()),
    )
    assert r.status_code == 201, r.text
    assert await db.fetchval("SELECT endpoint FROM push_subscriptions") == PUBLIC_ENDPOINT


async def _holder(db: asyncpg.Connection, endpoint: str) -> asyncpg.Record:
    return await db.fetchrow(
        """SELECT u.username, s.p256dh, s.auth FROM push_subscriptions s JOIN users u ON u.id = s.user_id
           WHERE s.endpoint = $1""",
        endpoint,
    )


async def test_another_users_browser_cannot_take_over_an_endpoint(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem
) -> None:
    guard_phone = BrowserKeys()
    r = await client.post(
        "/api/v1/push/subscriptions",
        headers={**await login_as("guard1"), **idem()},
        json=_subscription(PUBLIC_ENDPOINT, guard_phone),
    )
    assert r.status_code == 201, r.text

    # someone who learnt the endpoint posts it with keys of their own: the guard's alarms must stay put
    r = await client.post(
        "/api/v1/push/subscriptions",
        headers={**await login_as("tech1"), **idem()},
        json=_subscription(PUBLIC_ENDPOINT, BrowserKeys()),
    )
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "push_endpoint_taken"
    holder = await _holder(db, PUBLIC_ENDPOINT)
    assert (holder["username"], holder["p256dh"], holder["auth"]) == (
        "guard1",
        guard_phone.p256dh,
        guard_phone.auth,
    )


async def test_the_shared_guard_room_phone_belongs_to_whoever_signed_in_last(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem
) -> None:
    guard_room_phone = BrowserKeys()  # one browser: its endpoint and keys stay the same across sign-ins
    for guard in ("guard1", "guard2"):
        r = await client.post(
            "/api/v1/push/subscriptions",
            headers={**await login_as(guard), **idem()},
            json=_subscription(PUBLIC_ENDPOINT, guard_room_phone),
        )
        assert r.status_code == 201, (guard, r.text)
    assert (await _holder(db, PUBLIC_ENDPOINT))["username"] == "guard2"
    assert await db.fetchval("SELECT count(*) FROM push_subscriptions") == 1


async def test_the_dispatcher_never_posts_to_a_private_endpoint_already_stored(
    db: asyncpg.Connection, pool: asyncpg.Pool, clock: ManualClock, push_service: FakePushService
) -> None:
    # a row written before endpoints were checked (or straight into the database)
    endpoint = push_service.endpoint("guard1")
    keys = BrowserKeys()
    await db.execute(
        """INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
           SELECT id, $1, $2, $3 FROM users WHERE username = 'guard1'""",
        endpoint,
        keys.p256dh,
        keys.auth,
    )
    await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    clock.set(max(clock.now(), await db.fetchval("SELECT clock_timestamp()")) + timedelta(seconds=1))

    sender = PushSender(await ensure_vapid_keys(pool), "https://caretaker.example.com")
    report = await send_due_notifications(pool, sender, clock)

    assert push_service.posts_to("guard1") == []
    assert report.removed_endpoints == [endpoint]
    assert await db.fetchval("SELECT count(*) FROM push_subscriptions") == 0
    delivery = await db.fetchrow("SELECT status, error FROM push_deliveries WHERE endpoint = $1", endpoint)
    assert delivery["status"] is None and delivery["error"].startswith("not sent:")
    # refused is final, not a failure to retry
    note = await db.fetchrow(
        """SELECT n.sent_at, n.failed_at FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE u.username = 'guard1' AND n.kind = 'alarm'"""
    )
    assert note["sent_at"] is not None and note["failed_at"] is None
