"""The app shell: served at /, installable, cached for offline use, and fully translated both ways."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from backend.domain.catalogue import CATALOGUE
from tests.browser.conftest import log_in, screenshot, wait_for_service_worker, wait_until

pytestmark = pytest.mark.browser

I18N = Path(__file__).resolve().parents[2] / "pwa" / "i18n"


def catalogue(locale: str) -> dict[str, str]:
    """One message catalogue as shipped."""
    return json.loads((I18N / f"{locale}.json").read_text(encoding="utf-8"))


def test_catalogues_have_the_same_keys_and_no_blank_messages() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert set(zh) == set(en), f"only zh: {set(zh) - set(en)}, only en: {set(en) - set(zh)}"
    assert all(v.strip() for v in [*zh.values(), *en.values()])


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    """Keys are the interface's own words (pwa/i18n) or the server's labels of codes (GET /catalogue)."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (I18N.parent / "js").rglob("*.js"))
    used = set(re.findall(r"\bt\('([^']+)'", code)) | set(re.findall(r"flash\(root, '([^']+)'", code))
    used |= set(re.findall(r'data-i18n="([^"]+)"', (I18N.parent / "index.html").read_text(encoding="utf-8")))
    missing = used - set(catalogue("en")) - set(CATALOGUE.labels["en"])
    assert not missing, f"keys used but not in the catalogue: {sorted(missing)}"


async def test_service_worker_and_manifest_are_served_for_installation(live_server) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        sw = await http.get("/sw.js")
        manifest = await http.get("/app.webmanifest")
        icon = await http.get("/icons/maskable-512.png")
    assert sw.status_code == 200 and "no-cache" in sw.headers["cache-control"]
    assert "javascript" in sw.headers["content-type"]
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert {"192x192", "512x512"} <= {i["sizes"] for i in body["icons"]}
    assert any(i["purpose"] == "maskable" for i in body["icons"])
    assert icon.status_code == 200 and icon.content[:8] == b"\x89PNG\r\n\x1a\n"


async def test_shell_opens_offline_after_the_first_visit(phone) -> None:
    page = await phone.new_page()
    await page.goto("/")
    await page.wait_for_selector("#login-form")
    await wait_for_service_worker(page)
    await screenshot(page, "01-login")
    await phone.set_offline(True)
    await page.reload()
    await page.wait_for_selector("#login-form")
    assert await page.inner_text("#banner") != ""
    await phone.set_offline(False)


@pytest.mark.parametrize(
    ("username", "zh_heading", "en_heading"),
    [
        ("tech1", "我的工单", "My jobs"),
        ("agent", "受理登记", "Intake"),
        ("guard1", "报警台", "Alarm console"),
    ],
)
async def test_language_switch_changes_every_visible_string(
    phone, username: str, zh_heading: str, en_heading: str
) -> None:
    page = await phone.new_page()
    await log_in(page, username)
    await page.wait_for_selector(f"h2:has-text('{zh_heading}')")
    await page.click("#lang")
    await wait_until(page, "document.documentElement.lang === 'en'")
    await page.wait_for_selector(f"h2:has-text('{en_heading}')")
    await page.wait_for_timeout(300)  # let live parts (stream state, countdowns) settle in the new language
    # People's names are data, not interface ("张客服" contains the word for agent): leave them out.
    name = await page.evaluate("JSON.parse(localStorage.getItem('caretaker.user')).displayName")
    en_text = (await page.inner_text("body")).replace(name, "")
    # No catalogue message of the Chinese interface may survive the switch.
    chinese = [m for m in catalogue("zh-CN").values() if len(m) >= 2 and re.search(r"[\u4e00-\u9fff]", m)]
    leftovers = [m for m in chinese if m in en_text]
    assert not leftovers, leftovers
    assert await page.evaluate("window.__i18nMissing") == []
    await screenshot(page, f"02-{username}-en")
    # Remembered on this device.
    await page.reload()
    await page.wait_for_selector(f"h2:has-text('{en_heading}')")
    await page.click("#lang")
    await page.wait_for_selector(f"h2:has-text('{zh_heading}')")
