"""Web Push end to end: subscriptions through the API, the dispatcher sending with pywebpush to a local push
service that decrypts each payload with the browser's keys; gone endpoints removed, failures retried.

The local push service listens on 127.0.0.1 over plain http, which production refuses: these tests turn on
CARETAKER_PUSH_ALLOW_PRIVATE_ENDPOINTS explicitly (tests/abuse/test_push_endpoints.py checks the default).
"""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import asyncpg
import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock, SystemClock
from backend.notify.dispatcher import MAX_ATTEMPTS, PushDispatcher, PushSender, send_due_notifications
from backend.notify.vapid import ensure_vapid_keys
from backend.settings import Settings
from tests.conftest import LoginAs
from tests.integration.alarm_fixtures import raise_device_alarm
from tests.integration.fake_push_service import BrowserKeys, FakePushService, b64url


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with private endpoints allowed: the local push service is on 127.0.0.1."""
    return msgspec.structs.replace(settings, push_allow_private_endpoints=True)


def local_sender(vapid, public_url: str) -> PushSender:
    """A sender that may reach the local push service."""
    return PushSender(vapid, public_url, allow_private_endpoints=True)


async def catch_up(clock: ManualClock, db: asyncpg.Connection) -> None:
    """Move the test clock just past the database's time: outbox rows fall due at their commit time."""
    clock.set(max(clock.now(), await db.fetchval("SELECT clock_timestamp()")) + timedelta(seconds=1))


async def _subscribe(
    client: AsyncTestClient, headers: dict[str, str], idem: dict[str, str], endpoint: str, keys: BrowserKeys
) -> None:
    r = await client.post(
        "/api/v1/push/subscriptions",
        headers={**headers, **idem},
        json={
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": keys.p256dh, "auth": keys.auth},
        },
    )
    assert r.status_code == 201, r.text


async def test_critical_alarm_is_pushed_encrypted_gone_endpoints_dropped_failures_retried(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
    login_as: LoginAs,
    idem,
    push_service: FakePushService,
) -> None:
    vapid_public = (await client.get("/api/v1/push/vapid-public-key")).json()["publicKey"]
    guard1, guard2, tech1 = BrowserKeys(), BrowserKeys(), BrowserKeys()
    await _subscribe(client, await login_as("guard1"), idem(), push_service.endpoint("guard1"), guard1)
    await _subscribe(client, await login_as("guard2"), idem(), push_service.endpoint("guard2", 410), guard2)
    await _subscribe(client, await login_as("tech1"), idem(), push_service.endpoint("tech1", 500), tech1)

    alarm = await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
    await catch_up(clock, db)
    sender = local_sender(await ensure_vapid_keys(pool), "https://caretaker.example.com")
    report = await send_due_notifications(pool, sender, clock)

    # guard1's phone gets the alarm, decryptable only with its own keys
    [post] = push_service.posts_to("guard1")
    message = guard1.decrypt(post.body)
    assert message["kind"] == "alarm"
    assert message["urgency"] == "high"
    assert str(alarm.id) in message["url"]
    assert message["tag"] == f"alarm:{alarm.id}"
    assert message["title"] and message["severity"] == "critical" and message["code"] == "ELEVATOR_ENTRAPMENT"
    assert message["alarmId"] == str(alarm.id) and message["escalationLevel"] == 0
    assert message["ackDueAt"] == alarm.ack_due_at.isoformat()  # type: ignore[union-attr]
    assert set(message) == {
        "title",
        "body",
        "url",
        "kind",
        "urgency",
        "tag",
        "severity",
        "alarmId",
        "code",
    } | {
        "ackDueAt",
        "escalationLevel",
    }
    assert post.headers["urgency"] == "high"
    assert post.headers["ttl"] == "300"
    assert post.headers["content-encoding"] == "aes128gcm"
    # the VAPID header names our public key and is signed by its private half
    scheme, _, params = post.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == vapid_public
    point = base64.urlsafe_b64decode(vapid_public + "=" * (-len(vapid_public) % 4))
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    claims = jwt.decode(fields["t"], public_key, algorithms=["ES256"], audience=push_service.base_url)
    assert claims["sub"] == "mailto:ops@caretaker.example.com"

    # guard2's endpoint is gone: the subscription is deleted and the attempt logged
    assert len(push_service.posts_to("guard2")) == 1
    assert await db.fetchval("SELECT count(*) FROM push_subscriptions WHERE endpoint LIKE '%/guard2'") == 0
    assert await db.fetchval("SELECT status FROM push_deliveries WHERE endpoint LIKE '%/guard2'") == 410
    assert report.removed_endpoints == [push_service.endpoint("guard2")]

    # tech1's push service failed: nothing lost, retried after a backoff
    tech1_note = await db.fetchrow(
        """SELECT n.id, n.sent_at, n.attempts, n.next_attempt_at, n.last_error FROM notifications n
           JOIN users u ON u.id = n.recipient_id WHERE u.username = 'tech1' AND n.kind = 'alarm'"""
    )
    assert tech1_note["sent_at"] is None and tech1_note["attempts"] == 1
    assert tech1_note["next_attempt_at"] > clock.now()
    assert "500" in tech1_note["last_error"]
    assert tech1_note["id"] in report.retried

    # too early: nothing is sent again
    await send_due_notifications(pool, sender, clock)
    assert len(push_service.posts_to("tech1")) == 1
    assert len(push_service.posts_to("guard1")) == 1

    clock.advance(10)
    await send_due_notifications(pool, sender, clock)
    tech1_posts = push_service.posts_to("tech1")
    assert [p.status for p in tech1_posts] == [500, 201]
    assert tech1.decrypt(tech1_posts[-1].body)["tag"] == f"alarm:{alarm.id}"
    assert await db.fetchval("SELECT sent_at FROM notifications WHERE id = $1", tech1_note["id"]) is not None
    statuses = await db.fetch(
        "SELECT status FROM push_deliveries WHERE notification_id = $1 ORDER BY id", tech1_note["id"]
    )
    assert [s["status"] for s in statuses] == [500, 201]
    # guard1 was not pushed twice, and everyone without a subscription is settled (sent: nothing to deliver)
    assert len(push_service.posts_to("guard1")) == 1
    assert (
        await db.fetchval("SELECT count(*) FROM notifications WHERE sent_at IS NULL AND failed_at IS NULL")
        == 0
    )


