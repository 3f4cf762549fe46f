"""The session cache: what it remembers, when it must not, and that a forget wins over a racing lookup."""

from __future__ import annotations

import time
import uuid

from backend.domain.models import CurrentUser
from backend.services.sessions import SessionCache


def _user(role: str = "technician") -> CurrentUser:
    return CurrentUser(
        id=uuid.uuid4(), username="tech9", display_name="师傅", role=role, site_ids=(uuid.uuid4(),)
    )


def test_a_remembered_user_is_served_until_the_token_lapses() -> None:
    cache, user, session = SessionCache(lambda: True), _user(), uuid.uuid4()
    cache.put(session, user, time.time() + 60, cache.generation)
    assert cache.get(session, user.id) == user
    assert cache.get(session, uuid.uuid4()) is None  # a token naming another user never matches
    cache.put(session, user, time.time() - 1, cache.generation)
    assert cache.get(session, user.id) is None


def test_forgetting_a_user_drops_all_their_sessions_and_only_theirs() -> None:
    cache, user, other = SessionCache(lambda: True), _user(), _user()
    mine, theirs = [uuid.uuid4(), uuid.uuid4()], uuid.uuid4()
    for s in mine:
        cache.put(s, user, time.time() + 60, cache.generation)
    cache.put(theirs, other, time.time() + 60, cache.generation)
    cache.forget(user.id)
    assert [cache.get(s, user.id) for s in mine] == [None, None]
    assert cache.get(theirs, other.id) == other
    cache.forget(None)
    assert cache.get(theirs, other.id) is None


def test_a_lookup_that_began_before_a_forget_is_not_remembered() -> None:
    cache, user, session = SessionCache(lambda: True), _user(), uuid.uuid4()
    began = cache.generation
    cache.forget(user.id)  # the access changed while the lookup was reading the old row
    cache.put(session, user, time.time() + 60, began)
    assert cache.get(session, user.id) is None


def test_nothing_is_remembered_or_served_while_notifications_go_unheard() -> None:
    listening = [True]
    cache, user, session = SessionCache(lambda: listening[0]), _user(), uuid.uuid4()
    cache.put(session, user, time.time() + 60, cache.generation)
    listening[0] = False
    assert cache.get(session, user.id) is None
    later = uuid.uuid4()
    cache.put(later, user, time.time() + 60, cache.generation)
    listening[0] = True
    assert cache.get(later, user.id) is None
