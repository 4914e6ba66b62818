"""A third-party OFD reader renders our packages: ofd.js (from the npm registry) in
Debian's chromium, driven by Playwright.  It must show the text, the QR code and the seal
(drawn from the SES_Signature's SESeal) where the PDF has them.

ofd.js 0.2.6 is used: its build is self-contained (Apache-2.0), while 1.5.0 refuses
to parse without a commercial licence ("授权信息错误").  It is fetched once with
``npm pack`` into ``.venv/`` and pinned by its SHA-256.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.ofd.revoke import revoke_package
from tests.ofd_support import ofd_seal
from tests.test_browser_staff import CHROMIUM, CHROMIUM_ARGS, tools_present
from tests.test_documents_fixtures import (
    DOCS,
    decode_qr,
    page_image,
    pdftotext,
    rendered,
    squeeze,
)
from tests.test_ofd_revocation import REVOCATION, REVOKED_AT
from tests.test_ofd_signature import sealed

__all__ = ["tools_present"]  # a missing chromium, poppler or zbar fails, naming it

OFDJS = "ofd.js@0.2.6"
OFDJS_SHA256 = "9b47d64947c94839a6cb24ef3e291ffb8047d2d372ca92836a14bef3a130eda0"
CACHE = Path(__file__).resolve().parents[1] / ".venv" / "ofdjs-0.2.6"
WIDTH = 794  # px for 210 mm: 96 dpi, as a browser shows A4


@pytest.fixture(autouse=True)
def npm_present() -> None:
    """ofd.js comes from the npm registry: npm missing (and no cached copy) is a failure
    that names it; chromium and the rest are checked by the staff tests' fixture."""
    if not (shutil.which("npm") or (CACHE / "ofd.umd.min.js").exists()):
        pytest.fail("missing: npm (make test installs it)")


@functools.cache
def ofd_js() -> Path:
    """ofd.js's browser build, fetched once from the npm registry and checked."""
    script = CACHE / "ofd.umd.min.js"
    if not script.exists():
        with tempfile.TemporaryDirectory() as folder:
            packed = subprocess.run(
                ["npm", "pack", OFDJS, "--pack-destination", folder],
                capture_output=True, text=True, check=False, timeout=300,
            )  # fmt: skip
            assert packed.returncode == 0, f"npm pack {OFDJS} failed: {packed.stderr}"
            (tarball,) = Path(folder).glob("*.tgz")
            with tarfile.open(tarball) as archive:
                member = archive.extractfile("package/lib/ofd.umd.min.js")
                assert member is not None
                data = member.read()
        CACHE.mkdir(parents=True, exist_ok=True)
        script.write_bytes(data)
    assert hashlib.sha256(script.read_bytes()).hexdigest() == OFDJS_SHA256, "ofd.js changed"
    return script


_RENDER = """(data) => new Promise((resolve) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    ofd.parseOfdDocument({ofd: new File([bytes], 'c.ofd'), success(res) {
        try {
            const divs = ofd.renderOfd(WIDTH, res[0]);
            const out = document.getElementById('out');
            divs.forEach((div, i) => { div.id = 'page' + i; out.appendChild(div); });
            resolve({pages: divs.length, text: divs.map(d => d.innerText)});
        } catch (e) { resolve({error: 'render: ' + e}); }
    }, fail(error) { resolve({error: 'parse: ' + error}); }});
})""".replace("WIDTH", str(WIDTH))


