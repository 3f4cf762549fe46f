"""A technician works a job with no signal; each action reaches the server exactly once when it returns."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from PIL import Image
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import log_in, screenshot, wait_for_service_worker, wait_until

pytestmark = pytest.mark.browser

SYNC_SECONDS = 20


async def api_login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """Bearer headers for a demo user."""
    r = await http.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def post(http: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict) -> dict:
    """One mutation with its own Idempotency-Key; asserts it succeeded."""
    r = await http.post(path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code in (200, 201), r.text
    return r.json()


async def record_job(http: httpx.AsyncClient, agent: dict[str, str], title: str, **fields: object) -> dict:
    """A repair the agent records from a phone call; `fields` add to or replace the request's."""
    body = {"kind": "repair", "category": "water", "channel": "phone", "title": title, "site": "demo"}
    return await post(http, "/api/v1/work-orders", agent, {**body, **fields})


async def repair_assigned_to(
    http: httpx.AsyncClient, username: str, title: str, reporter_phone: str = "13900000010"
) -> dict:
    """An in-home repair for unit A-302, recorded by the agent and assigned to `username`."""
    agent = await api_login(http, "agent")
    job = await record_job(
        http,
        agent,
        title,
        description="厨房水龙头滴水",
        building="A",
        unitNumber="302",
        priority="P3",
        inHome=True,
        reporterName="王业主",
        reporterPhone=reporter_phone,
    )
    assignee = await technician(http, agent, username)
    await post(http, f"/api/v1/work-orders/{job['id']}/assign", agent, {"assigneeId": assignee["id"]})
    return job


async def open_job(phone: BrowserContext, username: str, job: dict) -> Page:
    """`username` logged in on the phone, the service worker installed, the job open and acceptable."""
    page = await phone.new_page()
    await log_in(page, username)
    await wait_for_service_worker(page)
    await page.goto(f"/#/job/{job['id']}")
    await page.wait_for_selector("[data-action='accept']")
    return page


