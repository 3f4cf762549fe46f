"""The hub's per-client queues: a client that falls behind is dropped, the others keep receiving."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import msgspec

from backend.domain.models import CurrentUser
from backend.notify.hub import (
    ACCESS_CHANGED,
    SIGNED_OUT,
    StreamClient,
    StreamClosed,
    StreamEvent,
    same_rights,
)

SITE = uuid.uuid4()


def _user(role: str = "guard", sites: tuple[uuid.UUID, ...] = (SITE,)) -> CurrentUser:
    return CurrentUser(id=uuid.uuid4(), username=role, display_name=role, role=role, site_ids=sites)


def _event(n: int, site: uuid.UUID = SITE, roles: tuple[str, ...] | None = None) -> StreamEvent:
    return StreamEvent(
        id=n, site_id=site, type="alarm.raised", roles=roles, data={"n": n}, at=datetime.now(UTC)
    )


def test_a_full_queue_drops_that_client_only() -> None:
    slow, fast = (
        StreamClient(_user(), uuid.uuid4(), queue_size=2),
        StreamClient(_user(), uuid.uuid4(), queue_size=10),
    )
    for n in range(1, 4):
        slow.offer(_event(n))
        fast.offer(_event(n))
    assert slow.dropped
    # its stream ends at once (it will reconnect with the last id it got) instead of sending stale events
    assert slow.queue.get_nowait() is None
    assert not fast.dropped
    assert [fast.queue.get_nowait().id for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]


def test_visibility_follows_sites_and_roles() -> None:
    guard = StreamClient(_user("guard"), uuid.uuid4(), queue_size=5)
    other_site = StreamClient(_user("guard", sites=(uuid.uuid4(),)), uuid.uuid4(), queue_size=5)
    admin = StreamClient(_user("admin", sites=()), uuid.uuid4(), queue_size=5)
    for_managers = _event(1, roles=("manager", "admin"))
    everyone = _event(2)
    assert not guard.may_see(for_managers) and guard.may_see(everyone)
    assert not other_site.may_see(everyone)
    assert admin.may_see(for_managers) and admin.may_see(everyone)


async def test_offer_never_waits() -> None:
    client = StreamClient(_user(), uuid.uuid4(), queue_size=1)
    # nobody reads this queue: offering many events must return immediately
    await asyncio.wait_for(asyncio.to_thread(lambda: [client.offer(_event(n)) for n in range(1000)]), 5)
    assert client.dropped


def test_closing_a_stream_drops_what_is_queued_and_says_why() -> None:
    client = StreamClient(_user(), uuid.uuid4(), queue_size=3)
    client.offer(_event(1))
    client.offer(_event(2))
    client.close(SIGNED_OUT)
    assert client.queue.get_nowait() == StreamClosed(SIGNED_OUT)
    assert client.queue.empty()
    client.offer(_event(3))
    assert client.queue.empty(), "nothing reaches a closed stream"


def test_a_full_queue_still_takes_the_closing_marker() -> None:
    client = StreamClient(_user(), uuid.uuid4(), queue_size=1)
    client.offer(_event(1))
    client.close(ACCESS_CHANGED)
    assert client.queue.get_nowait() == StreamClosed(ACCESS_CHANGED)


def test_rights_are_the_same_only_with_the_same_role_and_sites() -> None:
    guard = _user("guard")
    assert same_rights(guard, msgspec.structs.replace(guard, on_duty=True, display_name="renamed"))
    assert not same_rights(guard, msgspec.structs.replace(guard, role="technician"))
    assert not same_rights(guard, msgspec.structs.replace(guard, site_ids=(SITE, uuid.uuid4())))
    assert not same_rights(guard, msgspec.structs.replace(guard, site_ids=()))
    # an admin sees every site whatever the list says (a new site adds to it)
    admin = _user("admin", sites=(SITE,))
    assert same_rights(admin, msgspec.structs.replace(admin, site_ids=(SITE, uuid.uuid4())))
