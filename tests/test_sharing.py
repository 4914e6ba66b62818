"""Sharing by the holder (授权用证, CONTRACT.md): the annotated copy (加注件) for a named
institution, a purpose and a time, sealed by the agency; opened by address or code, each
access in the sharing log; 410 once withdrawn or expired; verifiable as what it is."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from webtest import TestApp

from certarchive.services.context import utc_now
from tests.test_documents_fixtures import pdftotext
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

SHARE = {"institution": "中国工商银行潢川支行", "purpose": "办理抵押贷款", "days": 30}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def shared(site: Site, web: TestApp) -> tuple[dict[str, Any], dict[str, Any], str]:
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    created = web.post_json(
        "/api/v1/holder/shares", {"serial": serial, **SHARE}, headers=bearer(token), status=201
    ).json
    return created, paid, token


def test_the_annotated_copy_says_for_whom_and_verifies(site: Site, web: TestApp) -> None:
    created, paid, _token = shared(site, web)
    assert created["url"].startswith("http://127.0.0.1:6543/s/") and len(created["code"]) == 10
    copy = web.get(created["url"].replace("http://127.0.0.1:6543", "")).body
    text = pdftotext(copy)
    assert "仅供中国工商银行潢川支行办理抵押贷款使用" in text.replace("\n", "")
    by_code = web.post("/s", {"code": created["code"].lower()}).body
    assert by_code == copy
    # what a bank's upload check says: the holder's annotated copy, valid for its purpose
    result = web.post(
        "/verify", upload_files=[("file", "copy.pdf", copy)], headers={"Accept": "application/json"}
    ).json
    assert result["result"] == "shared", result
    assert result["annotated_copy"]["institution"] == SHARE["institution"]
    assert any("加注" in line for line in result["summary"])
    # a validator classes the copy's stamp as form filling, like a revocation
    reader = PdfFileReader(io.BytesIO(copy))
    issuing = reader.embedded_signatures[0]
    issuing.coverage = issuing.evaluate_signature_coverage()
    level = issuing.evaluate_modifications(DEFAULT_DIFF_POLICY).modification_level
    assert level == ModificationLevel.FORM_FILLING
    # every access is in the sharing log, naming the share, never the holder
    accesses = [e for e in site.entries("sharing") if e["action"] == "share.access"]
    assert [a["detail"]["by"] for a in accesses[-2:]] == ["url", "code"]
    assert paid["certificates"][0]["serial"] in accesses[-1]["object"]


def test_withdrawn_and_expired_shares_answer_410(site: Site, web: TestApp) -> None:
    created, _paid, token = shared(site, web)
    path = created["url"].replace("http://127.0.0.1:6543", "")
    listed = web.get("/api/v1/holder/shares", headers=bearer(token)).json["shares"]
    assert created["id"] in [s["id"] for s in listed]
    web.delete(f"/api/v1/holder/shares/{created['id']}", headers=bearer(token), status=204)
    gone = web.get(path, headers={"Accept": "application/json"}, status=410).json
    assert gone["error"] == "gone" and "撤回" in gone["message"]
    assert "已撤回或已过期" in web.get(path, status=410).text  # a clerk's browser: a page
    web.post("/s", {"code": created["code"]}, status=410)

    created, _paid, _token = shared(site, web)
    path = created["url"].replace("http://127.0.0.1:6543", "")
    web.get(path, status=200)
    site.set_clock(lambda: utc_now() + timedelta(days=31))
    try:
        web.get(path, status=410)
    finally:
        site.reset_clock()
    web.get("/s/not-a-token-at-all-xxxxxxxx", status=404)


def test_shares_are_refused_in_words_and_listed_for_staff(site: Site, web: TestApp) -> None:
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    bad = web.post_json(
        "/api/v1/holder/shares",
        {"serial": serial, "institution": "", "purpose": "x" * 61, "days": 0},
        headers=bearer(token),
        status=422,
    ).json
    assert set(bad["fields"]) == {"institution", "purpose", "days"}
    web.post_json("/api/v1/holder/shares", {"serial": serial, **SHARE}, status=401)
    other_doc, other_paid = site.issued()
    other = site.holder_token(other_doc, other_paid)
    created = web.post_json(
        "/api/v1/holder/shares", {"serial": serial, **SHARE}, headers=bearer(token), status=201
    ).json
    web.delete(f"/api/v1/holder/shares/{created['id']}", headers=bearer(other), status=404)
    web.post_json(  # another holder's certificate: as if it did not exist
        "/api/v1/holder/shares", {"serial": serial, **SHARE}, headers=bearer(other), status=404
    )
    staff = site.web()
    site.login(staff, "registrar")
    page = staff.get(f"/staff/certificates/{quote(serial)}").text
    assert "授权用证" in page and SHARE["institution"] in page
    site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/revoke",
        {"cause": "change", "reason": "变更"},
        headers=site.headers("upstream"),
    )
    web.post_json(
        "/api/v1/holder/shares", {"serial": serial, **SHARE}, headers=bearer(token), status=409
    )


def test_a_holder_shares_and_withdraws_from_their_page(site: Site, web: TestApp) -> None:
    doc, paid = site.issued()
    holder = doc["certificates"][0]["holders"][0]
    form = web.get("/holder").forms[0]
    form["id_number"] = holder["id_number"]
    form["download_code"] = paid["certificates"][0]["download_code"]
    listing = form.submit().follow()
    share_form = next(f for f in listing.forms.values() if f.action.endswith("/holder/shares"))
    share_form["institution"] = SHARE["institution"]
    share_form["purpose"] = ""
    refused = share_form.submit(status=422)
    assert "purpose" in refused.text or "用途" in refused.text
    share_form = next(f for f in refused.forms.values() if f.action.endswith("/holder/shares"))
    share_form["institution"] = SHARE["institution"]
    share_form["purpose"] = SHARE["purpose"]
    shown = share_form.submit()
    assert "只显示这一次" in shown.text
    url = shown.html.select_one(".notice-ok .mono").text.strip()
    assert url.startswith("http://127.0.0.1:6543/s/")
    path = url.replace("http://127.0.0.1:6543", "")
    assert site.web().get(path).content_type == "application/pdf"
    withdraw = next(f for f in shown.forms.values() if f.action.endswith("/withdraw"))
    withdraw.submit().follow()
    site.web().get(path, status=410)
