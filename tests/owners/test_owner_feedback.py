"""Suggestions and praise (建议/表扬) from the owner's page: filed once per request into the supervisor's
worklist with channel `app`, the staff's answer shown to the owner, another unit's owner sees none of it."""

from __future__ import annotations

from tests.owners.conftest import API, Owners


async def test_an_owner_files_a_suggestion_and_a_praise_and_reads_the_answer(
    owners: Owners, login_as
) -> None:
    client, db = owners.client, owners.db
    home, neighbour = await owners.home(), await owners.home(3)
    assert home["id"] != neighbour["id"]
    owner = await owners.sign_in(home)
    key = {**owner, "Idempotency-Key": "fb-1"}
    first = await client.post(
        f"{API}/feedback", json={"kind": "suggestion", "text": "楼道灯太暗"}, headers=key
    )
    assert first.status_code == 201, first.text
    suggestion = first.json()
    assert (suggestion["kind"], suggestion["text"], suggestion["answered"]) == (
        "suggestion",
        "楼道灯太暗",
        False,
    )
    assert suggestion["createdAt"] and suggestion["answer"] is None
    # the phone sends it again under the same key: filed once, the same answer
    again = await client.post(
        f"{API}/feedback", json={"kind": "suggestion", "text": "楼道灯太暗"}, headers=key
    )
    assert again.status_code == 201 and again.json()["id"] == suggestion["id"]
    r = await client.post(
        f"{API}/feedback",
        json={"kind": "praise", "text": "保安师傅很负责"},
        headers={**owner, "Idempotency-Key": "fb-2"},
    )
    assert r.status_code == 201, r.text
    praise = r.json()
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE unit_id = $1", home["id"]) == 2

    # the unit, name and number come from the session, the channel is the owner's page
    supervisor = await login_as("supervisor")
    listed = (await client.get("/api/v1/feedback", params={"limit": 200}, headers=supervisor)).json()["items"]
    mine = {f["id"]: f for f in listed if f["id"] in (suggestion["id"], praise["id"])}
    assert len(mine) == 2
    for item in mine.values():
        assert item["channel"] == "app" and item["unitId"] == str(home["id"])
        assert item["receivedById"] is None and item["reporterPhone"] == home["phone"]
    assert {i["kind"] for i in mine.values()} == {"suggestion", "praise"}

    r = await client.post(
        f"/api/v1/feedback/{suggestion['id']}/answer",
        json={"via": "phone", "summary": "已安排更换楼道灯"},
        headers=supervisor,
    )
    assert r.status_code == 200, r.text
    own = (await client.get(f"{API}/feedback", headers=owner)).json()
    assert own["total"] == 2
    by_id = {f["id"]: f for f in own["items"]}
    assert by_id[suggestion["id"]]["answered"] is True
    assert by_id[suggestion["id"]]["answer"] == "已安排更换楼道灯" and by_id[suggestion["id"]]["answeredAt"]
    assert by_id[praise["id"]]["answered"] is False
    assert "supervisor" not in str(own) and "李主管" not in str(own)

    # another unit's owner sees none of it
    other = await owners.sign_in(neighbour)
    theirs = (await client.get(f"{API}/feedback", headers=other)).json()["items"]
    assert not {f["id"] for f in theirs} & {suggestion["id"], praise["id"]}
    # the same key from another unit is another request
    r = await client.post(
        f"{API}/feedback",
        json={"kind": "suggestion", "text": "电梯太慢"},
        headers={**other, "Idempotency-Key": "fb-1"},
    )
    assert r.status_code == 201 and r.json()["id"] != suggestion["id"]


async def test_a_bad_feedback_body_is_refused_naming_the_field(owners: Owners) -> None:
    client, db = owners.client, owners.db
    owner = await owners.sign_in(await owners.home())
    for body, field in (
        ({"kind": "suggestion", "text": "x", "unitId": "00000000-0000-0000-0000-000000000000"}, "unitId"),
        ({"kind": "complaint", "text": "x"}, "kind"),
        ({"kind": "praise", "text": ""}, "text"),
        ({"kind": "praise", "text": "好" * 2001}, "text"),
        ({"kind": "praise", "text": "   "}, "text"),
        ({"kind": "praise"}, "text"),
    ):
        r = await client.post(f"{API}/feedback", json=body, headers=owner)
        # a value the schema refuses is 422; one the decoder refuses (unknown, missing, too long) is 400
        assert r.status_code in (400, 422), (body, r.text)
        assert field in r.json()["field"], (body, r.json())
    assert (await client.post(f"{API}/feedback", json={"kind": "praise", "text": "好"})).status_code == 401
    assert await db.fetchval("SELECT count(*) FROM feedback WHERE channel = 'app'") == 0
