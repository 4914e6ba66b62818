"""English pages in a real browser (#17 point 7): a browser whose language is English gets
English pages without choosing it (Accept-Language), history comments written by the
services in English, and verdicts as headings ("Revoked", not "revoked"); the 中文 switch
still wins.  Desktop and phone widths, screenshots to $CERTARCHIVE_SCREENSHOTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.test_browser_staff import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    screenshots,
    served,
    tools_present,
)
from tests.test_web_support import PASSWORD, USERS, Site

HAN = re.compile(r"[\u3400-\u9fff]")
WIDTHS = (1280, 390, 360)


@pytest.fixture
def english_page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        yield context.new_page()
        context.close()
        browser.close()


def shoot(page: Page, folder: Path, name: str, widths: tuple[int, ...] = WIDTHS) -> None:
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        wide = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert wide, f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_english_browser_reads_english_pages_comments_and_verdicts(
    served: tuple[Site, str],  # noqa: F811 - the fixture
    english_page: Page,
    tmp_path: Path,
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/revoke",
        {"cause": "transfer", "reason": "sold"},
        headers=site.headers("upstream"),
    )
    page = english_page

    page.goto(f"{base}/login")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.get_by_label("User name").fill(USERS["registrar"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Certificates by state")).to_be_visible()

    page.goto(f"{base}/staff/certificates/{quote(serial)}")
    history = page.locator("table.history").first.inner_text()
    assert "Issued on payment" in history and "Transfer registration: sold" in history
    assert not HAN.search(history), history  # comments included: no Chinese left
    shoot(page, shots, "certificate-en", (1280,))  # staff pages: desktops (point 3)

    page.goto(f"{base}/staff/cases/{quote(doc['case_no'])}")
    history = page.locator("table.history").first.inner_text()
    assert f"Receipt R-{doc['case_no']}" in history and not HAN.search(history), history
    shoot(page, shots, "case-en", (1280,))

    url = paid["certificates"][0]["verify_url"]
    page.goto(url)
    expect(page.locator(".verify-status")).to_have_text("Revoked")
    shoot(page, shots, "verify-en")

    # the reader's choice wins over the browser's language
    page.get_by_role("link", name="中文").click()
    expect(page.locator(".verify-status")).to_have_text("已注销")
