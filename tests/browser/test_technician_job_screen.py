"""The technician's job screen keeps what was typed, opens any listed job offline, and shows photos; in
Chinese and in English."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.browser.conftest import log_in, screenshot, wait_for_service_worker, wait_until
from tests.browser.test_technician_offline import SYNC_SECONDS, photo_file, repair_assigned_to

pytestmark = pytest.mark.browser

WORDS = {
    "zh-CN": {
        "cause": "密封圈老化",
        "work_done": "更换密封圈",
        "work_done_more": "更换密封圈，试水无渗漏",
        "door": "调整门轴",
        "work_done_required": "请填写完成了哪些工作",
        "after_photo_required": "请至少拍一张本次维修后的照片",
        "completed": "已完成",
        "synced": "上次同步",
        "offline": "离线",
        "signature_pending": "签字待提交",
        "queued": "5 项操作等待提交",
    },
    "en": {
        "cause": "Worn seal",
        "work_done": "Replaced the seal",
        "work_done_more": "Replaced the seal; ran the water, no leak",
        "door": "Adjusted the door hinge",
        "work_done_required": "Say what was done",
        "after_photo_required": "Take at least one 'after' photo of this visit",
        "completed": "Completed",
        "synced": "Last synced",
        "offline": "Offline",
        "signature_pending": "Signature waiting to send",
        "queued": "5 actions waiting to be sent",
    },
}


async def in_language(page, language: str) -> None:
    """Switch the app to English the way a technician does (Chinese is where it starts)."""
    if language == "en":
        await page.click("#lang")
        await page.wait_for_selector("h2:has-text('My jobs')")


async def ticks(page) -> list[bool]:
    """The checklist as ticked on screen."""
    return [await box.is_checked() for box in await page.locator("input[name='check']").all()]


async def draft_says(page, job_id: str, field: str, value: str) -> None:
    """Wait until the phone's draft of the job holds `value` in `field` (a keystroke is kept in moments)."""
    await wait_until(
        page,
        f"import('/js/device.js').then((d) => d.loadDraft('{job_id}')).then((x) => x.{field} === {value!r})",
    )


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_a_photo_or_a_reload_never_wipes_what_was_typed(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path, language: str
) -> None:
    words = WORDS[language]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 卫生间漏水")
    page = await phone.new_page()
    await log_in(page, "tech1")
    await in_language(page, language)
    await page.goto(f"/#/job/{job['id']}")
    await page.click("[data-action='accept']")
    await page.click("[data-action='arrive']")
    await page.wait_for_selector("#photo-input", state="attached")

    # on arrival the phone offers a "before" photo
    assert await page.input_value("#photo-stage") == "before"
    boxes = page.locator("input[name='check']")
    count = await boxes.count()
    assert count >= 3
    await boxes.nth(0).check()
    await boxes.nth(2).check()
    await page.fill("#cause", words["cause"])
    await page.fill("#work-done", words["work_done"])
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    # the photo re-renders the screen: its thumbnail appears and nothing typed or ticked is lost
    await page.wait_for_selector("#photo-thumbs img[src^='blob:']")
    assert await page.input_value("#cause") == words["cause"]
    assert await page.input_value("#work-done") == words["work_done"]
    expected = [i in (0, 2) for i in range(count)]
    assert await ticks(page) == expected
    # a before photo is taken and the work is written up: the next photo is an "after" one
    assert await page.input_value("#photo-stage") == "after"
    await screenshot(page, f"30-job-draft-after-photo-{language}")

    # a reload in the middle, then the phone loses its signal and reloads again
    await page.check("input[name='check'] >> nth=1")
    await page.fill("#work-done", words["work_done_more"])
    await draft_says(page, job["id"], "workDone", words["work_done_more"])
    await page.reload()
    await page.wait_for_selector("#work-done")
    assert await page.input_value("#work-done") == words["work_done_more"]
    assert await page.input_value("#cause") == words["cause"]
    expected[1] = True
    assert await ticks(page) == expected

    # completing with the work done cleared is refused next to the field, in the user's language
    await page.fill("#work-done", "")
    await page.click("#complete")
    refusal = page.locator("[data-error-for='workDone']")
    await refusal.wait_for()
    assert await refusal.inner_text() == words["work_done_required"]
    # no "after" photo of this visit yet: said next to the camera
    assert await page.inner_text("[data-error-for='photos']") == words["after_photo_required"]
    await screenshot(page, f"31-job-refusal-{language}")

    await page.fill("#work-done", words["work_done_more"])
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await page.wait_for_selector("#photo-thumbs figure >> nth=1")
    for box in await boxes.all():
        await box.check()
    await page.click("#complete")
    await page.wait_for_selector(f"#job-status:has-text('{words['completed']}')")
    # the draft served its purpose: nothing of the completion is kept on the phone
    draft = await page.evaluate(f"import('/js/device.js').then((d) => d.loadDraft('{job['id']}'))")
    assert not draft.get("workDone") and not draft.get("cause") and not draft.get("checklist")

    resolution = await db.fetchval("SELECT resolution FROM work_orders WHERE id = $1", uuid.UUID(job["id"]))
    assert resolution["workDone"] == words["work_done_more"]
    assert resolution["cause"] == words["cause"]
    assert all(resolution["checklist"].values())
    stages = await db.fetch(
        "SELECT stage FROM photos WHERE work_order_id = $1 ORDER BY uploaded_at", uuid.UUID(job["id"])
    )
    assert [r["stage"] for r in stages] == ["before", "after"]
    assert await page.evaluate("window.__i18nMissing") == []


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_every_listed_job_opens_offline(
    phone, live_server, db: asyncpg.Connection, tmp_path: Path, language: str
) -> None:
    words = WORDS[language]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        first = await repair_assigned_to(http, "tech1", "A-302 热水器不热")
        second = await repair_assigned_to(http, "tech1", "A-302 阳台门关不上")
    page = await phone.new_page()
    await log_in(page, "tech1")
    await in_language(page, language)
    await wait_for_service_worker(page)
    # the list stores each job as it loads and marks it
    for job in (first, second):
        await page.wait_for_selector(f"[data-job='{job['id']}'] [data-ready]:not([hidden])")
    assert words["synced"] in await page.inner_text("#synced")
    await screenshot(page, f"33-jobs-ready-offline-{language}")

    await phone.set_offline(True)
    await page.reload()
    await page.wait_for_selector(f"[data-job='{second['id']}']")
    assert words["offline"] in await page.inner_text("#synced")
    unit_reads: list[str] = []
    page.on("request", lambda r: unit_reads.append(r.url) if "/api/v1/units/" in r.url else None)
    # never opened before, and no signal
    await page.click(f"[data-job='{second['id']}'] a")
    await page.wait_for_selector("[data-action='accept']")
    assert await page.get_attribute("#call-owner", "href") == "tel:13900000010"
    await page.click("[data-action='accept']")
    await page.click("[data-action='arrive']")
    await page.wait_for_selector("#photo-input", state="attached")
    await page.select_option("#photo-stage", "after")
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    await page.wait_for_selector("#photo-thumbs img[src^='blob:']")
    for box in await page.locator("input[name='check']").all():
        await box.check()
    await page.fill("#work-done", words["door"])
    await page.click("#complete")
    await page.wait_for_selector(f"#job-status:has-text('{words['completed']}')")
    await page.select_option("#no-sign-reason", "owner_absent")
    await page.click("#no-sign-save")
    await page.wait_for_selector(f"text={words['signature_pending']}")
    assert words["queued"] in await page.inner_text("#banner")
    await screenshot(page, f"34-job-opened-offline-{language}")
    assert unit_reads == [], "the job page reads the unit kept on the phone"
    assert await page.evaluate("window.__i18nMissing") == []

    await phone.set_offline(False)
    await wait_until(page, "document.getElementById('banner').hidden === true", timeout=SYNC_SECONDS * 1000)
    job_id = uuid.UUID(second["id"])
    actions = await db.fetch(
        "SELECT action FROM work_order_events WHERE work_order_id = $1 AND actor_id IS NOT NULL ORDER BY seq",
        job_id,
    )
    assert [r["action"] for r in actions][-4:] == ["accept", "arrive", "complete", "sign"]
    assert await db.fetchval("SELECT count(*) FROM photos WHERE work_order_id = $1", job_id) == 1
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job_id) == "signed"
