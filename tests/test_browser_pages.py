"""Issue #17's pages in Debian's chromium (Playwright): the confirmation step before an
irreversible action, a refusal shown on the form in words with the input kept, the search
list's pagination, scans with image previews on the case page, and widths: the certificate
page at 1,024 and 1,280 px, the new pages at 360 and 390 px, without sideways scrolling.
Screenshots go to $CERTARCHIVE_SCREENSHOTS when set (else the test's temporary folder)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

from PIL import Image
from playwright.sync_api import Page, expect

from certarchive.services import search
from tests.test_browser_staff import page, screenshots, served, tools_present
from tests.test_web_support import PASSWORD, USERS, Site

__all__ = ["page", "served", "tools_present"]  # a missing tool fails, naming it


def sign_in(page: Page, base: str, role: str = "registrar") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(USERS[role])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="电子证照状态统计")).to_be_visible()


def no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)


def state_of(site: Site, serial: str) -> str:
    def read(ctx: Any) -> str:
        from certarchive.services.certificates import get_certificate

        return get_certificate(ctx, serial).state

    return site.run(read)


def test_revoking_asks_first_and_a_refusal_keeps_the_input(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    sign_in(page, base)
    page.goto(f"{base}/staff/certificates/{quote(serial)}")
    page.get_by_text("注销", exact=True).click()
    page.get_by_label("注销原因类别").select_option("change")
    page.locator("#revoke-reason").fill("变更登记后注销")
    page.get_by_role("button", name="注销证书").click()
    expect(page.get_by_role("heading", name=f"请确认：注销证书 {serial}")).to_be_visible()
    expect(page.get_by_text("不可恢复")).to_be_visible()
    assert state_of(site, serial) == "issued"  # nothing changed yet
    page.screenshot(path=str(shots / "confirm-revoke.png"), full_page=True)

    # the reason removed: the same page again, the problem beside the field, cause kept
    page.get_by_label("原因（必填）").fill("")
    page.get_by_role("button", name="确认注销证书").click()
    expect(page.locator(".field-error")).to_contain_text("必填")
    expect(page.get_by_label("注销原因类别")).to_have_value("change")
    expect(page.get_by_text("没有做任何更改")).to_be_visible()
    assert "reason" not in page.locator(".notice-error").inner_text()
    assert state_of(site, serial) == "issued"
    page.screenshot(path=str(shots / "confirm-refused.png"), full_page=True)
    page.get_by_label("原因（必填）").fill("变更登记后注销")
    page.get_by_role("button", name="确认注销证书").click()
    expect(page.get_by_text("证书已注销。")).to_be_visible()
    assert state_of(site, serial) == "revoked"


def test_a_bad_correction_is_named_in_words_on_the_form(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    sign_in(page, base)
    page.goto(f"{base}/staff/certificates/{quote(serial)}")
    page.get_by_text("回退（尚未下载的证书）").click()
    page.locator("#rollback-reason").fill("证件号码有误")
    page.get_by_role("button", name="回退", exact=True).click()
    page.get_by_role("button", name="确认回退证书").click()
    expect(page.get_by_text("证书已回退为草稿。")).to_be_visible()
    page.locator('input[name="holders-0-id_number"]').first.fill("41152419730325744")
    page.locator("#correct-comment").fill("更正证件号码")
    page.get_by_role("button", name="保存为新版本").click()
    page.get_by_role("button", name="确认保存更正").click()
    expect(page.locator(".notice-error")).to_contain_text("第1权利人的证件号码")
    assert "holders[0]" not in page.content()
    expect(page.locator('input[name="holders-0-id_number"]')).to_have_value("41152419730325744")
    page.screenshot(path=str(screenshots(tmp_path) / "correction-refused.png"), full_page=True)


def test_search_list_pages_and_widths(served: tuple[Site, str], page: Page, tmp_path: Path) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    for _ in range(search.PAGE_SIZE + 1):
        site.issued()
    doc, paid = site.issued()
    sign_in(page, base)
    page.get_by_role("link", name="已签发").first.click()
    expect(page.get_by_role("heading", name="查找证书")).to_be_visible()
    expect(page.locator("table.results tbody tr")).to_have_count(search.PAGE_SIZE)
    page.screenshot(path=str(shots / "search-list.png"), full_page=True)
    page.get_by_role("link", name="下一页").click()
    expect(page.locator(".pager")).to_contain_text("页次 2 /")
    expect(page.locator("#f-state")).to_have_value("issued")

    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/staff/certificates/{quote(paid['certificates'][0]['serial'])}")
        page.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
        no_sideways_scrolling(page)
        page.screenshot(path=str(shots / f"certificate-{width}.png"), full_page=True)
    for width in (360, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (
            "/staff/search?state=issued",
            f"/staff/certificates/{quote(paid['certificates'][0]['serial'])}",
            f"/staff/cases/{doc['case_no']}",
        ):
            page.goto(base + path)
            no_sideways_scrolling(page)
        page.screenshot(path=str(shots / f"case-{width}.png"), full_page=True)


def test_scans_are_uploaded_and_previewed_on_the_case_page(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    doc, _paid = site.issued()
    image = tmp_path / "申请表.png"
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (30, 90, 160)).save(out, "PNG")
    image.write_bytes(out.getvalue())
    sign_in(page, base, "archivist")
    page.goto(f"{base}/staff/cases/{doc['case_no']}")
    page.get_by_label("上传扫描件（PDF、JPEG或PNG，不超过 20 MiB）").set_input_files(str(image))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_text("扫描件已上传。")).to_be_visible()
    preview = page.locator(".scan img").first
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.naturalWidth") == 320
    page.locator("#scans").screenshot(path=str(screenshots(tmp_path) / "case-scans.png"))