async def test_a_notification_that_keeps_failing_is_given_up(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
    login_as: LoginAs,
    idem,
    push_service: FakePushService,
) -> None:
    keys = BrowserKeys()
    await _subscribe(client, await login_as("guard1"), idem(), push_service.endpoint("down", 503, 503), keys)
    await raise_device_alarm(db, device_id="leak-1", code="WATER_LEAK", now=clock.now())
    await db.execute(
        """UPDATE notifications SET attempts = $1
           WHERE recipient_id = (SELECT id FROM users WHERE username = 'guard1')""",
        MAX_ATTEMPTS - 1,
    )
    await catch_up(clock, db)
    sender = local_sender(await ensure_vapid_keys(pool), "http://127.0.0.1:8000")
    report = await send_due_notifications(pool, sender, clock)
    row = await db.fetchrow(
        """SELECT failed_at, sent_at FROM notifications
           WHERE recipient_id = (SELECT id FROM users WHERE username = 'guard1')"""
    )
    assert row["failed_at"] is not None and row["sent_at"] is None
    assert len(report.failed) == 1


async def test_subscriptions_are_checked_and_can_be_removed(
    client: AsyncTestClient, db: asyncpg.Connection, login_as: LoginAs, idem, push_service: FakePushService
) -> None:
    headers = await login_as("guard1")
    keys = BrowserKeys()
    endpoint = push_service.endpoint("guard1")
    bad_key = await client.post(
        "/api/v1/push/subscriptions",
        headers={**headers, **idem()},
        json={"endpoint": endpoint, "keys": {"p256dh": b64url(b"short"), "auth": keys.auth}},
    )
    assert bad_key.status_code == 422 and bad_key.json()["field"] == "keys.p256dh"
    not_a_url = await client.post(
        "/api/v1/push/subscriptions",
        headers={**headers, **idem()},
        json={"endpoint": "push service", "keys": {"p256dh": keys.p256dh, "auth": keys.auth}},
    )
    assert not_a_url.status_code == 422 and not_a_url.json()["field"] == "endpoint"
    anonymous = await client.post(
        "/api/v1/push/subscriptions",
        headers=idem(),
        json={"endpoint": endpoint, "keys": {"p256dh": keys.p256dh, "auth": keys.auth}},
    )
    assert anonymous.status_code == 401

    await _subscribe(client, headers, idem(), endpoint, keys)
    r = await client.request(
        "DELETE", "/api/v1/push/subscriptions", headers={**headers, **idem()}, json={"endpoint": endpoint}
    )
    assert r.status_code == 200, r.text
    assert await db.fetchval("SELECT count(*) FROM push_subscriptions") == 0
    again = await client.request(
        "DELETE", "/api/v1/push/subscriptions", headers={**headers, **idem()}, json={"endpoint": endpoint}
    )
    assert again.status_code == 404


