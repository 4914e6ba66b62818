"""The public verification pages in Debian's chromium (Playwright) as a bank clerk and a
holder use them: on phones 360 and 390 px wide nothing scrolls sideways, the page prints
on one A4 sheet, and an upload of a changed file cannot be read as "valid" (#16)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.test_browser_staff import CHROMIUM, CHROMIUM_ARGS, screenshots, served, tools_present
from tests.test_web_support import Site

__all__ = ["served", "tools_present"]  # fixtures shared with the staff tests

WIDTHS = (360, 390, 1280)


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


def _sideways(page: Page) -> int:
    """How many pixels the page is wider than its viewport (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _issued(site: Site) -> tuple[str, bytes]:
    _doc, paid = site.issued()
    certificate = paid["certificates"][0]
    path = f"/api/v1/certificates/{quote(certificate['serial'])}/pdf"
    return certificate["verify_url"], site.web().get(path, headers=site.headers("bank")).body


@pytest.mark.parametrize("width", WIDTHS)
def test_the_verification_page_fits_phones_and_desktops(
    served: tuple[Site, str], browser_page: Page, tmp_path: Path, width: int
) -> None:
    site, base = served
    url, _pdf = _issued(site)
    browser_page.set_viewport_size({"width": width, "height": 844})
    browser_page.goto(url.replace("http://127.0.0.1:6543", base))
    assert "有效" in browser_page.inner_text(".verify-status")
    assert "验证编号" in browser_page.inner_text("main")
    assert _sideways(browser_page) == 0
    browser_page.screenshot(path=str(screenshots(tmp_path) / f"verify-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", (360, 390))
def test_an_upload_of_a_changed_file_fits_and_cannot_be_misread(
    served: tuple[Site, str], browser_page: Page, tmp_path: Path, width: int
) -> None:
    site, base = served
    _url, pdf = _issued(site)
    middle = len(pdf) // 2
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1 :])
    browser_page.set_viewport_size({"width": width, "height": 844})
    browser_page.goto(base + "/verify")
    browser_page.set_input_files("#file", str(changed))
    browser_page.click("button[type=submit]")
    assert "文件无效" in browser_page.inner_text(".verify-status")
    assert "签名证书" not in browser_page.inner_text(".verify-result")  # vouches for nothing
    card = browser_page.inner_text(".not-this-file")
    assert "不是登记簿中这份证照的有效文件" in card
    assert _sideways(browser_page) == 0
    browser_page.screenshot(
        path=str(screenshots(tmp_path) / f"upload-changed-{width}.png"), full_page=True
    )


def test_the_verification_page_prints_on_one_a4_sheet(
    served: tuple[Site, str], browser_page: Page, tmp_path: Path
) -> None:
    site, base = served
    url, _pdf = _issued(site)
    browser_page.goto(url.replace("http://127.0.0.1:6543", base))
    printed = tmp_path / "printed.pdf"
    browser_page.pdf(path=str(printed), format="A4", print_background=True)
    info = subprocess.run(["pdfinfo", str(printed)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages: +1$", info.stdout, re.MULTILINE), info.stdout
    text = subprocess.run(
        ["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "验证编号" in text and "上传文件验证" not in text  # the facts, not the links


@pytest.mark.parametrize("width", WIDTHS)
def test_the_holders_pages_fit_phones_and_desktops(
    served: tuple[Site, str], browser_page: Page, tmp_path: Path, width: int
) -> None:
    """A wrong code keeps the ID number and says how many tries are left; the list is a
    card per certificate, the revoked one set apart and linking to its replacement."""
    site, base = served
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/reissue",
        {"reason": "更正坐落", "changes": {}},
        headers=site.headers("manager"),
    )
    holder = doc["certificates"][0]["holders"][0]
    browser_page.set_viewport_size({"width": width, "height": 844})
    browser_page.goto(base + "/holder")
    browser_page.fill("#id_number", holder["id_number"])
    browser_page.fill("#download_code", "WRONGCODE")
    browser_page.click("button[type=submit]")
    assert browser_page.input_value("#id_number") == holder["id_number"]
    assert "还可尝试" in browser_page.inner_text("main")
    assert _sideways(browser_page) == 0
    browser_page.screenshot(path=str(screenshots(tmp_path) / f"holder-wrong-{width}.png"))
    browser_page.fill("#download_code", paid["certificates"][0]["download_code"])
    browser_page.click("button[type=submit]")
    browser_page.wait_for_selector("tr.not-current")
    assert _sideways(browser_page) == 0
    assert "下载注销件" in browser_page.inner_text("tr.not-current")
    browser_page.screenshot(
        path=str(screenshots(tmp_path) / f"holder-list-{width}.png"), full_page=True
    )
    # sharing with a bank from the phone: the long address wraps
    browser_page.fill("#share-institution", "中国工商银行股份有限公司潢川支行")
    browser_page.fill("#share-purpose", "办理个人住房抵押贷款")
    browser_page.click("#shares button.primary")
    assert "只显示这一次" in browser_page.inner_text("#shares")
    assert _sideways(browser_page) == 0
    browser_page.screenshot(
        path=str(screenshots(tmp_path) / f"holder-shared-{width}.png"), full_page=True
    )
