"""Rendering (H-1.2, H-1.3, H-1.4, H-5.2.3) checked with poppler and zbar."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import secrets
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from certarchive.documents import fonts
from certarchive.documents.data_page import draw_data_pages
from certarchive.documents.fields import (
    PROOF_LABELS,
    RIGHT_LABELS,
    co_ownership_text,
    data_rows,
    holder_names,
)
from certarchive.documents.fonts import cjk_font, truetype_flavoured
from certarchive.documents.layout import PAGE_WIDTH
from certarchive.documents.model import KIND_PROOF, KIND_RIGHT
from certarchive.documents.render import render_certificate
from certarchive.documents.seal_image import draw_seal
from certarchive.documents.seal_layout import split_seal_name
from certarchive.documents.seal_page import draw_seal_page
from certarchive.documents.seal_vector import seal_form
from tests.test_documents_fixtures import (
    AGENCY,
    DOCS,
    PRIVATE_VALUES,
    decode_qr,
    document,
    page_image,
    pdftotext,
    rendered,
    run_tool,
    squeeze,
)

KINDS = (KIND_RIGHT, KIND_PROOF)
WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def test_right_labels_follow_the_paper_form_with_notes_after_other_status() -> None:
    labels = [label for label, _ in data_rows(DOCS[KIND_RIGHT])]
    assert labels == [
        "权利人",
        "共有情况",
        "坐落",
        "不动产单元号",
        "权利类型",
        "权利性质",
        "用途",
        "面积",
        "使用期限",
        "权利其他状况",
        "附记",
    ]
    assert labels.index("附记") == labels.index("权利其他状况") + 1


def test_proof_labels_follow_the_paper_form() -> None:
    labels = [label for label, _ in data_rows(DOCS[KIND_PROOF])]
    assert labels == [
        "证明权利或事项",
        "权利人（申请人）",
        "义务人",
        "坐落",
        "不动产单元号",
        "其他",
        "附记",
    ]


def test_holders_are_joined_and_shares_listed() -> None:
    holders = DOCS[KIND_RIGHT].data["holders"]
    assert holder_names(holders) == "张三、李四"
    assert co_ownership_text("按份共有", holders) == "按份共有：张三 1/2，李四 1/2"
    assert co_ownership_text("共同共有", holders) == "共同共有"
    assert co_ownership_text("单独所有", holders[:1]) == "单独所有"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        data_rows(dataclasses.replace(DOCS[KIND_RIGHT], kind="lease"))


@pytest.mark.parametrize("kind", KINDS)
def test_pdftotext_reads_every_field_in_form_order(kind: str) -> None:
    """Content-stream order (-raw): each label, then its whole value, before the next label."""
    text = squeeze(pdftotext(rendered(kind), "-raw", "-f", "2", "-l", "2"))
    position = text.index(squeeze(DOCS[kind].serial))
    for label, value in data_rows(DOCS[kind]):
        position = text.index(label, position) + len(label)
        assert text.startswith(squeeze(value), position), label
        position += len(squeeze(value))


@pytest.mark.parametrize(
    ("kind", "labels"), [(KIND_RIGHT, RIGHT_LABELS), (KIND_PROOF, PROOF_LABELS)]
)
def test_labels_read_top_to_bottom_in_form_order(kind: str, labels: tuple[str, ...]) -> None:
    """Physical layout (-layout): the label column, read down the page, is the form."""
    lines = pdftotext(rendered(kind), "-layout", "-f", "2", "-l", "2").splitlines()
    first_words = [line.split()[0] for line in lines if line.strip()]
    assert [word for word in first_words if word in labels] == list(labels)


@pytest.mark.parametrize("kind", KINDS)
def test_seal_page_carries_title_serial_statement_date_and_print_number(kind: str) -> None:
    doc = DOCS[kind]
    text = squeeze(pdftotext(rendered(kind), "-raw", "-f", "1", "-l", "1"))
    expected = [
        doc.title,
        doc.serial,
        squeeze(doc.agency.statement),
        "登记机构（章）",
        "2026年11月21日",
        "中华人民共和国自然资源部监制",
        "编号NO." + doc.print_number,
    ]
    position = 0
    for item in expected:
        position = text.index(item, position) + len(item)


@pytest.mark.parametrize("kind", KINDS)
def test_no_id_number_or_phone_is_printed(kind: str) -> None:
    text = pdftotext(rendered(kind))
    for value in PRIVATE_VALUES:
        assert value not in text
    assert "张三" in text  # names are printed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("page", [1, 2])
def test_qr_code_at_top_left_carries_the_verify_url(kind: str, page: int) -> None:
    """At 100 dpi zbar reads the verify URL in the top-left quadrant and nowhere else."""
    image = page_image(rendered(kind), page, 100)
    assert decode_qr(image) == [DOCS[kind].verify_url]
    width, height = image.size
    half_w, half_h = width // 2, height // 2
    assert decode_qr(image.crop((0, 0, half_w, half_h))) == [DOCS[kind].verify_url]
    for box in (
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    ):
        assert decode_qr(image.crop(box)) == []


def test_a_long_verify_url_still_scans_at_100_dpi() -> None:
    """A longer base address gives a version-8 symbol, whose centre the emblem covers."""
    url = (
        "https://bdc.huangchuan.xinyang.henan.gov.cn/certarchive/v/" + "Zx9_kP0qTn4wLm2sVb7yRg" * 2
    )
    pdf = render_certificate(dataclasses.replace(DOCS[KIND_PROOF], verify_url=url))
    assert decode_qr(page_image(pdf, 1, 100)) == [url]


def test_random_tokens_all_scan_with_the_fixed_mask() -> None:
    """H-1.3: the mask is fixed rather than scored per symbol (see qr.MASK_PATTERN), so
    symbols for many different tokens must each decode from a 100 dpi rendering."""
    urls = [f"http://127.0.0.1:6543/v/{secrets.token_urlsafe(24)}" for _ in range(12)]
    for url in urls:
        pdf = render_certificate(dataclasses.replace(DOCS[KIND_RIGHT], verify_url=url))
        assert decode_qr(page_image(pdf, 1, 100)) == [url]


@pytest.mark.parametrize("kind", KINDS)
def test_only_embedded_subset_fonts(kind: str) -> None:
    result = run_tool(["pdffonts", "{pdf}"], rendered(kind))
    rows = result.stdout.splitlines()[2:]
    assert rows, result.stdout
    for row in rows:
        name, *_, emb, sub, uni, _obj, _gen = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+\S+", name), row
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row
    assert any("WenQuanYi" in row for row in rows)


_WORD = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<')


def _words(pdf: bytes, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, word) in points from the top left, per pdftotext -bbox."""
    html = pdftotext(pdf, "-bbox", "-f", str(page), "-l", str(page))
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(html)]


