"""The registrars' page of reports to the e-licence library in a real browser (Debian's
chromium, driven by Playwright, as in :mod:`tests.test_browser_staff`), at 1280, 390 and
360 px wide: the dashboard counts a refusal, the page shows the library's answer, the
registrar sends the report again and sees it accepted.  Screenshots go to
$CERTARCHIVE_SCREENSHOTS when set."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from waitress.server import create_server

from certarchive.messaging.delivery import Courier
from tests.test_browser_operations import fits, sign_in
from tests.test_browser_staff import free_port, page, screenshots, tools_present
from tests.test_messaging import Clock
from tests.test_reporting import library, library_settings
from tests.test_web_support import Site, make_site

__all__ = ["page", "tools_present"]  # a missing tool fails, naming it

WIDTHS = (1280, 390, 360)


def shoot(page: Page, folder: Path, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page), f"{name} scrolls sideways at {width} px"
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def reporting_site(tmp_path: Path) -> Iterator[tuple[Site, str, Path]]:
    folder = tmp_path / "library"
    with library(folder, mode="refuse") as url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        site = make_site(
            tmp_path / "var", **{"certarchive.public_base_url": base, **library_settings(url)}
        )
        server = create_server(site.app, host="127.0.0.1", port=port, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        yield site, base, folder
        time.sleep(0.2)
        server.task_dispatcher.shutdown()
        server.close()
        site.runtime.close()


def test_a_registrar_sees_a_refused_report_and_sends_it_again(
    reporting_site: tuple[Site, str, Path], page: Page, tmp_path: Path
) -> None:
    site, base, folder = reporting_site
    shots = screenshots(tmp_path)
    _, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    courier = Courier(site.runtime, site.runtime.settings.messaging, Clock())
    assert courier.deliver_due()["refused"] == 1
    sign_in(page, base, "registrar", site)
    expect(page.get_by_text("被拒收 1")).to_be_visible()
    shoot(page, shots, "dashboard-reports")
    page.get_by_role("link", name="证照库上报").first.click()
    expect(page.get_by_role("heading", name="证照库上报", exact=True)).to_be_visible()
    refused = page.locator("section", has=page.get_by_role("heading", name="被拒收"))
    expect(refused.get_by_text(serial)).to_be_visible()
    expect(refused.get_by_text("type_code not registered")).to_be_visible()
    expect(refused.get_by_text("422")).to_be_visible()
    shoot(page, shots, "reports-refused")

    (folder / "mode").write_text("ok")
    page.get_by_role("button", name="更正后重新上报").click()
    expect(page.get_by_text("已重新排队")).to_be_visible()
    expect(page.get_by_text("没有被拒收的上报")).to_be_visible()
    assert courier.deliver_due()["sent"] == 1
    page.reload()
    sent = page.locator("section", has=page.get_by_role("heading", name="最近已接收"))
    expect(sent.get_by_text(serial)).to_be_visible()
    expect(sent.get_by_text("201")).to_be_visible()
    shoot(page, shots, "reports-sent")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Library reports", exact=True)).to_be_visible()
    shoot(page, shots, "reports-en")
