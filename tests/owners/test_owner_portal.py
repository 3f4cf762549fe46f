"""The owner's page API: sign-in by SMS code (through the fake provider), throttled guessing, reporting a
repair onto the dispatch board, another unit's case out of reach, and a rating counted as the callback."""

from __future__ import annotations

from datetime import timedelta

from backend.services.owner_portal import WRONG_PER_CODE
from tests.abuse.estate import jpeg_bytes
from tests.integration.test_signature import signature_png
from tests.integration.work_order_evidence import act, add_photo, completion, user_id
from tests.owners.conftest import API, Owners


async def test_sign_in_with_the_code_the_provider_received(owners: Owners) -> None:
    client, db = owners.client, owners.db
    home = await owners.home()
    page = await client.get(f"{API}/units/{home['owner_link']}")
    assert page.status_code == 200 and page.json()["unit"]
    owner = await owners.sign_in(home)
    assert (await client.get(f"{API}/cases", headers=owner)).json()["total"] >= 0
    # the code is not kept in the outbox once sent
    assert await db.fetchval("SELECT body FROM owner_messages WHERE kind = 'sign_in_code'") == "(code)"
    # a signed-out request and a staff token are both refused
    assert (await client.get(f"{API}/cases")).status_code == 401


async def test_an_unregistered_number_gets_no_code_and_the_same_answer(owners: Owners) -> None:
    client, db, fake_sms = owners.client, owners.db, owners.sms
    home, other = await owners.home(), await owners.home(5)
    r = await client.post(f"{API}/codes", json={"link": home["owner_link"], "phone": other["phone"]})
    assert r.status_code == 202
    await owners.outbox().run_once(db)
    assert fake_sms.accepted == []


async def test_guessing_is_throttled_and_logged(owners: Owners) -> None:
    client, db, day_clock = owners.client, owners.db, owners.clock
    home = await owners.home()
    code = await owners.code_by_sms(home)
    wrong = "000000" if code != "000000" else "111111"
    body = {"link": home["owner_link"], "phone": home["phone"], "code": wrong}
    for _ in range(WRONG_PER_CODE):
        r = await client.post(f"{API}/sessions", json=body)
        assert r.status_code == 401 and r.json()["code"] == "owner_wrong_code"
    # the right code no longer opens: this code has had its guesses
    r = await client.post(f"{API}/sessions", json={**body, "code": code})
    assert r.status_code == 401
    logged = await db.fetchval("SELECT count(*) FROM owner_sign_in_failures WHERE phone = $1", home["phone"])
    assert logged == WRONG_PER_CODE + 1
    for _ in range(10):
        r = await client.post(f"{API}/sessions", json=body)
    assert r.status_code == 429
    # codes per number are limited too
    statuses = [
        (
            await client.post(f"{API}/codes", json={"link": home["owner_link"], "phone": home["phone"]})
        ).status_code
        for _ in range(5)
    ]
    assert statuses[-1] == 429
    day_clock.advance(timedelta(hours=1, minutes=1))
    code = await owners.code_by_sms(home)
    r = await client.post(f"{API}/sessions", json={**body, "code": code})
    assert r.status_code == 200


