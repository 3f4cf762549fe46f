"""A repair the owner is unhappy with goes round again: new visit, evidence, signature, a second call."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.browser.conftest import log_in, screenshot, wait_until
from tests.browser.test_technician_offline import draw_signature, photo_file, repair_assigned_to

pytestmark = pytest.mark.browser


async def work_the_visit(page, job_id: str, tmp_path: Path, *, signer: str) -> None:
    """Accept, arrive, photograph the result, tick, write up, complete and have it signed."""
    await page.goto(f"/#/job/{job_id}")
    await page.click("[data-action='accept']")
    await page.click("[data-action='arrive']")
    await page.wait_for_selector("#photo-input", state="attached")
    for box in await page.locator("input[name='check']").all():
        await box.check()
    await page.fill("#work-done", "更换角阀")
    # this visit has no "after" photo yet: the completion is refused next to the camera
    await page.click("#complete")
    await page.wait_for_selector("[data-error-for='photos']:not([hidden])")
    await page.select_option("#photo-stage", "after")
    before = await page.locator("#photo-thumbs figure").count()
    await page.set_input_files("#photo-input", str(photo_file(tmp_path)))
    shown = "document.querySelectorAll(\"#photo-thumbs img[src^='blob:']\").length"
    await wait_until(page, f"{shown} === {before + 1}")
    await page.click("#complete")
    await page.wait_for_selector("#signature-pad")
    await page.fill("#signer-name", signer)
    await draw_signature(page)
    await page.click("#sign-save")
    await page.wait_for_selector("#job-status:has-text('已签字')")


async def call_back(page, job_id: str, score: int, comment: str) -> None:
    """The agent calls the owner from the callbacks screen and records the score and words."""
    await page.goto("/#/callbacks")
    await page.reload()  # the queue as it is now (the hash alone may not have changed)
    card = page.locator(f"[data-callback='{job_id}']")
    await card.wait_for()
    await card.locator("[data-reached]").check()
    await card.locator(f"[data-score][value='{score}']").check()
    await card.locator("[data-comment]").fill(comment)
    await card.locator("[data-record]").click()
    await card.locator("[data-result]:not(.hidden)").wait_for()


async def test_an_unsatisfied_callback_sends_the_repair_round_again(
    chromium, phone, live_server, db: asyncpg.Connection, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        job = await repair_assigned_to(http, "tech1", "A-302 马桶漏水")
    job_id = job["id"]
    tech = await phone.new_page()
    await log_in(tech, "tech1")
    await work_the_visit(tech, job_id, tmp_path, signer="王业主")

    # the agent works in English on a desk-sized screen
    desk = await chromium.new_context(
        viewport={"width": 390, "height": 844},
        base_url=live_server.url,
        locale="en-US",
        timezone_id="Asia/Shanghai",
    )
    agent = await desk.new_page()
    await log_in(agent, "agent")
    await agent.click("#lang")
    await agent.wait_for_selector("html[lang='en']", state="attached")
    await call_back(agent, job_id, 2, "还是漏水，地上有水")
    assert await agent.inner_text(f"[data-callback='{job_id}'] [data-result]") == "Recorded"
    await screenshot(agent, "50-callback-unsatisfied-en")
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", uuid.UUID(job_id)) == "assigned"

    # the technician sees why it came back, and the new visit asks for its own evidence and signature
    await tech.reload()  # the job as the server has it now
    reopened = tech.locator("#reopened")
    await reopened.wait_for()
    text = await reopened.inner_text()
    assert "第 2 次上门" in text and "2 分" in text and "还是漏水，地上有水" in text
    assert await tech.locator("[data-thumb]").count() == 1, "the first visit's photo stays on the record"
    assert "第 1 次上门" in await tech.inner_text("#photo-thumbs")
    await screenshot(tech, "51-reopened-job-zh")
    await work_the_visit(tech, job_id, tmp_path, signer="王业主")
    await screenshot(tech, "52-reopened-signed-again")

    await call_back(agent, job_id, 5, "修好了")
    await agent.reload()
    await agent.wait_for_selector("h2:has-text('(')")
    assert await agent.locator(f"[data-callback='{job_id}']").count() == 0
    await desk.close()

    job_uuid = uuid.UUID(job_id)
    assert await db.fetchval("SELECT status FROM work_orders WHERE id = $1", job_uuid) == "closed"
    assert (
        await db.fetchval("SELECT count(*) FROM superseded_signatures WHERE work_order_id = $1", job_uuid)
        == 1
    )
    assert await db.fetchval("SELECT visit FROM signatures WHERE work_order_id = $1", job_uuid) == 2
    visits = await db.fetch(
        "SELECT visit FROM photos WHERE work_order_id = $1 AND stage = 'after' ORDER BY visit", job_uuid
    )
    assert [r["visit"] for r in visits] == [1, 2]
    scores = await db.fetch(
        "SELECT satisfaction FROM callbacks WHERE work_order_id = $1 ORDER BY attempt", job_uuid
    )
    assert [r["satisfaction"] for r in scores] == [2, 5]
