"""The outbox dispatcher: sends committed notifications as Web Push, retries failures, forgets dead endpoints.

Rows are leased (next_attempt_at moved past the send) in a short transaction of their own, so several
API processes share the work without holding locks across HTTP calls. pywebpush is synchronous
(requests), so each send runs in a worker thread. Every attempt to every endpoint lands in push_deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from backend.db.pool import connect
from backend.db.queries import push as q
from backend.db.queries.outbox import OUTBOX_CHANNEL
from backend.domain.clock import Clock
from backend.errors import ValidationFailed
from backend.notify.vapid import VapidKeys
from backend.services.push_subscriptions import vet_endpoint

log = logging.getLogger(__name__)

# The outbox is polled this often even without a NOTIFY (a missed wake-up costs at most this long).
POLL_SECONDS = 1.0
# A batch small enough that one slow push service cannot hold up the next batch for long.
BATCH_SIZE = 50
# Sends in flight at once (each is a thread blocked on HTTP).
PARALLEL_SENDS = 8
# A push service that has not answered by now is treated as a failure and retried.
SEND_TIMEOUT_SECONDS = 10.0
# Longer than any one send, so a row is not taken twice while its first dispatcher is still at it.
LEASE_SECONDS = 60
# Backoff 5 s, 10 s, 20 s … capped at 15 min; after MAX_ATTEMPTS the notification is marked failed.
RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 15 * 60
MAX_ATTEMPTS = 8
# An alarm that waited longer than this is better shown live than pushed late; other news keeps for a day.
ALARM_TTL_SECONDS = 300
DEFAULT_TTL_SECONDS = 24 * 3600
# Endpoints the push service says no longer exist.
GONE_STATUSES = frozenset({404, 410})


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before attempt number `attempts + 1`."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


# What of a notification's data rides along in the push, for the service worker and the page it opens.
PUSHED_DATA_KEYS = (
    "severity",
    "alarmId",
    "code",
    "ackDueAt",
    "escalationLevel",
    "level",
    "role",
    "workOrderId",
    "number",
    "jobKind",
    "priority",
)


def push_payload(notification: q.DueNotification) -> dict[str, Any]:
    """What the service worker shows: {title, body, url, kind, urgency, severity, tag, ...}.

    `severity` decides how the phone alerts: `critical` stays on screen until the user answers it.
    """
    data = notification.data
    if data.get("url"):
        url = str(data["url"])
    elif data.get("alarmId"):
        url = f"/#/alarms/{data['alarmId']}"
    elif data.get("workOrderId"):
        url = f"/#/job/{data['workOrderId']}"
    else:
        url = "/"
    subject = data.get("alarmId") or data.get("workOrderId") or notification.id
    extra = {key: data[key] for key in PUSHED_DATA_KEYS if data.get(key) is not None}
    return {
        **extra,
        "title": notification.title,
        "body": notification.body,
        "url": url,
        "kind": notification.kind,
        "urgency": notification.urgency,
        "severity": str(data.get("severity") or ("critical" if notification.urgency == "high" else "minor")),
        # the same subject replaces its earlier notice on the phone instead of stacking up
        "tag": str(data.get("tag") or f"{notification.kind}:{subject}"),
    }


def time_to_live(notification: q.DueNotification) -> int:
    """Seconds the push service should hold the message for an offline phone."""
    is_alarm = notification.kind == "alarm" or "alarmId" in notification.data
    return ALARM_TTL_SECONDS if is_alarm else DEFAULT_TTL_SECONDS


@dataclass
class DispatchReport:
    """What one pass did, by notification."""

    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    removed_endpoints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Attempt:
    status: int | None
    error: str | None
    refused: bool = False
    """Not sent: an endpoint the server must not call (stored before the rule, or re-pointed since)."""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """The subscription is dead for good: forget it rather than retry."""
        return self.refused or self.status in GONE_STATUSES


class PushSender:
    """Signs and sends one push with pywebpush (blocking: call it from a thread)."""

    def __init__(self, vapid: VapidKeys, public_url: str, *, allow_private_endpoints: bool = False) -> None:
        self.vapid = Vapid.from_pem(vapid.private_pem.encode())
        self.allow_private_endpoints = allow_private_endpoints
        host = urlsplit(public_url).hostname or "localhost"
        self.subject = f"mailto:ops@{host}"
        self.session = requests.Session()

    def send(self, subscription: q.PushSubscription, payload: bytes, *, ttl: int, urgency: str) -> _Attempt:
        """POST the encrypted payload; the push service's status (or the transport error)."""
        try:
            response = webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=payload.decode(),
                vapid_private_key=self.vapid,
                # pywebpush fills in aud and exp on the dict it is given: a fresh one per send
                vapid_claims={"sub": self.subject},
                ttl=ttl,
                headers={"Urgency": urgency},
                timeout=SEND_TIMEOUT_SECONDS,
                requests_session=self.session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            return _Attempt(status=status, error=str(exc)[:500])
        except (requests.RequestException, OSError, ValueError) as exc:
            return _Attempt(status=None, error=f"{type(exc).__name__}: {exc}"[:500])
        assert not isinstance(response, str)  # only curl=True returns a string
        return _Attempt(status=response.status_code, error=None)