def test_long_notes_wrap_inside_their_cell_and_stay_on_two_pages() -> None:
    long_status = "房屋结构：钢筋混凝土结构；共有部位：楼梯间、电梯井及设备用房。" * 14
    long_notes = "2020年3月因继承取得，原不动产权证号豫(2015)潢川县不动产权第0001234号。" * 16
    doc = document(KIND_RIGHT, other_status=long_status, notes=long_notes)
    pdf = render_certificate(doc)
    assert "Pages:           2" in run_tool(["pdfinfo", "{pdf}"], pdf).stdout
    text = squeeze(pdftotext(pdf, "-raw", "-f", "2", "-l", "2"))
    assert squeeze(long_status) in text and squeeze(long_notes) in text
    note_lines = [
        line
        for line in pdftotext(pdf, "-layout", "-f", "2", "-l", "2").splitlines()
        if "原不动产权证号" in line
    ]
    assert len(note_lines) > 5  # wrapped onto many lines
    right_edge = PAGE_WIDTH - 22 * 72 / 25.4
    assert max(word[2] for word in _words(pdf, 2)) <= right_edge


def test_text_too_long_for_one_page_continues_on_another_data_page() -> None:
    notes = "附记内容测试，" * 900
    pdf = render_certificate(document(KIND_RIGHT, notes=notes))
    pages = int(re.search(r"Pages:\s+(\d+)", run_tool(["pdfinfo", "{pdf}"], pdf).stdout)[1])
    assert pages >= 3
    text = squeeze(pdftotext(pdf, "-raw", "-f", "2"))
    assert text.count(DOCS[KIND_RIGHT].serial) == pages - 1  # each data page is headed
    assert squeeze(notes) in text.replace(DOCS[KIND_RIGHT].serial, "")


def test_user_text_with_markup_characters_is_printed_literally() -> None:
    pdf = render_certificate(document(KIND_RIGHT, notes="a<b>&c</b> <br/> 甲&乙"))
    assert "a<b>&c</b><br/>甲&乙" in squeeze(pdftotext(pdf, "-raw", "-f", "2"))


def test_rendering_is_deterministic() -> None:
    again = render_certificate(DOCS[KIND_RIGHT])
    assert again == rendered(KIND_RIGHT)
    changed = render_certificate(document(KIND_RIGHT, notes="另一附记"))
    assert changed != rendered(KIND_RIGHT)