@functools.cache
def rendered_ofd(
    kind: str, revoked: bool = False
) -> tuple[dict, tuple[bytes, ...], tuple[str, ...]]:
    """(ofd.js's result, a PNG screenshot per page, the browser's console) for ``kind``,
    issued or (``revoked``) stamped 已注销."""
    package = (
        revoke_package(sealed(kind), ofd_seal(), REVOCATION, REVOKED_AT)
        if revoked
        else sealed(kind)
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": WIDTH + 40, "height": 1200})
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.set_content('<html><body style="margin:0"><div id="out"></div></body></html>')
        page.add_script_tag(path=str(ofd_js()))
        result = page.evaluate(_RENDER, base64.b64encode(package).decode())
        page.wait_for_timeout(500)  # the seal image decodes asynchronously
        shots = tuple(page.locator(f"#page{i}").screenshot() for i in range(result.get("pages", 0)))
        browser.close()
    return result, shots, tuple(console)


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.mark.parametrize("kind", [KIND_RIGHT, KIND_PROOF])
def test_ofd_js_renders_every_page_with_the_pdfs_text(kind: str) -> None:
    result, shots, _ = rendered_ofd(kind)
    assert "error" not in result, result
    assert result["pages"] == len(shots) == 2
    for number, text in enumerate(result["text"], start=1):
        pdf_text = squeeze(pdftotext(rendered(kind), "-raw", "-f", str(number), "-l", str(number)))
        assert sorted(squeeze(text)) == sorted(pdf_text)
    assert DOCS[kind].serial in squeeze(result["text"][0])


def test_ofd_js_verifies_the_ses_signature_it_draws_the_seal_from() -> None:
    """ofd.js parses SignedValue.dat itself (GB/T 38540) and logs its verification."""
    _, _, console = rendered_ofd(KIND_RIGHT)
    assert any("verifyRet: true" in line for line in console), console


@pytest.mark.parametrize("page", [0, 1])
def test_the_qr_code_scans_from_the_ofd_rendering_at_the_top_left(page: int) -> None:
    _, shots, _ = rendered_ofd(KIND_RIGHT)
    image = _image(shots[page])
    corner = image.crop((0, 0, image.width // 3, image.height // 5))
    assert decode_qr(corner) == [DOCS[KIND_RIGHT].verify_url]


def _ink_grid(image: Image.Image, cells: tuple[int, int] = (21, 30)) -> list[float]:
    """Share of dark pixels in each cell of a grid over the page (1 cell ≈ 1 cm)."""
    grey = image.convert("L").resize(cells, Image.Resampling.BOX)
    return [1 - value / 255 for value in grey.get_flattened_data()]


def _correlation(first: list[float], second: list[float]) -> float:
    n = len(first)
    mean_a, mean_b = sum(first) / n, sum(second) / n
    cov = sum((a - mean_a) * (b - mean_b) for a, b in zip(first, second, strict=True))
    var_a = sum((a - mean_a) ** 2 for a in first)
    var_b = sum((b - mean_b) ** 2 for b in second)
    return cov / (var_a * var_b) ** 0.5


@pytest.mark.parametrize("page", [0, 1])
def test_the_ofd_rendering_matches_the_pdfs_page_by_page(page: int) -> None:
    """ofd.js's screenshot and poppler's rendering of the PDF put ink in the same places:
    their ink, cell by cell on a 1 cm grid, correlates closely (a page laid out
    differently, or a missing table or text block, drops it far below)."""
    _, shots, _ = rendered_ofd(KIND_RIGHT)
    ofd_page = _image(shots[page])
    pdf_page = page_image(rendered(KIND_RIGHT), page + 1, 96)
    assert _correlation(_ink_grid(ofd_page), _ink_grid(pdf_page)) > 0.9
    other = page_image(rendered(KIND_RIGHT), 2 - page, 96)  # the other page: unlike
    assert _correlation(_ink_grid(ofd_page), _ink_grid(other)) < 0.8


def _is_seal_red(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel
    return red > 150 and green < 120 and blue < 120


def test_the_seal_is_drawn_where_the_pdf_stamps_it() -> None:
    """The stamp annotation's picture lands over 登记机构（章）, as in the PDF: the red of the
    seal fills the same square on both renderings, and nowhere else on the page."""
    _, shots, _ = rendered_ofd(KIND_RIGHT)
    ofd_page = _image(shots[0]).resize((210, 297))
    pdf_page = page_image(rendered(KIND_RIGHT), 1, 96).resize((210, 297))
    square = (148 - 21, 195 - 21, 148 + 21, 195 + 21)  # mm: seal_page's 42 mm seal

    def reds(image: Image.Image, box: tuple[int, int, int, int]) -> int:
        return sum(1 for pixel in image.crop(box).get_flattened_data() if _is_seal_red(pixel))

    for image in (ofd_page, pdf_page):
        inside = reds(image, square)
        assert inside > 150, inside
        assert reds(image, (0, 0, 210, 297)) - inside < inside // 10


def test_ofd_js_shows_the_revocation_watermark_on_every_page() -> None:
    """A revoked package (H-1.7): ofd.js verifies both signatures, still draws the seal,
    and shows the 已注销 watermark annotation in seal red across the middle of each page,
    where the issued package has none."""
    result, shots, console = rendered_ofd(KIND_RIGHT, revoked=True)
    assert "error" not in result, result
    assert sum("verifyRet: true" in line for line in console) == 2, console
    _, issued, _ = rendered_ofd(KIND_RIGHT)
    middle = (40, 110, 170, 190)  # mm: where the watermark's band crosses the page

    def reds(png: bytes) -> int:
        image = _image(png).resize((210, 297)).crop(middle)
        return sum(1 for pixel in image.get_flattened_data() if _is_seal_red(pixel))

    for page in (0, 1):
        assert reds(shots[page]) > 10 * max(reds(issued[page]), 40), page
    text = squeeze(" ".join(result["text"]))
    assert DOCS[KIND_RIGHT].serial in text
