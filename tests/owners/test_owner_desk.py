"""The staff side of owners' messages: a case's messages in its history and a reply through the outbox; the
failed messages with a retry that still sends once; a changed arrival told once per change; a desk intake
telling a registered caller their case was received; the printable sheet of a building's unit links."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from datetime import timedelta

import asyncpg
import segno
from litestar.testing import AsyncTestClient

from backend.notify.owner_outbox import MAX_ATTEMPTS
from backend.services.owner_desk import unit_link_url
from tests.integration.work_order_evidence import act, create, user_id
from tests.owners.conftest import SITE_ZONE, TEMPLATES, Owners

WO = "/api/v1/work-orders"


async def _unit_phone(db: asyncpg.Connection, wo_id: str) -> str:
    return await db.fetchval(
        """SELECT r.phone FROM residents r JOIN work_orders w ON w.unit_id = r.unit_id
           WHERE w.id = $1::uuid AND r.phone IS NOT NULL ORDER BY r.created_at LIMIT 1""",
        wo_id,
    )


async def _kinds(db: asyncpg.Connection, wo_id: str) -> list[str]:
    rows = await db.fetch(
        "SELECT DISTINCT ON (event_key) kind FROM owner_messages WHERE work_order_id = $1::uuid "
        "ORDER BY event_key, id",
        wo_id,
    )
    return sorted(r["kind"] for r in rows)


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_staff_see_a_cases_messages_and_reply_through_the_outbox(owners: Owners, login_as) -> None:
    client, db, fake_sms = owners.client, owners.db, owners.sms
    agent = await login_as("agent")
    wo = await create(client, agent)
    phone = await _unit_phone(db, wo["id"])
    assert (
        await act(client, agent, wo["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    ).is_success
    outbox = owners.outbox()
    await outbox.run_once(db)

    # a reply, sent twice with one Idempotency-Key (a retried request), queues once
    headers = {**agent, **_key()}
    for _ in range(2):
        r = await client.post(
            f"{WO}/{wo['id']}/owner-messages", json={"text": "明早九点上门，请留人在家"}, headers=headers
        )
        assert r.status_code == 201, r.text
    await outbox.run_once(db)
    replies = [s for s in fake_sms.to(phone) if s.template == TEMPLATES["staff_reply"]]
    assert (
        len(replies) == 1
        and replies[0].params[1] == wo["number"]
        and replies[0].params[2] == "明早九点上门，请留人在家"
    )

    history = (await client.get(f"{WO}/{wo['id']}/owner-messages", headers=agent)).json()
    assert {"items", "total", "limit", "offset"} <= set(history)
    sent = [(h["kind"], h["status"], h["direction"]) for h in history["items"] if h["channel"] == "sms"]
    assert ("technician_assigned", "sent", "out") in sent and ("staff_reply", "sent", "out") in sent
    # staff see whom it went to, masked
    assert all(phone not in str(h) for h in history["items"])
    assert any(h["to"] == f"{phone[:3]}****{phone[-4:]}" for h in history["items"])

    # a technician does not handle owners' messages; an unknown field is refused by name
    tech = await login_as("tech1")
    assert (await client.get(f"{WO}/{wo['id']}/owner-messages", headers=tech)).status_code == 403
    r = await client.post(
        f"{WO}/{wo['id']}/owner-messages", json={"text": "x", "to": "all"}, headers={**agent, **_key()}
    )
    assert r.status_code == 400 and r.json()["field"] == "to"


async def test_a_failed_message_is_listed_and_a_retry_sends_it_once(owners: Owners, login_as) -> None:
    client, db, day_clock, fake_sms = owners.client, owners.db, owners.clock, owners.sms
    agent, supervisor = await login_as("agent"), await login_as("supervisor")
    wo = await create(client, agent)
    phone = await _unit_phone(db, wo["id"])
    fake_sms.fail_first = 1000
    r = await client.post(
        f"{WO}/{wo['id']}/owner-messages", json={"text": "请回电"}, headers={**agent, **_key()}
    )
    assert r.status_code == 201, r.text
    outbox = owners.outbox()
    for _ in range(MAX_ATTEMPTS):
        await outbox.run_once(db)
        day_clock.advance(timedelta(hours=1))
    failed = (await client.get("/api/v1/owner-messages/failed", headers=supervisor)).json()
    [item] = [i for i in failed["items"] if i["workOrderId"] == wo["id"]]
    assert item["number"] == wo["number"] and "InternalError" in item["error"] and phone not in str(item)

    fake_sms.fail_first = 0
    fake_sms.send_calls = 0
    # two presses (and a replay of the first) put it back once
    first = {**supervisor, **_key()}
    assert (await client.post(f"/api/v1/owner-messages/{item['id']}/retry", headers=first)).status_code == 200
    assert (await client.post(f"/api/v1/owner-messages/{item['id']}/retry", headers=first)).status_code == 200
    again = await client.post(f"/api/v1/owner-messages/{item['id']}/retry", headers={**agent, **_key()})
    assert again.status_code == 409 and again.json()["code"] == "owner_message_not_failed"
    await outbox.run_once(db)
    day_clock.advance(timedelta(hours=1))
    await outbox.run_once(db)
    assert len(fake_sms.to(phone)) == 1 and fake_sms.send_calls == 1
    assert await db.fetchval("SELECT status FROM owner_messages WHERE id = $1", item["id"]) == "sent"
    assert (await client.get("/api/v1/owner-messages/failed", headers=agent)).json()["total"] == failed[
        "total"
    ] - 1
    tech = await login_as("tech1")
    assert (await client.get("/api/v1/owner-messages/failed", headers=tech)).status_code == 403


async def test_a_changed_arrival_is_told_once_per_change(owners: Owners, login_as) -> None:
    client, db, day_clock, fake_sms = owners.client, owners.db, owners.clock, owners.sms
    agent = await login_as("agent")
    wo = await create(client, agent)
    phone = await _unit_phone(db, wo["id"])
    tech1, tech2 = await user_id(db, "tech1"), await user_id(db, "tech2")
    first = (day_clock.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    later = first + timedelta(hours=3)

    async def assign(assignee: str, when, key: str | None = None) -> None:
        body = {"assigneeId": assignee, "appointmentAt": when.isoformat()}
        headers = {**agent, "Idempotency-Key": key or str(uuid.uuid4())}
        r = await client.post(f"{WO}/{wo['id']}/assign", json=body, headers=headers)
        assert r.status_code == 200, r.text

    await assign(tech1, first)
    assert await _kinds(db, wo["id"]) == ["technician_assigned"]
    # the same technician, three hours later: "arrival changed", once even when the request is retried
    await assign(tech1, later, key="move-1")
    await assign(tech1, later, key="move-1")
    assert await _kinds(db, wo["id"]) == ["arrival_changed", "technician_assigned"]
    # assigned again at the same time: nothing new to tell
    await assign(tech1, later)
    assert await _kinds(db, wo["id"]) == ["arrival_changed", "technician_assigned"]
    # another technician is announced as such
    await assign(tech2, later)
    kinds = await _kinds(db, wo["id"])
    assert kinds.count("technician_assigned") == 2 and kinds.count("arrival_changed") == 1

    await owners.outbox(batch_size=50).run_once(db)
    [changed] = [s for s in fake_sms.to(phone) if s.template == TEMPLATES["arrival_changed"]]
    assert changed.params[1] == wo["number"] and changed.params[2] == "刘师傅"
    assert changed.params[3].startswith(later.astimezone(SITE_ZONE).strftime("%m-%d %H:%M"))


async def test_a_desk_intake_tells_a_registered_caller_their_case_was_received(
    owners: Owners, login_as
) -> None:
    client, db, fake_sms = owners.client, owners.db, owners.sms
    agent = await login_as("agent")
    home = await db.fetchrow(
        """SELECT b.code AS building, u.number, u.owner_link, r.phone, r.id AS resident
           FROM residents r JOIN units u ON u.id = r.unit_id JOIN buildings b ON b.id = u.building_id
           WHERE r.phone IS NOT NULL ORDER BY r.phone LIMIT 1"""
    )
    wo = await create(
        client,
        agent,
        building=home["building"],
        unitNumber=home["number"],
        reporterPhone=f"+86 {home['phone']}",
    )
    rows = await db.fetch(
        "SELECT resident_id, kind, channel, status FROM owner_messages WHERE work_order_id = $1::uuid",
        wo["id"],
    )
    assert [(r["resident_id"], r["kind"], r["channel"]) for r in rows] == [
        (home["resident"], "case_received", "sms")
    ]
    await owners.outbox(public_url="https://wuye.example").run_once(db)
    [sms] = fake_sms.to(home["phone"])
    assert sms.template == TEMPLATES["case_received"] and sms.params[1] == wo["number"]
    assert sms.params[2] == f"https://wuye.example/owner.html#u={home['owner_link']}"

    # a caller whose number is not registered for the home is told nothing
    other = await create(
        client, agent, building=home["building"], unitNumber=home["number"], reporterPhone="13912345678"
    )
    assert (
        await db.fetchval("SELECT count(*) FROM owner_messages WHERE work_order_id = $1::uuid", other["id"])
        == 0
    )
    # a site that switched it off writes it as suppressed
    await db.execute(
        """UPDATE sites SET settings = settings || '{"ownerMessagesOff": ["case_received"]}'::jsonb"""
    )
    off = await create(
        client, agent, building=home["building"], unitNumber=home["number"], reporterPhone=home["phone"]
    )
    assert (
        await db.fetchval("SELECT status FROM owner_messages WHERE work_order_id = $1::uuid", off["id"])
        == "suppressed"
    )


async def test_a_manager_prints_a_buildings_unit_links_as_qr_codes(
    client: AsyncTestClient, db: asyncpg.Connection, login_as, settings
) -> None:
    building = await db.fetchrow("SELECT id, name FROM buildings ORDER BY code LIMIT 1")
    units = await db.fetch(
        "SELECT number, owner_link FROM units WHERE building_id = $1 ORDER BY floor, number", building["id"]
    )
    manager = await login_as("manager")
    r = await client.get(f"/api/v1/buildings/{building['id']}/owner-link-sheet", headers=manager)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    # the app opens it from a blob: URL, under the app's own policy: its style is allowed there by hash
    [style] = re.findall(r"<style>(.*?)</style>", r.text, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in (await client.get("/")).headers["content-security-policy"]
    assert f"'sha256-{digest}'" in r.headers["content-security-policy"]
    page = r.text
    assert "@page { size: A4" in page and page.count('<figure class="unit"') == len(units) > 0
    for unit in units:
        code = segno.make(unit_link_url(settings.reach_url, unit["owner_link"]), error="m")
        assert code.svg_inline(scale=4, border=2) in page
        assert f'data-unit="{unit["number"]}"' in page
    agent = await login_as("agent")
    assert (
        await client.get(f"/api/v1/buildings/{building['id']}/owner-link-sheet", headers=agent)
    ).status_code == 403
    r = await client.get(f"/api/v1/buildings/{uuid.uuid4()}/owner-link-sheet", headers=manager)
    assert r.status_code == 404
