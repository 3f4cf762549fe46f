"""A technician cannot miss a new job: an assignment rings once, an emergency rings until it is accepted, and
the server's push for an emergency reaches the real service worker with the app closed and stays on screen.

The push is the one the server queued for tech2 (its payload made by the dispatcher's own push_payload),
delivered to the registered service worker through the DevTools protocol, as a vendor push service would.
"""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest
from playwright.async_api import Error as PlaywrightError

from backend.db.queries.push import DueNotification
from backend.notify.dispatcher import push_payload
from tests.browser.conftest import log_in, screenshot, wait_for_service_worker, wait_until
from tests.browser.test_technician_offline import api_login, post

pytestmark = [pytest.mark.browser]


async def _job_for(
    http: httpx.AsyncClient, db: asyncpg.Connection, kind: str, priority: str, title: str
) -> str:
    """A job recorded at the desk and assigned to tech2; returns its id."""
    agent = await api_login(http, "agent")
    job = await post(
        http,
        "/api/v1/work-orders",
        agent,
        {
            "kind": kind,
            "category": "water",
            "channel": "phone",
            "title": title,
            "site": "demo",
            "location": "地下车库B区",
            "priority": priority,
        },
    )
    tech2 = await db.fetchval("SELECT id FROM users WHERE username = 'tech2'")
    await post(http, f"/api/v1/work-orders/{job['id']}/assign", agent, {"assigneeId": str(tech2)})
    return job["id"]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_new_job_rings_once_and_an_emergency_rings_until_accepted(
    phone, live_server, db: asyncpg.Connection, language: str
) -> None:
    page = await phone.new_page()
    await log_in(page, "tech2")
    if language == "en":
        await page.click("#lang")
    await wait_until(page, "window.caretakerAlerts !== undefined")
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await _job_for(http, db, "repair", "P3", "水龙头滴水")
        await wait_until(page, "window.caretakerAlerts.rings >= 1")
        assert await page.evaluate("window.caretakerAlerts.ringing") == []  # once, not on and on

        emergency = await _job_for(http, db, "emergency", "P1", "地下车库水管爆裂")
        await wait_until(page, f"window.caretakerAlerts.ringing.includes('job:{emergency}')")
        rings = await page.evaluate("window.caretakerAlerts.rings")
        await wait_until(page, f"window.caretakerAlerts.rings > {rings}")  # it rings again until answered
        banner = page.locator(f"#job-alert [data-job-alert='{emergency}']")
        await banner.wait_for()
        await screenshot(page, f"64-tech-emergency-ringing-{language}")

        # Accepting it in the app stops the ringing.
        await banner.click()
        await page.locator("[data-action='accept']").click()
        await wait_until(page, "window.caretakerAlerts.ringing.length === 0")
        await page.locator("#job-alert").wait_for(state="hidden")
        assert (
            await db.fetchval("SELECT status FROM work_orders WHERE id = $1", uuid.UUID(emergency))
            == "accepted"
        )
    await screenshot(page, f"65-tech-emergency-accepted-{language}")


async def test_emergency_push_reaches_the_service_worker_with_the_app_closed(
    phone, live_server, db: asyncpg.Connection
) -> None:
    await phone.grant_permissions(["notifications"], origin=live_server.url)
    page = await phone.new_page()
    await log_in(page, "tech2")
    await wait_for_service_worker(page)
    # DevTools on a blank tab sees the context's service worker registrations
    blank = await phone.new_page()
    cdp = await phone.new_cdp_session(blank)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")
    await page.close()  # the app is closed from here on

    async with httpx.AsyncClient(base_url=live_server.url) as http:
        emergency = await _job_for(http, db, "emergency", "P1", "地下车库水管爆裂")
    row = await db.fetchrow(
        """SELECT n.id, n.site_id, n.recipient_id, n.kind, n.urgency, n.title, n.body, n.data, n.attempts
           FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE u.username = 'tech2' AND n.kind = 'assignment' AND n.data->>'workOrderId' = $1""",
        emergency,
    )
    assert row is not None
    payload = push_payload(DueNotification(**dict(row)))
    assert payload["severity"] == "critical" and payload["jobKind"] == "emergency"

    [registration] = [
        r for r in registrations if r["scopeURL"].startswith(live_server.url) and not r["isDeleted"]
    ]
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration["registrationId"],
            "data": json.dumps(payload),
        },
    )
    shown: list[dict] = []
    for _ in range(200):
        # The browser may stop the idle worker once the app closes and start a new one for the push:
        # ask whichever worker is running now.
        for worker in reversed(phone.service_workers):
            try:
                shown = await worker.evaluate(
                    """self.registration.getNotifications().then((list) => list.map((n) => ({
                         title: n.title, tag: n.tag,
                         requireInteraction: n.requireInteraction, data: n.data })))"""
                )
                break
            except PlaywrightError:
                continue
        if shown:
            break
        await blank.wait_for_timeout(100)
    assert [(n["title"], n["tag"], n["requireInteraction"]) for n in shown] == [
        (payload["title"], payload["tag"], True)
    ]
    assert shown[0]["data"]["url"] == f"/#/job/{emergency}"
    assert shown[0]["data"]["severity"] == "critical"
    assert not [p for p in phone.pages if p.url.startswith(live_server.url)]  # nothing of the app was open