async def test_vapid_key_is_made_once_and_shared(pool: asyncpg.Pool, client: AsyncTestClient) -> None:
    served = (await client.get("/api/v1/push/vapid-public-key")).json()["publicKey"]
    # concurrent first starts and later restarts all agree on the stored key
    keys = await asyncio.gather(*(ensure_vapid_keys(pool) for _ in range(4)))
    assert {k.public_key for k in keys} == {served}
    assert len(base64.urlsafe_b64decode(served + "=")) == 65


async def test_running_dispatcher_sends_after_commit(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    db_url: str,
    pool: asyncpg.Pool,
    login_as: LoginAs,
    idem,
    push_service: FakePushService,
) -> None:
    keys = BrowserKeys()
    await _subscribe(client, await login_as("tech1"), idem(), push_service.endpoint("tech1"), keys)
    dispatcher = PushDispatcher(
        pool, db_url, local_sender(await ensure_vapid_keys(pool), "http://127.0.0.1:8000"), SystemClock()
    )
    dispatcher.start()
    try:
        alarm = await raise_device_alarm(db, device_id="pres-1", code="PRESSURE_LOW", now=SystemClock().now())
        for _ in range(100):
            if len(push_service.posts_to("tech1")) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
    # the alarm itself, and the emergency work order it made, assigned to tech1 (a water job)
    messages = {m["kind"]: m for m in (keys.decrypt(p.body) for p in push_service.posts_to("tech1"))}
    assert set(messages) == {"alarm", "assignment"}
    assert messages["alarm"]["tag"] == f"alarm:{alarm.id}"
    # a major alarm is not urgent enough to wake a phone in power-saving mode
    assert messages["alarm"]["urgency"] == "normal"
    work_order_id = await db.fetchval("SELECT id FROM work_orders WHERE alarm_id = $1", alarm.id)
    assert messages["assignment"]["url"] == f"/#/job/{work_order_id}"


async def test_an_emergency_assigned_to_a_technician_is_pushed_critical_a_repair_is_not(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    pool: asyncpg.Pool,
    clock: ManualClock,
    login_as: LoginAs,
    idem,
    push_service: FakePushService,
) -> None:
    keys = BrowserKeys()
    await _subscribe(client, await login_as("tech2"), idem(), push_service.endpoint("tech2"), keys)
    agent = await login_as("agent")
    tech2 = await db.fetchval("SELECT id FROM users WHERE username = 'tech2'")
    jobs = {}
    for kind, priority in (("emergency", "P1"), ("repair", "P3")):
        r = await client.post(
            "/api/v1/work-orders",
            headers={**agent, **idem()},
            json={
                "kind": kind,
                "category": "water",
                "channel": "phone",
                "title": f"{kind} 地下车库水管爆裂",
                "site": "demo",
                "location": "地下车库B区",
                "priority": priority,
            },
        )
        assert r.status_code == 201, r.text
        jobs[kind] = r.json()["id"]
        assigned = await client.post(
            f"/api/v1/work-orders/{jobs[kind]}/assign",
            headers={**agent, **idem()},
            json={"assigneeId": str(tech2)},
        )
        assert assigned.status_code == 200, assigned.text
    await catch_up(clock, db)
    await send_due_notifications(
        pool, local_sender(await ensure_vapid_keys(pool), "http://127.0.0.1:8000"), clock
    )

    # decrypted with the technician's own subscription keys: severity and kind tell the phone how to alert
    messages = {m["workOrderId"]: m for m in (keys.decrypt(p.body) for p in push_service.posts_to("tech2"))}
    emergency, repair = messages[jobs["emergency"]], messages[jobs["repair"]]
    assert (emergency["kind"], emergency["jobKind"], emergency["severity"]) == (
        "assignment",
        "emergency",
        "critical",
    )
    assert emergency["urgency"] == "high" and emergency["url"] == f"/#/job/{jobs['emergency']}"
    assert (repair["jobKind"], repair["severity"], repair["urgency"]) == ("repair", "minor", "normal")
