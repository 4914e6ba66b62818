"""The auditor's and the institution clerk's pages in a real browser (Debian's chromium,
driven by Playwright, as in :mod:`tests.test_browser_staff`; issue #17 points 5 and 6):
the auditor filters and pages the audit log, opens an entry whose inclusion proof the
page checks, exports the range; a bank's clerk signs in with password and TOTP, looks a
certificate up with a purpose, downloads it.  The clerk's pages at 1280, 390 and 360 px:
nothing may need sideways scrolling.  Screenshots go to $CERTARCHIVE_SCREENSHOTS when set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from certarchive.audit.log import get_log
from certarchive.services import audit as audit_services
from certarchive.services.audit_browse import PAGE_SIZE
from certarchive.services.identity import enroll_totp
from certarchive.services.setup import add_user
from tests.test_browser_operations import fits, sign_in
from tests.test_browser_staff import page, screenshots, served, tools_present
from tests.test_web_institution import bank_key_id
from tests.test_web_support import PASSWORD, Site

__all__ = ["page", "served", "tools_present"]  # a missing tool fails, naming it

PHONE_WIDTHS = (1280, 390, 360)


def shoot(page: Page, folder: Path, name: str, widths: tuple[int, ...] = PHONE_WIDTHS) -> None:
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page), f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_size(site: Site) -> int:
    return site.runtime.run(lambda ctx: get_log(ctx.conn, "audit").size, None)


def test_auditor_filters_pages_checks_a_proof_and_exports(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    site.issued()
    audit_services.sequence_logs(site.runtime)
    while log_size(site) <= PAGE_SIZE:  # more than one page
        site.issued()
        audit_services.sequence_logs(site.runtime)
    sign_in(page, base, "auditor", site)
    expect(page.get_by_role("heading", name="审计日志", exact=True)).to_be_visible()
    nav = page.get_by_role("navigation", name="主菜单")
    expect(nav.get_by_role("link", name="归档队列")).to_have_count(0)
    expect(nav.get_by_role("link", name="审计日志")).to_be_visible()
    # pagination: the log holds more than one page
    page.get_by_role("link", name="下一页").click()
    expect(page.get_by_text("第 2 /")).to_be_visible()
    # a filter, and a bad date named beside its field with the input kept
    page.get_by_label("起始日期").fill("2026-02-30")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#from-error")).to_contain_text("日期格式为")
    expect(page.get_by_label("起始日期")).to_have_value("2026-02-30")
    page.get_by_label("起始日期").fill("")
    page.get_by_label("操作", exact=True).fill("certificate.issue")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.audit-table tbody tr")
    expect(rows.first).to_contain_text("certificate.issue")
    shoot(page, shots, "audit-log", (1280, 390, 360))
    page.get_by_role("link", name="查看与验证").first.click()
    expect(page.locator(".verify-status")).to_have_text("已验证")
    expect(page.get_by_text("证明路径")).to_be_visible()
    shoot(page, shots, "audit-entry", (1280, 390, 360))
    page.go_back()
    with page.expect_download() as waiting:
        page.get_by_role("link", name="导出相符条目").click()
    exported = Path(waiting.value.path()).read_text(encoding="utf-8").splitlines()
    assert json.loads(exported[0])["format"] == "certarchive-audit-export/1"
    assert all(json.loads(line)["entry"]["action"] == "certificate.issue" for line in exported[1:])
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Audit log", exact=True)).to_be_visible()
    shoot(page, shots, "audit-log-en", (1280,))


def test_bank_clerk_signs_in_looks_up_and_downloads(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    site.run(add_user, "bank_chen", "institution", PASSWORD, None, bank_key_id(site), True)
    secret = site.run(enroll_totp, "bank_chen")["secret"]
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]

    page.set_viewport_size({"width": 360, "height": 800})  # a clerk on a phone
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill("bank_chen")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("动态口令").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="确认").click()
    expect(page.get_by_role("heading", name="证照查询")).to_be_visible()
    shoot(page, shots, "institution-lookup")
    page.get_by_label("证书编号、不动产单元号或权利人证件号码").fill(holder["id_number"])
    page.get_by_label("查询用途").fill("x")  # too short: named beside the field
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator("#purpose-error")).to_contain_text("请说明用途")
    expect(page.get_by_label("证书编号、不动产单元号或权利人证件号码")).to_have_value(
        holder["id_number"]
    )
    page.get_by_label("查询用途").fill("抵押贷款审查")
    page.get_by_role("button", name="查询", exact=True).click()
    result = page.locator("article.cert-result")
    expect(result).to_contain_text(serial)
    expect(result).not_to_contain_text(holder["name"])  # masked for the bank
    shoot(page, shots, "institution-result")
    with page.expect_download() as waiting:
        result.get_by_role("button", name="下载 PDF").click()
    assert Path(waiting.value.path()).read_bytes().startswith(b"%PDF")
    shared = [e for e in site.entries("sharing") if e["actor"] == "bank_chen"]
    assert [e["action"] for e in shared] == ["share.lookup", "share.download"]
    page.get_by_role("link", name="本机构用户").click()
    expect(page.get_by_role("cell", name="bank_chen")).to_be_visible()
    shoot(page, shots, "institution-clerks")
