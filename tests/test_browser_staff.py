"""A real browser (Debian's chromium, driven by Playwright) against a real waitress server:
a registrar signs in to the dashboard; archive staff sign in and file a case from the
filing queue (filing is the archivist's permission, H-2.5); the QR code decoded from the
downloaded certificate opens the public page, which shows the status.

Needs the Debian packages chromium, poppler-utils (pdftoppm) and zbar-tools (zbarimg),
which ``make test`` installs (tools/ensure-system-packages); on a machine without one the
tests fail, naming what is missing, rather than skip.  Screenshots go
to $CERTARCHIVE_SCREENSHOTS when set (else the test's temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from waitress.server import create_server

from tests.test_web_support import PASSWORD, USERS, Site, make_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

missing = [
    tool
    for tool, found in (
        ("chromium", os.path.exists(CHROMIUM)),
        ("pdftoppm (poppler-utils)", shutil.which("pdftoppm")),
        ("zbarimg (zbar-tools)", shutil.which("zbarimg")),
    )
    if not found
]
try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the test extra installs it
    missing.append("playwright (pip)")


@pytest.fixture(autouse=True)
def tools_present() -> None:
    """A missing tool is a failure that names it: a skipped browser test passes unseen."""
    if missing:
        pytest.fail("missing: " + ", ".join(missing) + " (make test installs them)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = make_site(
        tmp_path_factory.mktemp("browser") / "var", **{"certarchive.public_base_url": base}
    )
    server = create_server(site.app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield site, base
    time.sleep(0.2)
    server.task_dispatcher.shutdown()
    server.close()
    site.runtime.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CERTARCHIVE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def qr_url(pdf: bytes, folder: Path) -> str:
    (folder / "certificate.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "100",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(folder / "certificate.pdf"),
            str(folder / "page"),
        ],
        check=True,
    )
    image = next(folder.glob("page*.png"))
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)],
        check=True,
        capture_output=True,
        text=True,
    )
    return decoded.stdout.strip().splitlines()[0]


def test_archivist_files_a_case_and_the_qr_page_shows_the_status(
    served: tuple[Site, str], page: Page, tmp_path: Path
) -> None:
    site, base = served
    shots = screenshots(tmp_path)
    # a few cases; the holder downloads one, which puts its case in the filing queue
    for _ in range(3):
        site.issued(shape=1)
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    pdf = (
        site.web()
        .get(
            f"/api/v1/holder/certificates/{quote(serial)}/pdf",
            headers={"Authorization": f"Bearer {token}"},
        )
        .body
    )

    # the registrar's dashboard, as a person sees it
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(USERS["registrar"])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="电子证照状态统计")).to_be_visible()
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    page.get_by_role("button", name="退出").click()

    # the archivist files the case from the queue
    page.get_by_label("用户名").fill(USERS["archivist"])
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="归档队列", exact=True).click()
    expect(page.get_by_role("link", name=doc["case_no"])).to_be_visible()
    page.screenshot(path=str(shots / "filing-queue.png"), full_page=True)
    page.get_by_role("button", name=f"归档 {doc['case_no']}").click()
    expect(page.get_by_role("heading", name="请确认：归档案卷")).to_be_visible()
    page.get_by_label("说明（必填）").fill("材料齐全")
    page.get_by_role("button", name="确认归档案卷").click()
    expect(page.get_by_text("案卷已归档。")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("已归档")

    # the QR code of the downloaded file opens the public page
    url = qr_url(pdf, tmp_path)
    assert url.startswith(f"{base}/v/")
    page.goto(url)
    expect(page.locator(".verify-status")).to_have_text("有效")
    expect(page.locator("h2 .serial")).to_have_text(serial)
    page.screenshot(path=str(shots / "verification.png"), full_page=True)