async def technician(http: httpx.AsyncClient, headers: dict[str, str], username: str) -> dict:
    """A demo technician's user record, as the registry lists it."""
    r = await http.get("/api/v1/users", params={"role": "technician", "site": "demo"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return next(u for u in (body["items"] if isinstance(body, dict) else body) if u["username"] == username)


def photo_file_bytes() -> bytes:
    """A 2400x1800 JPEG, bigger than the PWA's 1600 px limit."""
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (180, 40, 40)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def photo_file(tmp_path: Path) -> Path:
    """The same JPEG as a file for the camera input."""
    path = tmp_path / "fault.jpg"
    path.write_bytes(photo_file_bytes())
    return path


async def draw_signature(page) -> None:
    """Sign with the mouse: a few strokes across the pad."""
    box = await page.locator("#signature-pad").bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    await page.mouse.move(x + w * 0.1, y + h * 0.6)
    await page.mouse.down()
    for i in range(1, 20):
        await page.mouse.move(x + w * (0.1 + 0.04 * i), y + h * (0.6 - 0.3 * ((i % 4) / 3)), steps=2)
    await page.mouse.up()


async def test_offline_job_is_synced_exactly_once_with_offline_times(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 厨房漏水")

    page = await phone.new_page()
    await log_in(page, "tech1")
    await wait_for_service_worker(page)
    await page.wait_for_selector(f"[data-job='{job['id']}']")
    await screenshot(page, "03-tech-jobs")
    await page.click(f"[data-job='{job['id']}'] a")
    await page.wait_for_selector("[data-action='accept']")
    assert await page.get_attribute("#call-owner", "href") == "tel:13900000010"
    await screenshot(page, "04-job-assigned")

    offline_from = datetime.now(UTC)
    await phone.set_offline(True)
    await page.reload()  # the shell and this job come from the service worker's caches
    await page.wait_for_selector("[data-action='accept']")
    await page.click("[data-action='accept']")
    await page.wait_for_selector("[data-action='arrive']")
    await page.click("[data-action='arrive']")
    await page.wait_for_selector("#photo-input", state="attached")
    # on arrival the stage offered is "before"; this job's one photo shows the finished work
    assert await page.input_value("#photo-stage") == "before"
    await page.select_option("#photo-stage", "after")
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await page.wait_for_selector("text=张照片待上传")
    for box in await page.locator("input[name='check']").all():
        await box.check()
    await page.fill("#cause", "阀芯老化")
    await page.fill("#work-done", "更换阀芯")
    await page.click("#complete")
    await page.wait_for_selector("#job-status:has-text('已完成')")
    await page.wait_for_selector("#signature-pad")
    await page.fill("#signer-name", "张三")
    await draw_signature(page)
    await page.click("#sign-save")
    await page.wait_for_selector("text=签字待提交")
    assert "5 项操作等待提交" in await page.inner_text("#banner")
    await screenshot(page, "05-job-offline-queued")
    offline_until = datetime.now(UTC)

    await phone.set_offline(False)
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)
    await page.reload()
    await page.wait_for_selector("#job-status")
    assert (await page.inner_text("#job-status")) == "已签字"
    await screenshot(page, "06-job-synced")
    await page.click("a[href^='#/receipt/']")
    # the record opens full page (no frame); its own styles live in a shadow root the locator reads through
    receipt = page.locator("#receipt")
    await receipt.locator("text=张三").first.wait_for()
    await screenshot(page, "06b-receipt")

    events = await db.fetch(
        "SELECT action, client_at, at FROM work_order_events WHERE work_order_id = $1 ORDER BY seq",
        uuid.UUID(job["id"]),
    )
    field_actions = [e for e in events if e["action"] in {"accept", "arrive", "complete", "sign"}]
    assert [e["action"] for e in field_actions] == ["accept", "arrive", "complete", "sign"]
    for event in field_actions:
        assert offline_from <= event["client_at"] <= offline_until, event
        assert event["at"] >= offline_until, "the server received it after the network returned"
    photos = await db.fetch(
        "SELECT stage, width, height, client_at FROM photos WHERE work_order_id = $1", uuid.UUID(job["id"])
    )
    assert len(photos) == 1
    assert photos[0]["stage"] == "after"
    assert max(photos[0]["width"], photos[0]["height"]) == 1600
    assert offline_from <= photos[0]["client_at"] <= offline_until
    signature = await db.fetchrow(
        "SELECT sha256, signer_name, relation FROM signatures WHERE work_order_id = $1", uuid.UUID(job["id"])
    )
    assert signature is not None and signature["sha256"] and signature["signer_name"] == "张三"
    assert signature["relation"] == "owner"
    status = await db.fetchval("SELECT status FROM work_orders WHERE id = $1", uuid.UUID(job["id"]))
    assert status == "signed"


async def test_a_job_reassigned_while_offline_shows_the_conflict_after_sync(
    phone, live_server, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 门锁坏了")
        page = await open_job(phone, "tech1", job)

        await phone.set_offline(True)
        supervisor = await api_login(http, "supervisor")
        tech3 = await technician(http, supervisor, "tech3")
        await post(http, f"/api/v1/work-orders/{job['id']}/assign", supervisor, {"assigneeId": tech3["id"]})

        await page.click("[data-action='accept']")
        await page.wait_for_selector("text=1 项操作等待提交")
        await phone.set_offline(False)
        conflict = page.locator("[data-conflict]")
        await conflict.wait_for(timeout=SYNC_SECONDS * 1000)
        text = await conflict.inner_text()
        assert "接单" in text
        assert len(await page.locator(".conflict-detail").inner_text()) > 3, "the server's reason is shown"
        await screenshot(page, "07-conflict")
    job_id = uuid.UUID(job["id"])
    accepted = await db.fetchval(
        "SELECT count(*) FROM work_order_events WHERE work_order_id = $1 AND action = 'accept'", job_id
    )
    assert accepted == 0
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job_id) == "assigned"


async def test_a_session_expired_while_offline_keeps_the_queue_until_the_next_login(
    phone, live_server, db: asyncpg.Connection
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 插座没电")
    page = await open_job(phone, "tech1", job)

    await phone.set_offline(True)
    await page.click("[data-action='accept']")
    await page.wait_for_selector("text=1 项操作等待提交")
    # The token the outbox replays with is no longer accepted (as after expiry).
    await page.evaluate("import('/js/outbox.js').then((outbox) => outbox.setToken('expired.token.value'))")
    await phone.set_offline(False)

    await page.wait_for_selector("#login-form", timeout=SYNC_SECONDS * 1000)
    assert "登录已过期" in await page.inner_text("#view")
    assert "1 项操作等待提交" in await page.inner_text("#banner")
    job_id = uuid.UUID(job["id"])
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job_id) == "assigned"
    await screenshot(page, "14-session-expired")

    await page.fill("#username", "tech1")
    await page.fill("#password", "demo1234")
    await page.click("#login-submit")
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)
    accepts = await db.fetchval(
        "SELECT count(*) FROM work_order_events WHERE work_order_id = $1 AND action = 'accept'", job_id
    )
    assert accepts == 1
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job_id) == "accepted"
