"""GET /api/v1/work-orders/{id} carries the on-site checklist, and completion demands exactly that list.

The phone shows `checklist` while offline, so what it shows and what the server checks must be one rule:
the default items of the kind, each replaced by the site's own item with the same code, plus the site's
extra items.
"""

from __future__ import annotations

import asyncpg
from litestar.testing import AsyncTestClient

from tests.integration.work_order_evidence import (
    API,
    FIELD_CHECKLIST,
    act,
    add_photo,
    completion,
    create,
    user_id,
)

DEFAULT_REPAIR = ["introduce", "consent", "covers", "photo_fault", "test_explain", "clean_up", "parts_taken"]


async def _on_site(client: AsyncTestClient, db: asyncpg.Connection, login_as, **fields) -> tuple[dict, dict]:
    """A repair in A 101, taken by tech1 to on_site with an 'after' photo; (work order, tech1 headers)."""
    agent, tech1 = await login_as("agent"), await login_as("tech1")
    wo = await create(client, agent, **fields)
    tech1_id = await user_id(db, "tech1")
    assert (await act(client, agent, wo["id"], "assign", {"assigneeId": tech1_id})).status_code == 200
    for action in ("accept", "depart", "arrive"):
        assert (await act(client, tech1, wo["id"], action)).status_code == 200
    await add_photo(db, wo["id"], "after")
    return wo, tech1


async def test_a_repair_shows_the_default_checklist_in_order(client, db, login_as) -> None:
    agent = await login_as("agent")
    wo = await create(client, agent)
    r = await client.get(f"{API}/{wo['id']}", headers=agent)
    assert r.status_code == 200
    items = r.json()["checklist"]
    assert [i["code"] for i in items] == DEFAULT_REPAIR
    assert [i["position"] for i in items] == [1, 2, 3, 4, 5, 6, 7]
    assert items[0] == {
        "code": "introduce",
        "labelZh": "自我介绍并出示工作证",
        "labelEn": "Introduce yourself and show your badge",
        "required": True,
        "position": 1,
        "place": "home",
    }
    assert [i["code"] for i in items if not i["required"]] == ["parts_taken"]


async def test_a_complaint_has_no_checklist(client, db, login_as) -> None:
    agent = await login_as("agent")
    wo = await create(client, agent, kind="complaint", category="attitude", title="维修工态度差")
    r = await client.get(f"{API}/{wo['id']}", headers=agent)
    assert r.status_code == 200 and r.json()["checklist"] == []


async def test_site_items_override_defaults_by_code_and_completion_demands_that_list(
    client, db: asyncpg.Connection, login_as
) -> None:
    demo = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    # the demo estate relaxes the covers (owners here lay their own) and adds shoe covers after the consent
    await db.execute(
        """INSERT INTO checklist_items (site_id, kind, code, position, label_zh, label_en, required) VALUES
           ($1, 'repair', 'covers', 3, '询问是否需要铺设防护垫', 'Offer protective covers', false),
           ($1, 'repair', 'shoe_covers', 2, '入户穿鞋套', 'Wear shoe covers indoors', true)""",
        demo,
    )
    wo, tech1 = await _on_site(client, db, login_as)
    r = await client.get(f"{API}/{wo['id']}", headers=tech1)
    items = {i["code"]: i for i in r.json()["checklist"]}
    assert [i["code"] for i in r.json()["checklist"]] == [
        "introduce",
        "consent",
        "shoe_covers",
        "covers",
        "photo_fault",
        "test_explain",
        "clean_up",
        "parts_taken",
    ]
    assert items["covers"] == {
        "code": "covers",
        "labelZh": "询问是否需要铺设防护垫",
        "labelEn": "Offer protective covers",
        "required": False,
        "position": 3,
        "place": "any",
    }
    assert items["introduce"]["labelEn"] == "Introduce yourself and show your badge"  # untouched default
    required = sorted(code for code, item in items.items() if item["required"])

    # the site's extra item is demanded ...
    r = await act(client, tech1, wo["id"], "complete", completion(FIELD_CHECKLIST))
    assert r.status_code == 422 and r.json()["field"] == "checklist"
    assert r.json()["detail"].endswith(": shoe_covers")
    # ... and the required items shown, nothing more, are enough: the relaxed covers may stay unticked
    assert "covers" not in required and "shoe_covers" in required
    r = await act(client, tech1, wo["id"], "complete", completion(dict.fromkeys(required, True)))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"


async def test_another_sites_items_do_not_leak(client, db: asyncpg.Connection, login_as) -> None:
    other = await db.fetchval(
        "INSERT INTO sites (code, name, timezone) VALUES ('north', '北苑', 'Asia/Shanghai') RETURNING id"
    )
    await db.execute(
        """INSERT INTO checklist_items (site_id, kind, code, position, label_zh, label_en, required)
           VALUES ($1, 'repair', 'introduce', 1, '北苑自我介绍', 'North introduction', true)""",
        other,
    )
    agent = await login_as("agent")
    wo = await create(client, agent)
    items = (await client.get(f"{API}/{wo['id']}", headers=agent)).json()["checklist"]
    assert items[0]["labelZh"] == "自我介绍并出示工作证"
    assert [i["code"] for i in items] == DEFAULT_REPAIR


async def test_a_plant_room_job_gets_the_common_area_list_not_the_home_visit(client, db, login_as) -> None:
    """DOMAIN.md "On site": the home-visit items (badge, consent, covers) apply only in a home."""
    agent = await login_as("agent")
    wo = await create(client, agent, building=None, unitNumber=None, site="demo", location="2号泵房")
    assert wo["inHome"] is False
    detail = (await client.get(f"{API}/{wo['id']}", headers=agent)).json()
    codes = [i["code"] for i in detail["checklist"]]
    assert codes == [
        "isolate_lockout",
        "safety_gear",
        "photo_fault_area",
        "test_restore",
        "tidy_area",
        "record_readings",
    ]
    assert not {"introduce", "consent", "covers"} & set(codes)
    assert detail["requirements"]["checklist"] == codes[:-1]  # the readings are optional
    assert detail["requirements"]["signature"] is False
