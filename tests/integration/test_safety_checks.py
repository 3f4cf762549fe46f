"""The quarterly safety check: one per site per quarter however many schedulers run (injected clock), answered
point by point over HTTP; a finding lands in the hazard ledger once, linked to its check."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.db.pool import create_pool
from backend.domain.clock import ManualClock
from backend.domain.safety_checks import FOCUS_POINTS, quarter_bounds, quarter_of
from backend.scheduling import JOBS, JobContext, generate_safety_checks

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_quarter_start() -> datetime:
    """Midnight (Shanghai) of the first day of the next quarter, as UTC: relative to now."""
    _, last = quarter_bounds(datetime.now(SHANGHAI).date())
    first = last + timedelta(days=1)
    return datetime(first.year, first.month, first.day, tzinfo=SHANGHAI).astimezone(UTC)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


async def answer(
    client: AsyncTestClient,
    headers: dict[str, str],
    check_id: str,
    code: str,
    *,
    key: str | None = None,
    photo: bytes | None = None,
    **fields: str,
) -> Any:
    return await client.post(
        f"/api/v1/safety-checks/{check_id}/points/{code}",
        data=fields,
        files={"file": ("finding.jpg", photo, "image/jpeg")} if photo else None,
        headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())},
    )


def test_quarters() -> None:
    # pure calendar arithmetic on fixed days across a year end
    assert quarter_of(date(2026, 12, 31)) == "2026Q4"  # fixed-date: a pure function's input, no clock
    assert quarter_of(date(2027, 1, 1)) == "2027Q1"  # fixed-date: a pure function's input, no clock
    assert quarter_bounds(date(2026, 11, 5)) == (  # fixed-date: a pure function's input, no clock
        date(2026, 10, 1),  # fixed-date: a pure function's input, no clock
        date(2026, 12, 31),  # fixed-date: a pure function's input, no clock
    )
    assert quarter_bounds(date(2027, 5, 31)) == (  # fixed-date: a pure function's input, no clock
        date(2027, 4, 1),  # fixed-date: a pure function's input, no clock
        date(2027, 6, 30),  # fixed-date: a pure function's input, no clock
    )


async def test_one_check_per_site_per_quarter_with_two_schedulers(
    db: asyncpg.Connection, db_url: str
) -> None:
    assert dict(JOBS)[generate_safety_checks] <= 3600.0
    sites = await db.fetchval("SELECT count(*) FROM sites")
    boundary = next_quarter_start()
    clock = ManualClock(boundary - timedelta(days=3))
    pools = [await create_pool(db_url, min_size=2, max_size=4) for _ in range(2)]
    contexts = [JobContext(pool=p, clock=clock) for p in pools]

    async def both() -> int:
        return sum(await asyncio.gather(*(generate_safety_checks(c) for c in contexts for _ in range(2))))

    try:
        assert await both() == sites  # this quarter's checks
        assert await both() == 0
        clock.set(boundary - timedelta(seconds=1))  # the last second of the quarter
        assert await both() == 0
        clock.set(boundary)  # the next quarter begins: one more each
        assert await both() == sites
        assert await both() == 0
    finally:
        for p in pools:
            await p.close()
    rows = await db.fetch("SELECT site_id, quarter, due_on FROM safety_checks ORDER BY quarter")
    next_day = boundary.astimezone(SHANGHAI).date()
    assert [r["quarter"] for r in rows] == [quarter_of(next_day - timedelta(days=1))] * sites + [
        quarter_of(next_day)
    ] * sites
    assert rows[-1]["due_on"] == quarter_bounds(next_day)[1]
    points = await db.fetchval("SELECT count(*) FROM safety_check_points")
    assert points == 2 * sites * len(FOCUS_POINTS)
    told = await db.fetch(
        """SELECT u.username, count(*) AS n FROM notifications n JOIN users u ON u.id = n.recipient_id
           WHERE n.kind = 'safety_check_due' GROUP BY u.username"""
    )
    assert {r["username"]: r["n"] for r in told}["supervisor"] == 2  # once per quarter


async def test_answers_and_a_finding_that_enters_the_ledger(
    client: AsyncTestClient, db: asyncpg.Connection, db_url: str, clock: ManualClock, login_as
) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=2)
    try:
        await generate_safety_checks(JobContext(pool=pool, clock=clock))
    finally:
        await pool.close()
    supervisor = await login_as("supervisor")
    listed = await client.get("/api/v1/safety-checks?site=demo", headers=supervisor)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    check_id = page["items"][0]["id"]
    check = (await client.get(f"/api/v1/safety-checks/{check_id}", headers=supervisor)).json()
    assert [p["code"] for p in check["points"]] == [p.code for p in FOCUS_POINTS]
    assert check["points"][0]["labelZh"] == "消防通道与安全出口" and check["status"] == "open"

    # guards and technicians do not carry out the quarterly check
    assert (await client.get("/api/v1/safety-checks", headers=await login_as("guard1"))).status_code == 403
    r = await answer(client, await login_as("tech1"), check_id, "lifts", outcome="ok")
    assert r.status_code == 403

    assert (await answer(client, supervisor, check_id, "lifts", outcome="ok")).status_code == 200
    again = await answer(client, supervisor, check_id, "lifts", outcome="finding", note="x", riskLevel="low")
    assert again.status_code == 409 and again.json()["code"] == "safety_check_point_answered"
    bare = await answer(client, supervisor, check_id, "roofs", outcome="finding", riskLevel="high")
    assert bare.status_code == 422 and bare.json()["field"] == "note"
    no_risk = await answer(client, supervisor, check_id, "roofs", outcome="finding", note="天台门未上锁")
    assert no_risk.status_code == 422 and no_risk.json()["field"] == "riskLevel"
    unknown = await answer(client, supervisor, check_id, "garden", outcome="ok")
    assert unknown.status_code == 404

    # a finding with a photo, sent twice under one key (an offline phone replaying): one hazard
    fields = {
        "outcome": "finding",
        "note": "天台门未上锁",
        "riskLevel": "high",
        "clientAt": clock.now().isoformat(),
    }
    first = await answer(client, supervisor, check_id, "roofs", key="roof", photo=jpeg(), **fields)
    assert first.status_code == 200, first.text
    replay = await answer(client, supervisor, check_id, "roofs", key="roof", photo=jpeg(), **fields)
    assert replay.status_code == 200 and replay.json() == first.json()
    roof = next(p for p in first.json()["points"] if p["code"] == "roofs")
    assert roof["outcome"] == "finding" and roof["hasPhoto"] and roof["hazardNumber"].startswith("YH-")
    hazards = await db.fetch("SELECT * FROM hazards")
    assert len(hazards) == 1
    hazard = hazards[0]
    assert (hazard["source"], hazard["risk_level"], hazard["status"]) == (
        "quarterly_check",
        "high",
        "registered",
    )
    assert str(hazard["safety_check_id"]) == check_id and str(hazard["id"]) == roof["hazardId"]
    assert "屋面与天台" in hazard["place"] and hazard["description"] == "天台门未上锁"
    assert hazard["photo_sha256"] is not None
    ledger = (await client.get(f"/api/v1/hazards/{hazard['id']}", headers=supervisor)).json()
    assert ledger["source"] == "quarterly_check" and ledger["hasPhoto"]
    photo = await client.get(
        f"/api/v1/safety-checks/{check_id}/points/roofs/photo?thumb=true", headers=supervisor
    )
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/webp")

    # the rest in order: the check is done when the last point is answered
    for p in FOCUS_POINTS:
        if p.code not in ("lifts", "roofs"):
            assert (await answer(client, supervisor, check_id, p.code, outcome="ok")).status_code == 200
    done = (await client.get(f"/api/v1/safety-checks/{check_id}", headers=supervisor)).json()
    assert (done["status"], done["answered"], done["findings"]) == ("done", len(FOCUS_POINTS), 1)
    assert done["completedAt"] is not None
    open_only = (await client.get("/api/v1/safety-checks?status=open", headers=supervisor)).json()
    assert open_only["total"] == 0
