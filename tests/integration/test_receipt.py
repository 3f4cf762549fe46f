"""The printable service record: fetched like the app does, checked for the hash, photos, signature and QR."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from tests.integration.test_signature import add_photo, complete, job_on_site, sign


class ReceiptPage(HTMLParser):
    """Collects what a reader of the page would look for."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.svg = 0
        self.lang = ""
        self._in_hash = False
        self.hash_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = values.get("lang", "")
        if tag == "img":
            self.images.append(values)
        if tag == "svg":
            self.svg += 1
        self._in_hash = tag == "p" and values.get("id") == "record-hash"

    def handle_endtag(self, tag: str) -> None:
        self._in_hash = False

    def handle_data(self, data: str) -> None:
        if self._in_hash:
            self.hash_text += data.strip()


async def test_the_receipt_shows_the_job_photos_signature_hash_and_qr(
    client, db, clock, login_as, idem
) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    before = await add_photo(client, {**tech, **idem()}, wo, "before", seed=1)
    after = await add_photo(client, {**tech, **idem()}, wo, "after", seed=2)
    await complete(db, clock, wo)
    signed = (await sign(client, {**tech, **idem()}, wo)).json()

    r = await client.get(f"/api/v1/work-orders/{wo}/receipt?lang=zh-CN", headers=tech)

    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = ReceiptPage()
    page.feed(r.text)
    assert page.lang == "zh-CN"
    assert page.hash_text == signed["recordHash"]
    assert "维修服务记录" in r.text and "记录与签名时一致" in r.text
    assert "厨房水管漏水" in r.text and "王先生" in r.text

    photos = {img["data-photo-id"]: img for img in page.images if "data-photo-id" in img}
    assert set(photos) == {before["id"], after["id"]}
    for photo in (before, after):
        thumb = await client.get(photo["thumbUrl"], headers=tech)
        inlined = photos[photo["id"]]["src"]
        assert inlined == "data:image/webp;base64," + base64.b64encode(thumb.content).decode()

    signature_images = [img for img in page.images if img["src"].startswith("data:image/png;base64,")]
    assert len(signature_images) == 1
    assert page.svg == 1  # the QR code of the verification URL
    assert f"/api/v1/work-orders/{wo}/verify" in r.text
    # the checklist shows the labels from checklist_items, answered
    label = await db.fetchval(
        """SELECT label_zh FROM checklist_items
           WHERE site_id IS NULL AND kind = 'repair' ORDER BY position LIMIT 1"""
    )
    assert label in r.text and "✓" in r.text


async def test_the_receipt_in_english_and_after_tampering(client, db, clock, login_as, idem) -> None:
    wo = await job_on_site(db, clock)
    tech = await login_as("tech1")
    await add_photo(client, {**tech, **idem()}, wo, "after")
    await complete(db, clock, wo)
    assert (await sign(client, {**tech, **idem()}, wo)).status_code == 200
    await db.execute("UPDATE work_orders SET title = 'Something else' WHERE id = $1", wo)

    r = await client.get(f"/api/v1/work-orders/{wo}/receipt?lang=en", headers=tech)

    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Service record" in r.text
    assert "The record has changed since it was signed" in r.text
    label = await db.fetchval(
        """SELECT label_en FROM checklist_items
           WHERE site_id IS NULL AND kind = 'repair' ORDER BY position LIMIT 1"""
    )
    assert label in r.text


async def test_an_unsigned_receipt_says_so_and_other_sites_cannot_see_it(client, db, clock, login_as) -> None:
    wo = await job_on_site(db, clock)
    r = await client.get(f"/api/v1/work-orders/{wo}/receipt?lang=en", headers=await login_as("agent"))
    assert r.status_code == 200
    assert "Not signed yet" in r.text
    assert not re.search(r"\b[0-9a-f]{64}\b", r.text)

    bad_lang = await client.get(f"/api/v1/work-orders/{wo}/receipt?lang=fr", headers=await login_as("agent"))
    assert bad_lang.status_code == 422 and bad_lang.json()["field"] == "lang"

    await db.execute("INSERT INTO sites (code, name) VALUES ('elsewhere', '别处')")
    await db.execute(
        "UPDATE work_orders SET site_id = (SELECT id FROM sites WHERE code = 'elsewhere') WHERE id = $1", wo
    )
    hidden = await client.get(f"/api/v1/work-orders/{wo}/receipt", headers=await login_as("tech1"))
    assert hidden.status_code == 404
    assert (await client.get(f"/api/v1/work-orders/{wo}/receipt")).status_code == 401