async def _send_if_allowed(
    sender: PushSender, subscription: q.PushSubscription, payload: bytes, notification: q.DueNotification
) -> _Attempt:
    # The same rule as at subscription, checked again now: a row may predate it, and a name resolved today
    # may point somewhere else tomorrow.
    try:
        await vet_endpoint(subscription.endpoint, allow_private=sender.allow_private_endpoints)
    except ValidationFailed as refused:
        return _Attempt(status=None, error=f"not sent: {refused.detail}"[:500], refused=True)
    return await asyncio.to_thread(
        sender.send, subscription, payload, ttl=time_to_live(notification), urgency=notification.urgency
    )


async def _deliver(
    pool: asyncpg.Pool,
    sender: PushSender,
    clock: Clock,
    notification: q.DueNotification,
    report: DispatchReport,
    limit: asyncio.Semaphore,
) -> None:
    try:
        payload = msgspec.json.encode(push_payload(notification))
    except Exception as exc:
        # a row no retry can send (its data is not what push_payload reads): give up on it now, not every
        # lease for ever; the others of the batch go on
        log.error(
            "notification %s (site %s) cannot be made into a push; marked failed",
            notification.id,
            notification.site_id,
            exc_info=exc,
        )
        async with pool.acquire() as conn:
            await q.mark_failed(
                conn, notification.id, at=clock.now(), error=f"unsendable: {type(exc).__name__}"
            )
        report.failed.append(notification.id)
        return
    subscriptions = (
        await q.subscriptions_to_reach(pool, notification.id, notification.recipient_id)  # type: ignore[arg-type]
        if notification.recipient_id is not None
        else []
    )
    attempts: list[tuple[q.PushSubscription, _Attempt, datetime]] = []
    for subscription in subscriptions:
        async with limit:
            attempt = await _send_if_allowed(sender, subscription, payload, notification)
        attempts.append((subscription, attempt, clock.now()))
    now = clock.now()
    failures = [a for _, a, _ in attempts if not a.delivered and not a.gone]
    async with pool.acquire() as conn, conn.transaction():
        for subscription, attempt, at in attempts:
            await q.log_delivery(
                conn,
                notification_id=notification.id,
                endpoint=subscription.endpoint,
                status=attempt.status,
                error=attempt.error,
                at=at,
            )
            if attempt.gone:
                await q.delete_subscription(conn, subscription.id)
                report.removed_endpoints.append(subscription.endpoint)
        if not failures:
            # nothing to deliver to is "sent" too: open screens have the live stream
            await q.mark_sent(conn, notification.id, at=now)
            report.sent.append(notification.id)
            return
        error = failures[0].error or f"push service answered {failures[0].status}"
        if notification.attempts + 1 >= MAX_ATTEMPTS:
            await q.mark_failed(conn, notification.id, at=now, error=error)
            report.failed.append(notification.id)
        else:
            next_at = now + retry_delay(notification.attempts + 1)
            await q.mark_retry(conn, notification.id, next_attempt_at=next_at, error=error)
            report.retried.append(notification.id)


async def send_due_notifications(
    pool: asyncpg.Pool, sender: PushSender, clock: Clock, *, limit: int = BATCH_SIZE
) -> DispatchReport:
    """One pass: lease due notifications, push each to its recipient's subscriptions, record outcomes."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        due = await q.claim_due_notifications(
            conn, now=now, lease_until=now + timedelta(seconds=LEASE_SECONDS), limit=limit
        )
    report = DispatchReport()
    sends = asyncio.Semaphore(PARALLEL_SENDS)
    results = await asyncio.gather(
        *(_deliver(pool, sender, clock, n, report, sends) for n in due), return_exceptions=True
    )
    for notification, result in zip(due, results, strict=True):
        if isinstance(result, BaseException):
            # the lease runs out and the row falls due again
            log.error(
                "sending notification %s (site %s) failed: %r", notification.id, notification.site_id, result
            )
    return report


class PushDispatcher:
    """The dispatcher loop of one process: polls the outbox and wakes early on NOTIFY caretaker_outbox."""

    def __init__(self, pool: asyncpg.Pool, dsn: str, sender: PushSender, clock: Clock) -> None:
        self.pool = pool
        self.dsn = dsn
        self.sender = sender
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    def start(self) -> None:
        """Run the loop in the background."""
        self._task = asyncio.create_task(self._run(), name="push-dispatcher")

    async def stop(self) -> None:
        """Stop the loop and its listener."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None and not self._listener.is_closed():
            self._listener.terminate()

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await connect(self.dsn)
            await self._listener.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # polling still delivers; the next pass tries to listen again
            log.warning("push dispatcher cannot LISTEN (%s); polling only", exc)
            self._listener = None

    async def _run(self) -> None:
        while True:
            await self._ensure_listener()
            self._wake.clear()
            try:
                report = await send_due_notifications(self.pool, self.sender, self.clock)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("push dispatcher pass failed (%s); retrying", exc)
                report = DispatchReport()
            if len(report.sent) + len(report.retried) + len(report.failed) >= BATCH_SIZE:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)
