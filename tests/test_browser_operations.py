"""The backup operator's and the admin's main flows in a real browser (Debian's chromium,
driven by Playwright, as in :mod:`tests.test_browser_staff`), at 1280 and 390 px wide:
nothing may need sideways scrolling.  Screenshots go to $CERTARCHIVE_SCREENSHOTS when set.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from tests.test_browser_staff import page, screenshots, served, tools_present
from tests.test_web_support import PASSWORD, USERS, Site

__all__ = ["page", "served", "tools_present"]  # a missing tool fails, naming it

WIDTHS = (1280, 390)


def fits(page: Page) -> bool:
    """No sideways scrolling: the document is no wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shoot(page: Page, folder: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page), f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page: Page, base: str, role: str, site: Site) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(USERS[role])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if role == "admin":
        page.get_by_label("动态口令").fill(pyotp.TOTP(site.totp_secret).now())
        page.get_by_role("button", name="确认").click()


def test_backup_operator_exports_and_watches_it_finish(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    site.issued()
    sign_in(page, base, "backup_operator", site)
    expect(page.get_by_role("heading", name="数据备份", exact=True)).to_be_visible()
    expect(page.get_by_text("仓库中还没有快照")).to_be_visible()
    page.get_by_role("button", name="完整导出").click()
    expect(page.get_by_text("任务已开始")).to_be_visible()
    # the page refreshes itself while the job runs; the snapshot appears when it is done
    expect(page.get_by_text("没有正在进行的任务")).to_be_visible(timeout=60_000)
    expect(page.locator("table").first.get_by_text("完整", exact=True)).to_be_visible()
    page.get_by_role("button", name="校验全部快照").click()
    expect(page.get_by_text("没有正在进行的任务")).to_be_visible(timeout=60_000)
    page.goto(f"{base}/staff/backups")
    expect(page.get_by_text("未校验")).to_have_count(0)
    expect(page.get_by_text("只能在停止服务后通过命令行进行")).to_be_visible()
    shoot(page, shots, "backups")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Backups", exact=True)).to_be_visible()
    expect(page.get_by_text("with the server stopped")).to_be_visible()
    shoot(page, shots, "backups-en")


def test_admin_adds_a_user_and_a_client_then_revokes_it(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    sign_in(page, base, "admin", site)
    page.get_by_role("link", name="系统管理").click()
    shoot(page, shots, "admin")

    page.get_by_text("新增用户", exact=True).first.click()
    page.get_by_label("用户名", exact=True).fill("song_clerk")
    page.get_by_label("角色", exact=True).select_option("archivist")
    page.get_by_label("初始密码（至少10个字符）").fill(PASSWORD)
    page.get_by_label("再次输入密码").fill(PASSWORD)
    page.get_by_role("button", name="新增用户").click()
    expect(page.get_by_text("用户已添加。 song_clerk")).to_be_visible()

    page.get_by_text("新增客户端", exact=True).first.click()
    page.locator("#client-name").fill("ops-script")
    page.get_by_label("backups:run").check()
    page.get_by_role("button", name="新增客户端").click()
    key = page.locator(".secret-value").inner_text()
    assert re.fullmatch(r"ca_[0-9a-f]+\.[\w-]+", key)
    shoot(page, shots, "admin-client-key")

    key_id = key[3:].split(".")[0]
    row = page.locator(f"#client-{key_id}")
    row.locator("summary", has_text="吊销").click()
    row.get_by_label("吊销原因").fill("脚本停用")
    row.get_by_role("button", name="吊销").click()  # the browser asks for the tick first
    expect(page.get_by_text("密钥已吊销")).to_have_count(0)
    row.get_by_label(re.compile("确认吊销")).check()
    row.get_by_role("button", name="吊销").click()
    expect(page.get_by_text("密钥已吊销。 ops-script")).to_be_visible()
    expect(page.locator(f"#client-{key_id}")).to_contain_text("已吊销")
    shoot(page, shots, "admin-revoked")
