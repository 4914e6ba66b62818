"""The full record of a certificate (issue #17, point 3) and scans on the case page
(point 4): every field on the page, a re-issue's first version with its differences from
the replaced certificate, every stored file downloadable and audited, actors as names
(the holder masked, H-5.2.3), and scanned documents uploaded and opened by registrars and
archivists with the API's checks."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import quote

from PIL import Image

from certarchive.crypto.sm import sm3_hex
from tests.test_web_support import Site, confirm, site_fixture, web_fixture  # noqa: F401

PDF = b"%PDF-1.4\n% a scanned application form\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def staff(site: Site, role: str = "registrar") -> tuple[Any, str]:
    web = site.web()
    return web, site.login(web, role)


def cert_url(serial: str, tail: str = "") -> str:
    return f"/staff/certificates/{quote(serial)}{tail}"


def test_every_field_is_on_the_page_for_every_reader(site: Site) -> None:
    doc, paid = site.issued()
    cert = doc["certificates"][0]
    serial = paid["certificates"][0]["serial"]
    for role in ("registrar", "auditor"):
        web, _token = staff(site, role)
        facts = web.get(cert_url(serial)).text.split('class="facts"')[1].split("</dl>")[0]
        for label, field in (
            ("面积", "area"),
            ("用途", "use"),
            ("使用期限", "term"),
            ("权利类型", "right_type"),
            ("权利性质", "right_nature"),
            ("共有情况", "co_ownership"),
        ):
            assert f"<dt>{label}</dt><dd>{cert[field]}</dd>" in facts, (role, label)


def test_a_reissue_keeps_its_differences_in_its_first_version(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    old_area = doc["certificates"][0]["area"]
    web, _token = staff(site)
    page = web.get(cert_url(serial))
    form = next(f for f in page.forms.values() if f.action.endswith("/reissue"))
    form["field-area"] = "房屋建筑面积99.00㎡"
    form["reason"] = "面积有误"
    page = confirm(form.submit()).follow()
    versions = page.text.split("<h2>版本</h2>")[1].split("</section>")[0]
    assert "初始版本" not in versions and "与被替代证书的差异" in versions
    assert serial in versions and old_area in versions and "房屋建筑面积99.00㎡" in versions


def test_every_stored_file_downloads_and_is_audited(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site)
    page = web.post(
        cert_url(serial, "/revoke"),
        {"cause": "cancellation", "reason": "注销登记", "csrf_token": token, "confirm": "yes"},
    ).follow()
    links = re.findall(r'href="(/staff/certificates/[^"]+/files/(pdf|ofd)/(\d+))"', page.text)
    assert {(kind, number) for _url, kind, number in links} >= {("pdf", "1"), ("pdf", "2")}
    digests = re.findall(
        r'class="mono digest">([0-9a-f]{64})<', page.text.split("<h2>证照文件</h2>")[1]
    )
    first = web.get(cert_url(serial, "/files/pdf/1"))
    assert first.body.startswith(b"%PDF-") and sm3_hex(first.body) in digests
    assert "-1.pdf" in first.headers["Content-Disposition"]
    reads = [e for e in site.entries() if e["action"] == "certificate.read_file"]
    assert reads[-1]["detail"] == {"by": "staff", "format": "pdf", "number": 1}
    case_no = site.run(
        lambda ctx: ctx.agency().certificates[ctx.agency().catalog.serial[serial]].case_no
    )
    case_page = web.get(f"/staff/cases/{case_no}").text
    assert {"1", "2"} <= set(re.findall(r'/files/pdf/(\d+)"', case_page))
    web.get(cert_url(serial, "/files/pdf/9"), status=404)
    web.get(cert_url(serial, "/files/exe/1"), status=404)
    auditor, _token = staff(site, "auditor")
    auditor.get(cert_url(serial, "/files/pdf/1"), status=403)


def test_actors_are_named_and_holders_masked(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holders = doc["certificates"][0]["holders"]
    token = site.holder_token(doc, paid)
    site.web().get(
        f"/api/v1/holder/certificates/{quote(serial)}/pdf",
        headers={"Authorization": f"Bearer {token}"},
    )
    web, _token = staff(site, "auditor")
    history = web.get(cert_url(serial)).text.split("<h2>办理过程</h2>")[1]
    assert f"权利人 {holders[0]['name'][0]}*" in history and "（第1权利人）" in history
    assert holders[0]["name"] not in history
    assert "接入系统 upstream" in history
    assert "holder:" not in history and "client:" not in history


def test_registrars_and_archivists_upload_and_open_scans(site: Site) -> None:
    doc = site.document()
    site.record(doc)
    case_url = f"/staff/cases/{doc['case_no']}"
    for role in ("registrar", "archivist"):
        web, _token = staff(site, role)
        page = web.get(case_url)
        form = next(f for f in page.forms.values() if f.action.endswith("/documents"))
        form["file"] = ("申请表.png", png(), "image/png")
        page = form.submit().follow()
        assert "扫描件已上传" in page.text and "申请表.png" in page.text
    images = re.findall(r'<img src="([^"]+/documents/(\d+))"', page.text)
    assert [number for _src, number in images] == ["1", "2"]
    shown = web.get(images[0][0])
    assert shown.content_type == "image/png" and shown.body == png()
    assert shown.headers["Content-Disposition"].startswith("inline")
    opened = [e for e in site.entries() if e["action"] == "case.document.read"]
    assert opened and opened[-1]["detail"] == {"number": 1}


def test_a_refused_scan_is_named_on_the_case_page(site: Site) -> None:
    doc = site.document()
    site.record(doc)
    web, _token = staff(site)
    page = web.get(f"/staff/cases/{doc['case_no']}")
    form = next(f for f in page.forms.values() if f.action.endswith("/documents"))
    form["file"] = ("假的.png", PDF, "image/png")
    form["name"] = "身份证正面"
    refused = form.submit(status=422)
    assert "内容与类型不符" in refused.text and 'value="身份证正面"' in refused.text
    assert "the content" not in refused.text  # the reader's language only
    form = next(f for f in refused.forms.values() if f.action.endswith("/documents"))
    form["file"] = ("x.gif", b"GIF89a", "image/gif")
    assert "只接受PDF、JPEG或PNG文件" in form.submit(status=422).text
    auditor, _token = staff(site, "auditor")
    auditor.post(
        f"/staff/cases/{doc['case_no']}/documents",
        {"csrf_token": _token},
        upload_files=[("file", "a.pdf", PDF, "application/pdf")],
        status=403,
    )


def test_a_refusal_is_in_the_readers_language_with_the_input_kept(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site)
    web.set_cookie("lang", "en")
    refused = web.post(
        cert_url(serial, "/revoke"),
        {
            "cause": "transfer",
            "reason": "",
            "case_no": "2026-411526-999999",
            "csrf_token": token,
            "confirm": "yes",
        },
        status=422,
    )
    notice = refused.text.split('class="notice notice-error"')[1].split("</div>")[0]
    assert "Reason: required" in notice and "Nothing was changed" in notice
    assert not re.search(r"[\u4e00-\u9fff]", notice)
    assert 'value="transfer" selected' in refused.text
    assert 'value="2026-411526-999999"' in refused.text
    assert "issued" in site.run(
        lambda ctx: ctx.agency().certificates[ctx.agency().catalog.serial[serial]].state
    )


def test_paper_events_need_a_comment_and_refusals_say_why(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site)
    no_comment = web.post(
        cert_url(serial, "/paper"),
        {"event": "issued", "csrf_token": token, "confirm": "yes"},
        status=422,
    )
    assert "说明（必填）" in no_comment.text and "必填" in no_comment.text
    refused = web.post(
        cert_url(serial, "/paper"),
        {"event": "returned", "comment": "交回", "csrf_token": token, "confirm": "yes"},
        status=409,
    )
    assert "尚未领取纸质证书" in refused.text and "None" not in refused.text
    page = web.post(
        cert_url(serial, "/paper"),
        {"event": "issued", "comment": "本人窗口领取", "csrf_token": token, "confirm": "yes"},
    ).follow()
    events = page.text.split("<h2>纸质证书事项</h2>")[1].split("</section>")[0]
    assert "本人窗口领取" in events and "li_registrar" in events