async def test_report_dispatch_complete_and_rate_as_the_callback(owners: Owners, login_as) -> None:
    client, db = owners.client, owners.db
    home, neighbour = await owners.home(), await owners.home(3)
    owner = await owners.sign_in(home)
    r = await client.post(
        f"{API}/cases",
        json={"kind": "repair", "category": "water", "description": "厨房水槽下漏水"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    row = await db.fetchrow(
        "SELECT channel, unit_id, status FROM work_orders WHERE id = $1::uuid", case["id"]
    )
    assert (row["channel"], row["unit_id"], row["status"]) == ("app", home["id"], "new")
    received = await db.fetchval(
        "SELECT count(*) FROM owner_messages WHERE work_order_id = $1::uuid AND kind = 'case_received'",
        case["id"],
    )
    assert received >= 1

    # the neighbour cannot read it by id
    other = await owners.sign_in(neighbour)
    r = await client.get(f"{API}/cases/{case['id']}", headers=other)
    assert r.status_code == 404 and r.json()["code"] == "owner_case_not_found"
    assert case["id"] not in [
        c["id"] for c in (await client.get(f"{API}/cases", headers=other)).json()["items"]
    ]

    agent, tech = await login_as("agent"), await login_as("tech1")
    assert (
        await act(client, agent, case["id"], "assign", {"assigneeId": await user_id(db, "tech1")})
    ).status_code == 200
    seen = (await client.get(f"{API}/cases/{case['id']}", headers=owner)).json()
    assert seen["technician"]["name"] and seen["technician"]["badge"] == "tech1"
    assert seen["arrivalWindow"]["to"]
    assert "phone" not in str(seen).lower() and "1380000" not in str(seen)
    for step in ("accept", "arrive"):
        assert (await act(client, tech, case["id"], step)).status_code == 200
    r = await client.post(f"{API}/cases/{case['id']}/confirmation", headers=owner)
    assert r.status_code == 409 and r.json()["code"] == "owner_confirm_not_done"
    await add_photo(db, case["id"], "before")
    await add_photo(db, case["id"], "after")
    r = await act(client, tech, case["id"], "complete", completion())
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/work-orders/{case['id']}/sign",
        files={"file": ("signature.png", signature_png(), "image/png")},
        data={"signerName": "业主", "relation": "owner"},
        headers={**tech, "Idempotency-Key": "sign-1"},
    )
    assert r.status_code == 200, r.text
    seen = (await client.get(f"{API}/cases/{case['id']}", headers=owner)).json()
    assert seen["canRate"] is True and seen["workDone"] == "更换角阀阀芯并试水"
    assert seen["canConfirm"] is True and seen["confirmedAt"] is None
    # the owner confirms the work is done, apart from the rating; again changes nothing
    for _ in range(2):
        r = await client.post(f"{API}/cases/{case['id']}/confirmation", headers=owner)
        assert r.status_code == 200, r.text
        assert r.json()["confirmedAt"] and r.json()["canConfirm"] is False and r.json()["canRate"] is True
    r = await client.post(f"{API}/cases/{case['id']}/confirmation", headers=other)
    assert r.status_code == 404
    history = (await client.get(f"/api/v1/work-orders/{case['id']}/owner-messages", headers=agent)).json()
    confirmations = [h for h in history["items"] if h["direction"] == "in"]
    assert [(h["kind"], h["status"]) for h in confirmations] == [("confirm", "received")]
    r = await client.post(
        f"{API}/cases/{case['id']}/rating",
        json={"satisfaction": 5, "speed": 5, "attitude": 4, "quality": 5, "recommend": 9},
        headers=owner,
    )
    assert r.status_code == 200, r.text
    assert r.json()["rating"]["recommend"] == 9 and r.json()["canRate"] is False
    staff_view = (await client.get(f"/api/v1/work-orders/{case['id']}", headers=agent)).json()
    [callback] = staff_view["callbacks"]
    assert (callback["reached"], callback["satisfaction"], callback["attitude"]) == (True, 5, 4)
    assert staff_view["status"] == "closed"
    # the neighbour cannot rate it either
    r = await client.post(f"{API}/cases/{case['id']}/rating", json={"satisfaction": 1}, headers=other)
    assert r.status_code == 404


async def test_an_owner_attaches_photos_to_their_own_case_only(owners: Owners) -> None:
    client, db = owners.client, owners.db
    home, neighbour = await owners.home(), await owners.home(3)
    owner = await owners.sign_in(home)
    case = (
        await client.post(
            f"{API}/cases", json={"kind": "repair", "category": "water", "description": "漏水"}, headers=owner
        )
    ).json()
    upload = {"file": ("leak.jpg", jpeg_bytes(), "image/jpeg")}
    r = await client.post(f"{API}/cases/{case['id']}/photos", files=upload, headers=owner)
    assert r.status_code == 201, r.text
    assert r.json()["photos"] == 1
    assert await db.fetchval("SELECT count(*) FROM photos WHERE by_owner") == 1
    other = await owners.sign_in(neighbour)
    r = await client.post(f"{API}/cases/{case['id']}/photos", files=upload, headers=other)
    assert r.status_code == 404