def test_font_flavour_check_reads_the_sfnt_header(tmp_path: Path) -> None:
    assert truetype_flavoured(WQY)
    assert truetype_flavoured("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    cff = tmp_path / "cff.otf"
    cff.write_bytes(b"OTTO" + bytes(60))
    collection = tmp_path / "cff.ttc"
    collection.write_bytes(b"ttcf" + bytes([0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 16]) + b"OTTO")
    assert not truetype_flavoured(cff)
    assert not truetype_flavoured(collection)
    assert not truetype_flavoured(tmp_path / "missing.ttf")


@pytest.mark.parametrize(
    ("header", "message"), [(b"OTTO", "not TrueType"), (b"\x00\x01\x00\x00", "cannot load")]
)
def test_unusable_configured_font_falls_back_to_a_system_font_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, header: bytes, message: str
) -> None:
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(header + bytes(60))  # CFF outlines, or a corrupt TrueType file
    with caplog.at_level(logging.WARNING, logger="certarchive.documents.fonts"):
        font = cjk_font(str(bogus))
    assert font.path == WQY and font.embedded
    assert str(bogus) in caplog.text and message in caplog.text


def test_without_any_truetype_font_the_cid_font_still_renders(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A machine with no CJK TrueType font: warn, print with STSong-Light (not embedded)."""
    monkeypatch.setattr(fonts, "SYSTEM_CANDIDATES", ())
    with caplog.at_level(logging.WARNING, logger="certarchive.documents.fonts"):
        font = cjk_font.__wrapped__(None)  # bypass the per-process cache
    assert (font.name, font.path, font.embedded) == ("STSong-Light", None, False)
    assert "STSong-Light" in caplog.text
    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=font.name)
    draw_seal_page(canvas, DOCS[KIND_RIGHT], font)
    canvas.showPage()
    draw_data_pages(canvas, DOCS[KIND_RIGHT], font)
    canvas.save()
    text = squeeze(pdftotext(buffer.getvalue()))
    assert "不动产权证书" in text and "权利其他状况" in text


def test_seal_name_splits_into_arc_and_purpose() -> None:
    assert split_seal_name(AGENCY.seal_name, AGENCY.agency_name) == (
        "潢川县自然资源局",
        "不动产登记专用章",
    )
    assert split_seal_name("某某专用章", "潢川县自然资源局") == ("某某专用章", "")


def test_seal_paths_are_built_and_compressed_once_per_process() -> None:
    first = seal_form(AGENCY.seal_name, AGENCY.agency_name, AGENCY.seal_number, WQY)
    again = seal_form(AGENCY.seal_name, AGENCY.agency_name, AGENCY.seal_number, WQY)
    assert again is first


def test_seal_drawing_is_red_ink_on_transparency() -> None:
    image = draw_seal(AGENCY.seal_name, AGENCY.agency_name, AGENCY.seal_number, WQY)
    width, height = image.size
    assert image.getpixel((0, 0))[3] == 0  # corner outside the ring
    red, green, blue, alpha = image.getpixel((width // 2, 8))  # top of the ring
    assert alpha > 200 and red > 150 and green < 60 and blue < 60
    assert image.getpixel((width // 2, height // 2))[3] > 200  # the star's centre
    no_text = draw_seal(AGENCY.seal_name, AGENCY.agency_name, AGENCY.seal_number, None)
    assert _ink(no_text) < _ink(image)  # the letters are drawn


def _ink(image) -> int:
    return sum(image.getchannel("A").point(lambda v: 255 if v > 128 else 0).histogram()[255:])


@pytest.mark.parametrize("label", ["登记机构", "2026年"])
def test_seal_is_stamped_across_the_agency_label_which_stays_legible(label: str) -> None:
    """Seal red lies under 登记机构（章） and the date, and the black words stay on top of it
    (seal ink is translucent on paper: the words are drawn after the seal; drawn under the
    raster seal, fewer than a sixth of their box's pixels stay dark)."""
    dpi = 100
    image = page_image(rendered(KIND_RIGHT), 1, dpi)
    ((x0, y0, x1, y1, _),) = [w for w in _words(rendered(KIND_RIGHT), 1) if w[4].startswith(label)]
    scale = dpi / 72
    box = image.crop((int(x0 * scale), int(y0 * scale), int(x1 * scale), int(y1 * scale)))
    pixels = list(box.get_flattened_data())
    reds = sum(1 for pixel in pixels if _is_seal_red(pixel))
    darks = sum(1 for red, green, blue in pixels if max(red, green, blue) < 100)
    assert reds > len(pixels) // 20
    assert darks > len(pixels) // 6


def _is_seal_red(pixel: tuple[int, int, int]) -> bool:
    red, green, blue = pixel
    return red > 150 and green < 120 and blue < 120


def test_rendering_from_several_threads_gives_the_same_files() -> None:
    """reportlab is not thread-safe (a font keeps its read position while subsetting);
    the documents module serialises it, so concurrent renders equal sequential ones."""
    from concurrent.futures import ThreadPoolExecutor

    docs = [
        dataclasses.replace(DOCS[kind], verify_url=f"{DOCS[kind].verify_url}?n={n}")
        for n in range(20)
        for kind in KINDS
    ]
    expected = [render_certificate(doc) for doc in docs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(render_certificate, docs)) == expected
