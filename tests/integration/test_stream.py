"""The live stream over real HTTP: who sees what, resuming with Last-Event-ID, single-use tickets instead
of a token in the URL, and a listener that survives its PostgreSQL connection being killed.

(Streams ending when a session ends or access changes: test_sessions.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import httpx
import pytest

from backend.app import create_app
from backend.domain.clock import ManualClock
from backend.services.notifications import publish
from backend.settings import Settings
from tests.integration.alarm_fixtures import raise_device_alarm
from tests.integration.sse_client import login, open_stream, serve, stream_ticket


@pytest.fixture
async def base_url(settings: Settings, clock: ManualClock) -> AsyncIterator[str]:
    """The app served by uvicorn on a free port."""
    async with serve(create_app(settings, clock=clock)) as url:
        yield url


async def _publish(
    db: asyncpg.Connection, site_id: UUID, type: str, data: dict, roles: list[str] | None = None
) -> int:
    async with db.transaction():
        return await publish(db, site_id=site_id, type=type, data=data, roles=roles)


async def _demo_site(db: asyncpg.Connection) -> UUID:
    return await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")


async def test_alarm_reaches_the_site_and_a_reconnect_replays_what_was_missed(
    base_url: str, db: asyncpg.Connection, clock: ManualClock
) -> None:
    token = await login(base_url, "guard1")
    async with open_stream(base_url, token=token) as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        first = await raise_device_alarm(db, device_id="elev-a1", code="ELEVATOR_ENTRAPMENT", now=clock.now())
        [*_, raised] = await stream.events_until(lambda e: e.event == "alarm.raised")
        assert raised.json["id"] == str(first.id)
        assert raised.json["severity"] == "critical" and raised.json["deviceId"] == "elev-a1"
        last_seen = raised.id
    assert last_seen is not None

    # while the phone is away: a second alarm and an acknowledgement
    second = await raise_device_alarm(db, device_id="leak-1", code="WATER_LEAK", now=clock.now())
    async with httpx.AsyncClient(base_url=base_url) as http:
        r = await http.post(
            f"/api/v1/alarms/{first.id}/ack",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "ack-1"},
        )
        assert r.status_code == 200, r.text

    async with open_stream(base_url, token=token, last_event_id=last_seen) as stream:
        missed = await stream.events_until(
            lambda e: e.event == "alarm.updated" and e.json["id"] == str(first.id) and e.json["ackedAt"]
        )
    raised_again = [e.json["id"] for e in missed if e.event == "alarm.raised"]
    assert raised_again == [str(second.id)]
    ids = [int(e.id) for e in missed if e.id]
    assert ids == sorted(ids) and min(ids) > int(last_seen)

    # the PWA reopens EventSource with a fresh ticket and the id in the query
    ticket = await stream_ticket(base_url, token)
    async with open_stream(base_url, ticket=ticket, query=f"?lastEventId={last_seen}") as stream:
        [*_, event] = await stream.events_until(lambda e: e.event == "alarm.raised")
        assert event.json["id"] == str(second.id)


async def test_events_are_filtered_by_site_and_role(base_url: str, db: asyncpg.Connection) -> None:
    demo = await _demo_site(db)
    other = await db.fetchval("INSERT INTO sites (code, name) VALUES ('other', 'Other estate') RETURNING id")
    supervisor, manager = await login(base_url, "supervisor"), await login(base_url, "manager")
    async with open_stream(base_url, token=supervisor) as sup, open_stream(base_url, token=manager) as mgr:
        await _publish(db, other, "alarm.raised", {"id": "elsewhere"})
        await _publish(db, demo, "escalation", {"to": "managers only"}, roles=["manager"])
        await _publish(db, demo, "work_order.updated", {"marker": True})
        sup_seen = await sup.events_until(lambda e: e.event == "work_order.updated")
        mgr_seen = await mgr.events_until(lambda e: e.event == "work_order.updated")
    assert [e.event for e in sup_seen] == ["work_order.updated"]
    assert [e.event for e in mgr_seen] == ["escalation", "work_order.updated"]


async def test_stream_needs_a_valid_token_or_ticket_and_refuses_a_token_in_the_url(base_url: str) -> None:
    token = await login(base_url, "tech1")
    async with httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.get("/api/v1/stream")).status_code == 401
        assert (
            await http.get("/api/v1/stream", headers={"Authorization": "Bearer nonsense"})
        ).status_code == 401
        assert (await http.get("/api/v1/stream?ticket=nonsense")).json()["code"] == "invalid_stream_ticket"
        # a bearer token in a URL ends up in logs: refused, even a valid one, here and everywhere else
        in_url = await http.get(f"/api/v1/stream?access_token={token}")
        assert (in_url.status_code, in_url.json()["code"]) == (401, "token_in_url")
        assert (await http.get(f"/api/v1/me?access_token={token}")).status_code == 401
        bad_resume = await http.get(
            "/api/v1/stream", headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "x"}
        )
        assert bad_resume.status_code == 422
        # a ticket needs a signed-in caller
        assert (await http.post("/api/v1/stream/tickets")).status_code == 401


async def test_a_ticket_opens_one_stream_once(base_url: str, db: asyncpg.Connection) -> None:
    token = await login(base_url, "guard1")
    ticket = await stream_ticket(base_url, token)
    assert len(ticket) >= 40
    stored = await db.fetchval(
        "SELECT count(*) FROM stream_tickets WHERE ticket_hash = sha256($1::bytea)", ticket.encode()
    )
    assert stored == 1, "only the ticket's hash is kept"
    async with open_stream(base_url, ticket=ticket) as stream:
        assert stream.response.status_code == 200
        demo = await _demo_site(db)
        await _publish(db, demo, "work_order.updated", {"marker": "first"})
        [*_, event] = await stream.events_until(lambda e: e.event == "work_order.updated")
        assert event.json == {"marker": "first"}
        async with httpx.AsyncClient(base_url=base_url) as http:
            again = await http.get(f"/api/v1/stream?ticket={ticket}")
        assert (again.status_code, again.json()["code"]) == (401, "invalid_stream_ticket")


async def test_a_ticket_expires_unused(base_url: str, db: asyncpg.Connection) -> None:
    ticket = await stream_ticket(base_url, await login(base_url, "guard1"))
    # thirty seconds later, as far as the database can tell
    await db.execute("UPDATE stream_tickets SET expires_at = now() - interval '1 second'")
    async with httpx.AsyncClient(base_url=base_url) as http:
        late = await http.get(f"/api/v1/stream?ticket={ticket}")
    assert (late.status_code, late.json()["code"]) == (401, "invalid_stream_ticket")


async def test_listener_reconnects_and_catches_up_after_its_connection_is_killed(
    base_url: str, db: asyncpg.Connection
) -> None:
    demo = await _demo_site(db)
    token = await login(base_url, "supervisor")
    async with open_stream(base_url, token=token) as stream:
        killed = await db.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND query ILIKE 'LISTEN%caretaker_stream%'"""
        )
        assert killed == 1
        # committed while nobody is listening
        await _publish(db, demo, "work_order.updated", {"n": 1})
        await _publish(db, demo, "work_order.updated", {"n": 2})
        seen = await stream.events_until(lambda e: e.json.get("n") == 2, timeout=15)
    assert [e.json["n"] for e in seen] == [1, 2]
    relistening = await db.fetchval(
        """SELECT count(*) FROM pg_stat_activity
           WHERE datname = current_database() AND query ILIKE 'LISTEN%caretaker_stream%'"""
    )
    assert relistening == 1
