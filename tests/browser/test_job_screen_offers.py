"""Every (kind, status, role) of the state machine: the screen a job opens on (the job screen, or the
complaint's own screen) offers exactly the allowedActions — for the field flows and for complaints, handled
by a technician or by the desk."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from backend.services.intake import create_work_order
from tests.browser.conftest import log_in, new_phone, screenshot, wait_until
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
# A complaint's statuses after a handler is named, and the steps (action, body) that lead to each.
COMPLAINT_PATH: Sequence[tuple[str, str, dict]] = (
    ("investigating", "investigate", {"findings": "属实：报修后三天无人上门"}),
    ("solved", "solve", {"solution": "当天派人修复并致歉"}),
    ("completed", "inform", {"via": "phone", "summary": "已告知业主处理结果"}),
    ("closed", "close", {}),
)
# Set off, arrive and the owner's signature: the steps of a visit, which a complaint never shows.
FIELD_STEP_CONTROLS = (
    ", ".join(f"[data-offers='{a}'], [data-action='{a}']" for a in ("depart", "arrive", "sign"))
    + ", #signature-pad"
)
COMPLAINT_STATUSES = ("new", "assigned", "investigating", "solved", "completed", "closed", "cancelled")
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

    async def bring_complaint_to(self, job_id: str, status: str, handler: str, handler_id: str) -> None:
        """The desk names the handler, who investigates, solves and tells the owner; a supervisor closes."""
        if status == "new":
            return
        await self.act("agent", job_id, "assign", {"assigneeId": handler_id})
        if status == "cancelled":
            await self.act("supervisor", job_id, "cancel", {"reason": "重复投诉"})
            return
        for reached, action, body in COMPLAINT_PATH:
            if reached == "closed":
                await self.act("supervisor", job_id, action, body)
            else:
                await self.act(handler, job_id, action, body)
            if reached == status:
                return

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


# The screens worth looking at: the technician on site, the supervisor at a signed job, a complaint as its
# handler investigates it and as the desk sees it solved.
SCREENSHOTS_OF = {
    ("tech1", "on_site"),
    ("supervisor", "signed"),
    ("tech1", "investigating"),
    ("agent", "solved"),
}
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
        agent_id = await db.fetchval("SELECT id::text FROM users WHERE username = 'agent'")
        for n, status in enumerate(COMPLAINT_STATUSES):
            # a complaint not yet handed to anyone; then each status with a technician, and with the desk
            for handler, handler_id in (("tech1", tech1_id), ("agent", agent_id)):
                if status == "new" and handler == "agent":
                    continue
                kind = "complaint" if status == "new" else f"complaint-{handler}"
                title = f"{kind} {status}"
                body = {
                    "kind": "complaint",
                    "category": "repair_delay",
                    "channel": "phone",
                    "title": title,
                    "site": "demo",
                    "building": "B",
                    "unitNumber": f"{n + 1}0{1 if handler == 'tech1' else 2}",
                    "reporterName": "李业主",
                }
                job_id = (await post(http, "/api/v1/work-orders", await setup.as_("agent"), body))["id"]
                await setup.bring_complaint_to(job_id, status, handler, handler_id)
                jobs.append((kind, status, job_id, title))

        checked = 0
        for n, username in enumerate(ROLES):
            context = await new_phone(chromium, live_server, scale=1)
            page = await context.new_page()
            await log_in(page, username)
            if n % 2:  # half the roles read the screen in English
                await page.click("#lang")
                await page.wait_for_selector("html[lang='en']", state="attached")
            for kind, status, job_id, title in jobs:
                allowed = (await setup.detail(username, job_id))["allowedActions"]
                shown = await offered(page, job_id, title)
                assert sorted(shown) == sorted(allowed), (username, kind, status, shown, allowed)
                if kind.startswith("complaint"):
                    # a complaint is not visited: no field step, whoever looks at it
                    assert await page.locator(FIELD_STEP_CONTROLS).count() == 0, (username, kind, status)
                checked += 1
                if (username, status) in SCREENSHOTS_OF:
                    await screenshot(page, f"40-offers-{username}-{kind}-{status}")
            missing = await page.evaluate("window.__i18nMissing")
            assert missing == [], missing
            await context.close()
        assert checked == len(ROLES) * len(jobs)
        # every complaint status was offered to every role, with a technician and with the desk handling it
        assert {(k, s) for k, s, _, _ in jobs if k.startswith("complaint")} == {("complaint", "new")} | {
            (f"complaint-{h}", s) for h in ("tech1", "agent") for s in COMPLAINT_STATUSES[1:]
        }
        # the walk reached every status of the field flows
        assert {s for k, s, _, _ in jobs if not k.startswith("complaint")} == set(FIELD_STATUSES) | {"signed"}
        statuses = {
            r["status"] for r in await db.fetch("SELECT status FROM work_orders WHERE title LIKE '% %'")
        }
        assert set(FIELD_STATUSES) | {"signed"} <= statuses
