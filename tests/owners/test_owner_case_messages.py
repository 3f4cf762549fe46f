"""The conversation on a case: an owner writes from the owner's page, the message lands in the case's history
(unread until the desk opens it) and its handler — or the site's agents — is told once whatever is retried;
the desk's reply reaches the owner's thread and goes by SMS once; another unit's owner is kept out; an
owner writing too much is slowed down."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
from litestar.testing import AsyncTestClient

from backend.domain.clock import ManualClock
from backend.domain.owner_messages import OWNER_NOTES_PER_HOUR
from backend.notify.owner_outbox import OwnerOutbox
from backend.notify.sms import SmsConfig, TencentSms
from tests.integration.work_order_evidence import act, user_id
from tests.owners.conftest import API, Owners
from tests.owners.fake_sms_provider import FakeSmsProvider

WO = "/api/v1/work-orders"


async def _told(db: asyncpg.Connection, note_id: str) -> list[asyncpg.Record]:
    """Who on the staff was told of one owner message (the notify outbox)."""
    return await db.fetch(
        """SELECT n.recipient_id, u.role FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'owner_message' AND n.dedupe_key = $1""",
        f"owner-note:{note_id}",
    )


async def _write(client: AsyncTestClient, owner: dict[str, str], case_id: str, text: str, key: str):
    return await client.post(
        f"{API}/cases/{case_id}/messages", json={"text": text}, headers={**owner, "Idempotency-Key": key}
    )


def _waiting_ids(page: dict) -> set[str]:
    return {c["workOrderId"] for c in page["items"]}


async def test_an_owner_writes_the_desk_reads_and_replies_and_the_owner_sees_the_reply(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
    login_as,
    owners: Owners,
) -> None:
    home, neighbour = await owners.home(), await owners.home(3)
    owner = await owners.sign_in(home)
    r = await client.post(
        f"{API}/cases", json={"kind": "repair", "category": "water", "description": "厨房漏水"}, headers=owner
    )
    assert r.status_code == 201, r.text
    case = r.json()

    # before anyone holds the case, the message goes to the site's agents — once, though the page sends twice
    for _ in range(2):
        r = await _write(client, owner, case["id"], "  下午三点后家里才有人  ", "m-1")
        assert r.status_code == 201, r.text
    thread = r.json()
    assert thread["number"] == case["number"] and thread["timeZone"] == "Asia/Shanghai"
    [mine] = thread["items"]
    assert (mine["from"], mine["text"], mine["staff"]) == ("owner", "下午三点后家里才有人", None)
    assert mine["at"].endswith("+08:00")
    first_id = mine["id"]
    told = await _told(db, first_id)
    assert told and {t["role"] for t in told} == {"agent"}
    assert len(told) == len({t["recipient_id"] for t in told})

    # once someone holds it, the handler is told, and only the handler
    agent = await login_as("agent")
    tech = await user_id(db, "tech1")
    assert (await act(client, agent, case["id"], "assign", {"assigneeId": tech})).is_success
    r = await _write(client, owner, case["id"], "门铃坏了，请打电话", "m-2")
    second_id = r.json()["items"][-1]["id"]
    assert [str(t["recipient_id"]) for t in await _told(db, second_id)] == [tech]

    # the desk sees both in the case's history, from the owner and unread, and on its waiting list
    history = (await client.get(f"{WO}/{case['id']}/owner-messages", headers=agent)).json()["items"]
    incoming = [h for h in history if h["kind"] == "message"]
    assert [(h["direction"], h["status"], h["unread"]) for h in incoming] == [("in", "received", True)] * 2
    assert [h["text"] for h in incoming] == ["下午三点后家里才有人", "门铃坏了，请打电话"]
    supervisor = await login_as("supervisor")
    waiting = (await client.get("/api/v1/owner-messages/waiting", headers=supervisor)).json()
    [entry] = [c for c in waiting["items"] if c["workOrderId"] == case["id"]]
    assert (entry["waiting"], entry["unread"], entry["lastText"]) == (2, True, "门铃坏了，请打电话")

    # opening the case reads them; reading again finds nothing new
    assert (await client.post(f"{WO}/{case['id']}/owner-messages/read", headers=agent)).json() == {"read": 2}
    assert (await client.post(f"{WO}/{case['id']}/owner-messages/read", headers=agent)).json() == {"read": 0}
    history = (await client.get(f"{WO}/{case['id']}/owner-messages", headers=agent)).json()["items"]
    assert not any(h["unread"] for h in history)

    # another unit's owner cannot read or write on it
    other = await owners.sign_in(neighbour)
    for r in (
        await client.get(f"{API}/cases/{case['id']}/messages", headers=other),
        await _write(client, other, case["id"], "看看", "x-1"),
    ):
        assert r.status_code == 404 and r.json()["code"] == "owner_case_not_found"
    # a technician does not handle owners' messages
    tech_login = await login_as("tech1")
    r = await client.post(f"{WO}/{case['id']}/owner-messages/read", headers=tech_login)
    assert r.status_code == 403

    # the desk replies (a replayed request queues it once); the SMS goes once and the owner sees it
    outbox = OwnerOutbox(day_clock, TencentSms(sms_config), None)
    await outbox.run_once(db)
    before = len(fake_sms.to(home["phone"]))
    headers = {**agent, "Idempotency-Key": str(uuid.uuid4())}
    for _ in range(2):
        r = await client.post(
            f"{WO}/{case['id']}/owner-messages", json={"text": "好的，师傅三点后上门"}, headers=headers
        )
        assert r.status_code == 201, r.text
    await outbox.run_once(db)
    day_clock.advance(timedelta(minutes=5))
    await outbox.run_once(db)
    sent = fake_sms.to(home["phone"])[before:]
    assert [s.params[2] for s in sent if s.template == sms_config.templates["staff_reply"]] == [
        "好的，师傅三点后上门"
    ]

    thread = (await client.get(f"{API}/cases/{case['id']}/messages", headers=owner)).json()
    assert [(m["from"], m["text"]) for m in thread["items"]] == [
        ("owner", "下午三点后家里才有人"),
        ("owner", "门铃坏了，请打电话"),
        ("staff", "好的，师傅三点后上门"),
    ]
    agent_row = await db.fetchrow("SELECT display_name, phone FROM users WHERE username = 'agent'")
    assert thread["items"][-1]["staff"] == {"role": "agent", "name": agent_row["display_name"]}
    if agent_row["phone"]:
        assert agent_row["phone"] not in str(thread)
    # answered: off the waiting list
    waiting = (await client.get("/api/v1/owner-messages/waiting", headers=supervisor)).json()
    assert case["id"] not in _waiting_ids(waiting)


async def test_a_closed_case_still_reaches_the_desk_and_a_flood_is_slowed(
    client: AsyncTestClient,
    db: asyncpg.Connection,
    day_clock: ManualClock,
    fake_sms: FakeSmsProvider,
    sms_config: SmsConfig,
    login_as,
    owners: Owners,
) -> None:
    home = await owners.home(1)
    owner = await owners.sign_in(home)
    case = (
        await client.post(
            f"{API}/cases",
            json={"kind": "repair", "category": "water", "description": "水龙头滴水"},
            headers=owner,
        )
    ).json()
    agent = await login_as("agent")
    tech = await user_id(db, "tech1")
    assert (await act(client, agent, case["id"], "assign", {"assigneeId": tech})).is_success
    supervisor = await login_as("supervisor")
    assert (await act(client, supervisor, case["id"], "cancel", {"reason": "业主自行修好"})).is_success

    # the case is over, so nobody holds it: the desk is told, not the technician
    r = await _write(client, owner, case["id"], "又开始滴水了", "c-1")
    assert r.status_code == 201, r.text
    told = await _told(db, r.json()["items"][-1]["id"])
    assert told and {t["role"] for t in told} == {"agent"}

    # blank is refused by field
    r = await _write(client, owner, case["id"], "   ", "c-blank")
    assert r.status_code in (400, 422) and r.json()["field"] == "text"

    # at most OWNER_NOTES_PER_HOUR an hour; a retried one is not counted again
    for n in range(2, OWNER_NOTES_PER_HOUR + 1):
        assert (await _write(client, owner, case["id"], f"第{n}条", f"c-{n}")).status_code == 201
    assert (await _write(client, owner, case["id"], "第2条", "c-2")).status_code == 201
    r = await _write(client, owner, case["id"], "再来一条", "c-over")
    assert r.status_code == 429 and r.json()["code"] == "owner_too_many_messages"
    thread = (await client.get(f"{API}/cases/{case['id']}/messages", headers=owner)).json()
    assert len(thread["items"]) == OWNER_NOTES_PER_HOUR
    day_clock.advance(timedelta(hours=1, minutes=1))
    assert (await _write(client, owner, case["id"], "再来一条", "c-over")).status_code == 201
