"""GET /api/v1/reports/work-orders.csv: a file Excel opens with Chinese intact, with the list's filters."""

from __future__ import annotations

import csv
import io

import asyncpg

from tests.integration import report_rows as rows
from tests.integration.report_rows import at, day

NOW = at("03-14 21:00")
URL = "/api/v1/reports/work-orders.csv"
MEMBERS = ("manager", "supervisor", "tech1", "tech2")


async def small_estate(db: asyncpg.Connection) -> None:
    """Three work orders at site "kpi" and one at a site the manager does not belong to."""
    site = await rows.make_site(db, "kpi", MEMBERS)
    w1 = await rows.work_order(
        db, site, "C1", "repair", "closed", "water", "03-02 09:00", assignee="tech1",
        title='厨房漏水, 业主说"很急"\n请带密封胶', reporter_name="王伟", reporter_phone="13900000001",
        in_unit=True,
        responded="03-02 09:20", arrived="03-02 10:30", completed="03-02 14:00", closed="03-03 11:00",
    )  # fmt: skip
    await rows.callback(db, w1, 1, "03-03 10:00", satisfaction=5)
    w2 = await rows.work_order(
        db, site, "C2", "complaint", "assigned", "attitude", "03-12 15:00", title='=HYPERLINK("http://x")'
    )
    await rows.clock(db, w2, "respond", "03-13 15:00")  # past due at NOW: overdue
    await rows.work_order(db, site, "C3", "emergency", "new", "elevator", "03-14 20:00", priority=1)
    other = await rows.make_site(db, "elsewhere", ())
    await rows.work_order(db, other, "X1", "repair", "new", "water", "03-05 10:00")


def parse(body: bytes) -> list[list[str]]:
    """The CSV as Excel would read it (after the BOM)."""
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def test_export_is_excel_friendly_utf8_with_chinese_headers(db, client, clock, login_as):
    await small_estate(db)
    clock.set(NOW)
    r = await client.get(URL, params={"site": "kpi"}, headers=await login_as("manager"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    body = r.content
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    # header + 3 rows, each ending CRLF; the one bare \n is inside C1's quoted title
    assert body.count(b"\r\n") == 4 and body.count(b"\n") == 5 and body.endswith(b"\r\n")
    table = parse(body)
    header = table[0]
    assert header[:4] == ["工单号", "类型", "状态", "优先级"]
    assert len(table) == 4
    by_number = {line[0]: dict(zip(header, line, strict=True)) for line in table[1:]}
    c1 = by_number["C1"]
    # codes in words, from the one catalogue of labels
    assert (c1["类型"], c1["状态"], c1["类别"], c1["处理人"]) == ("报修", "已关闭", "给排水", "刘师傅")
    assert c1["渠道"] == "电话"
    assert c1["标题"] == '厨房漏水, 业主说"很急"\n请带密封胶'  # comma, quotes and newline survive quoting
    assert c1["位置"] == "1栋 101"
    assert (c1["报修人"], c1["联系电话"]) == ("王伟", "13900000001")
    # site-local wall times, as Excel parses them
    assert (c1["创建时间"], c1["完工时间"], c1["关闭时间"]) == (
        f"{day('03-02')} 09:00:00",
        f"{day('03-02')} 14:00:00",
        f"{day('03-03')} 11:00:00",
    )
    assert (c1["是否逾期"], c1["满意度"]) == ("否", "5")
    c2 = by_number["C2"]
    assert c2["是否逾期"] == "是"
    assert c2["标题"] == '\'=HYPERLINK("http://x")'  # a formula is defused, not run by Excel
    assert by_number["C3"]["响应时间"] == ""
    # rows come in creation order
    assert [line[0] for line in table[1:]] == ["C1", "C2", "C3"]


async def test_english_headers_on_request(db, client, clock, login_as):
    await small_estate(db)
    clock.set(NOW)
    r = await client.get(URL, params={"site": "kpi", "lang": "en"}, headers=await login_as("manager"))
    table = parse(r.content)
    assert table[0][:4] == ["Number", "Kind", "Status", "Priority"]
    assert table[1][1:3] == ["Repair", "Closed"]
    assert table[2][table[0].index("Overdue")] == "yes"


async def test_filters_narrow_the_export(db, client, clock, login_as):
    await small_estate(db)
    clock.set(NOW)
    headers = await login_as("supervisor")

    async def numbers(**params: str) -> list[str]:
        r = await client.get(URL, params={"site": "kpi", **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [line[0] for line in parse(r.content)[1:]]

    assert await numbers(status="closed") == ["C1"]
    assert await numbers(status="new,assigned") == ["C2", "C3"]
    assert await numbers(kind="complaint") == ["C2"]
    assert await numbers(overdue="true") == ["C2"]
    assert await numbers(overdue="false") == ["C1", "C3"]
    assert await numbers(**{"from": day("03-12"), "to": day("03-13")}) == ["C2"]
    assert await numbers(**{"from": day("03-14")}) == ["C3"]


async def test_without_site_only_the_callers_sites_are_exported(db, client, clock, login_as):
    await small_estate(db)
    clock.set(NOW)
    r = await client.get(URL, headers=await login_as("manager"))
    numbers = [line[0] for line in parse(r.content)[1:]]
    assert "X1" not in numbers
    assert {"C1", "C2", "C3"} <= set(numbers)
    r = await client.get(URL, params={"site": "elsewhere"}, headers=await login_as("manager"))
    assert r.status_code == 404


async def test_large_export_streams_every_row(db, client, clock, login_as):
    site = await rows.make_site(db, "big", ("manager",))
    # more rows than one cursor prefetch and one stream chunk
    await db.execute(
        """INSERT INTO work_orders (site_id, number, kind, status, priority, category, channel, title,
                                    created_at)
           SELECT $1, 'B' || lpad(g::text, 5, '0'), 'repair', 'new', 3, 'water', 'phone', '水管 ' || g,
                  $2::timestamptz + g * interval '1 minute'
           FROM generate_series(1, 1234) g""",
        site,
        at("03-01 08:00"),
    )
    clock.set(NOW)
    r = await client.get(URL, params={"site": "big"}, headers=await login_as("manager"))
    table = parse(r.content)
    assert len(table) == 1 + 1234
    assert table[1][0] == "B00001" and table[-1][0] == "B01234"
    assert table[-1][6] == "水管 1234"


async def test_export_refuses_other_roles_and_bad_filters(db, client, login_as):
    await small_estate(db)
    r = await client.get(URL, params={"site": "kpi"}, headers=await login_as("tech1"))
    assert r.status_code == 403
    headers = await login_as("manager")
    for params, field in (
        ({"status": "done"}, "status"),
        ({"kind": "party"}, "kind"),
        ({"overdue": "maybe"}, "overdue"),
        ({"lang": "fr"}, "lang"),
        ({"from": "yesterday"}, "from"),
    ):
        r = await client.get(URL, params={"site": "kpi", **params}, headers=headers)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["field"] == field
