"""Every (kind, status, role) of the field flows: the job screen offers exactly the allowedActions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from backend.services.intake import create_work_order
from tests.browser.conftest import log_in, screenshot, wait_until
from tests.browser.test_technician_offline import api_login, photo_file_bytes, post, technician

pytestmark = pytest.mark.browser

# The field statuses in the order a job passes them, and the steps (role, action, body) that lead to each.
PATH: Sequence[tuple[str, str, str, dict]] = (
    ("assigned", "agent", "assign", {}),
    ("accepted", "tech1", "accept", {}),
    ("en_route", "tech1", "depart", {}),
    ("on_site", "tech1", "arrive", {}),
    ("paused", "tech1", "pause", {"reason": "等配件"}),
)
# Everyone who may open a job: its technician, another technician, the guard, the desk and oversight.
ROLES = ("tech1", "tech2", "guard1", "agent", "supervisor", "manager")


class Setup:
    """Brings work orders into each status through the API, as the roles that would."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, dict[str, str]] = {}

    async def as_(self, username: str) -> dict[str, str]:
        if username not in self.headers:
            self.headers[username] = await api_login(self.http, username)
        return self.headers[username]

    async def act(self, username: str, job_id: str, action: str, body: dict) -> None:
        if action == "sign":
            await sign_without_owner(self.http, await self.as_(username), job_id)
            return
        await post(self.http, f"/api/v1/work-orders/{job_id}/{action}", await self.as_(username), body)

    async def detail(self, username: str, job_id: str) -> dict:
        r = await self.http.get(f"/api/v1/work-orders/{job_id}", headers=await self.as_(username))
        assert r.status_code == 200, r.text
        return r.json()

    async def finish(self, job_id: str) -> None:
        """From on_site to completed: an after photo, every check, what was done."""
        tech = await self.as_("tech1")
        r = await self.http.post(
            f"/api/v1/work-orders/{job_id}/photos",
            headers={**tech, "Idempotency-Key": str(uuid.uuid4())},
            files={"file": ("after.jpg", photo_file_bytes(), "image/jpeg")},
            data={"stage": "after"},
        )
        assert r.status_code == 201, r.text
        job = await self.detail("tech1", job_id)
        checklist = {code: True for code in job["requirements"]["checklist"]}
        await self.act("tech1", job_id, "complete", {"checklist": checklist, "workDone": "已处理"})

    async def bring_to(self, job_id: str, status: str, tech1_id: str, *, in_home: bool) -> None:
        if status == "cancelled":
            await self.act("supervisor", job_id, "cancel", {"reason": "重复登记"})
            return
        if status == "new":
            return
        for reached, username, action, body in PATH:
            if action == "assign":
                body = {"assigneeId": tech1_id}
            if action == "pause" and status != "paused":
                break
            await self.act(username, job_id, action, body)
            if reached == status:
                return
        await self.finish(job_id)
        if status == "completed":
            return
        if in_home:
            await self.act("tech1", job_id, "sign", {})
        if status == "signed":
            return
        await self.act("supervisor", job_id, "close", {})


async def sign_without_owner(http: httpx.AsyncClient, headers: dict[str, str], job_id: str) -> None:
    """The owner was not at home: the reason is recorded instead of a signature."""
    await post(http, f"/api/v1/work-orders/{job_id}/sign", headers, {"noSignReason": "owner_absent"})


# The screens worth looking at: the technician on site, the supervisor at a signed job.
SCREENSHOTS_OF = {("tech1", "on_site"), ("supervisor", "signed")}
FIELD_STATUSES = (
    "new",
    "assigned",
    "accepted",
    "en_route",
    "on_site",
    "paused",
    "completed",
    "closed",
    "cancelled",
)


async def offered(page, job_id: str, title: str) -> list[str]:
    """The actions the job screen offers, once it shows this job."""
    await page.goto(f"/#/job/{job_id}")
    await wait_until(page, f"document.querySelector('#view h2')?.textContent === {title!r}")
    return await page.eval_on_selector_all("[data-offers]", "els => els.map((e) => e.dataset.offers)")


async def test_the_job_screen_offers_exactly_what_the_server_allows(
    chromium, live_server, db: asyncpg.Connection
) -> None:
    site_id = await db.fetchval("SELECT id FROM sites WHERE code = 'demo'")
    jobs: list[tuple[str, str, str, str]] = []  # (kind, status, id, title)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        setup = Setup(http)
        tech1_id = (await technician(http, await setup.as_("agent"), "tech1"))["id"]
        for kind in ("repair", "emergency", "maintenance"):
            in_home = kind == "repair"
            statuses = FIELD_STATUSES[:7] + (("signed",) if in_home else ()) + FIELD_STATUSES[7:]
            for status in statuses:
                title = f"{kind} {status}"
                if kind == "maintenance":
                    created = await create_work_order(
                        db,
                        actor=None,
                        site_id=site_id,
                        kind="maintenance",
                        category="elevator",
                        priority=4,
                        title=title,
                        channel="schedule",
                        location="1号电梯机房",
                        now=datetime.now(UTC),
                    )
                    job_id = str(created.id)
                else:
                    body = {
                        "kind": kind,
                        "category": "water" if in_home else "electrical",
                        "channel": "phone",
                        "title": title,
                        "site": "demo",
                        "priority": "P1" if kind == "emergency" else "P3",
                    }
                    if in_home:
                        body |= {
                            "building": "A",
                            "unitNumber": "302",
                            "inHome": True,
                            "reporterName": "王业主",
                        }
                    else:
                        body |= {"location": "2号楼配电房", "inHome": False}
                    job_id = (await post(http, "/api/v1/work-orders", await setup.as_("agent"), body))["id"]
                await setup.bring_to(job_id, status, tech1_id, in_home=in_home)
                jobs.append((kind, status, job_id, title))

        checked = 0
        for n, username in enumerate(ROLES):
            context = await chromium.new_context(
                viewport={"width": 390, "height": 844},
                device_scale_factor=1,
                is_mobile=True,
                has_touch=True,
                base_url=live_server.url,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
            page = await context.new_page()
            await log_in(page, username)
            if n % 2:  # half the roles read the screen in English
                await page.click("#lang")
                await page.wait_for_selector("html[lang='en']", state="attached")
            for kind, status, job_id, title in jobs:
                allowed = (await setup.detail(username, job_id))["allowedActions"]
                shown = await offered(page, job_id, title)
                assert sorted(shown) == sorted(allowed), (username, kind, status, shown, allowed)
                checked += 1
                if (username, status) in SCREENSHOTS_OF:
                    await screenshot(page, f"40-offers-{username}-{kind}-{status}")
            missing = await page.evaluate("window.__i18nMissing")
            assert missing == [], missing
            await context.close()
        assert checked == len(ROLES) * len(jobs)
        # the walk reached every status of the field flows
        assert {s for _, s, _, _ in jobs} == set(FIELD_STATUSES) | {"signed"}
        statuses = {
            r["status"] for r in await db.fetch("SELECT status FROM work_orders WHERE title LIKE '% %'")
        }
        assert set(FIELD_STATUSES) | {"signed"} <= statuses
