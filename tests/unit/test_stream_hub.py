"""The hub's per-client queues: a client that falls behind is dropped, the others keep receiving."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from backend.domain.models import CurrentUser
from backend.notify.hub import StreamClient, StreamEvent

SITE = uuid.uuid4()


def _user(role: str = "guard", sites: tuple[uuid.UUID, ...] = (SITE,)) -> CurrentUser:
    return CurrentUser(id=uuid.uuid4(), username=role, display_name=role, role=role, site_ids=sites)


def _event(n: int, site: uuid.UUID = SITE, roles: tuple[str, ...] | None = None) -> StreamEvent:
    return StreamEvent(
        id=n, site_id=site, type="alarm.raised", roles=roles, data={"n": n}, at=datetime.now(UTC)
    )


def test_a_full_queue_drops_that_client_only() -> None:
    slow, fast = StreamClient(_user(), queue_size=2), StreamClient(_user(), queue_size=10)
    for n in range(1, 4):
        slow.offer(_event(n))
        fast.offer(_event(n))
    assert slow.dropped
    # its stream ends at once (it will reconnect with the last id it got) instead of sending stale events
    assert slow.queue.get_nowait() is None
    assert not fast.dropped
    assert [fast.queue.get_nowait().id for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]


def test_visibility_follows_sites_and_roles() -> None:
    guard = StreamClient(_user("guard"), queue_size=5)
    other_site = StreamClient(_user("guard", sites=(uuid.uuid4(),)), queue_size=5)
    admin = StreamClient(_user("admin", sites=()), queue_size=5)
    for_managers = _event(1, roles=("manager", "admin"))
    everyone = _event(2)
    assert not guard.may_see(for_managers) and guard.may_see(everyone)
    assert not other_site.may_see(everyone)
    assert admin.may_see(for_managers) and admin.may_see(everyone)


async def test_offer_never_waits() -> None:
    client = StreamClient(_user(), queue_size=1)
    # nobody reads this queue: offering many events must return immediately
    await asyncio.wait_for(asyncio.to_thread(lambda: [client.offer(_event(n)) for n in range(1000)]), 5)
    assert client.dropped
