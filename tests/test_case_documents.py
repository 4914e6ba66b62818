"""Scanned case documents (登记案卷扫描件): uploaded by the upstream system, stored
encrypted (H-5.2.7), read by registrars only, each read audited (H-5.2.4)."""

from __future__ import annotations

from typing import Any

from webtest import TestApp

from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

PDF = b"%PDF-1.4\n% a scanned application form\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(
    site: Site, web: TestApp, case_no: str, name: str, data: bytes, kind: str, status: int
) -> Any:
    return web.post(
        f"/api/v1/cases/{case_no}/documents",
        params={"name": name},
        upload_files=[("file", name, data, kind)],
        headers=site.headers("upstream"),
        status=status,
    )


def test_upload_list_and_read_back(site: Site, web: TestApp) -> None:
    doc = site.document()
    site.record(doc)
    stored = upload(site, web, doc["case_no"], "申请书.pdf", PDF, "application/pdf", 201).json
    assert stored["number"] == 1 and stored["size"] == len(PDF) and "blob" not in stored
    upload(site, web, doc["case_no"], "身份证.png", PNG, "image/png", 201)
    listed = web.get(
        f"/api/v1/cases/{doc['case_no']}/documents", headers=site.headers("filer")
    ).json
    assert [d["name"] for d in listed["documents"]] == ["申请书.pdf", "身份证.png"]
    site.login(web, "registrar")
    first = web.get(f"/api/v1/cases/{doc['case_no']}/documents/1")
    assert first.body == PDF and first.content_type == "application/pdf"
    assert first.headers["Content-Disposition"] == 'attachment; filename="document-1.pdf"'
    reads = [e for e in site.entries() if e["action"] == "case.document.read"]
    assert reads and reads[-1]["object"] == f"case:{doc['case_no']}"


def test_bad_documents_are_refused_by_field(site: Site, web: TestApp) -> None:
    doc = site.document()
    site.record(doc)
    case_no = doc["case_no"]
    assert (
        "content_type"
        in upload(site, web, case_no, "a.exe", b"MZ", "application/x-msdownload", 422).json[
            "fields"
        ]
    )
    assert "file" in upload(site, web, case_no, "fake.png", PDF, "image/png", 422).json["fields"]
    assert (
        "name" in upload(site, web, case_no, "a/b.pdf", PDF, "application/pdf", 422).json["fields"]
    )
    listed = web.get(f"/api/v1/cases/{case_no}/documents", headers=site.headers("filer")).json
    assert listed["documents"] == []


def test_who_may_upload_and_read(site: Site, web: TestApp) -> None:
    doc = site.document()
    site.record(doc)
    upload(site, web, doc["case_no"], "a.pdf", PDF, "application/pdf", 201)
    web.post(
        f"/api/v1/cases/{doc['case_no']}/documents",
        upload_files=[("file", "a.pdf", PDF, "application/pdf")],
        headers=site.headers("bank"),
        status=403,
    )
    web.get(
        f"/api/v1/cases/{doc['case_no']}/documents/1", headers=site.headers("filer"), status=403
    )
    site.login(web, "registrar")
    web.get(f"/api/v1/cases/{doc['case_no']}/documents/9", status=404)
    web.get("/api/v1/cases/2026-411526-999999/documents/1", status=404)


def test_the_case_page_lists_documents_for_registrars_and_archivists(
    site: Site, web: TestApp
) -> None:
    doc = site.document()
    site.record(doc)
    upload(site, web, doc["case_no"], "<b>申请书.pdf", PDF, "application/pdf", 201)
    site.login(web, "registrar")
    page = web.get(f"/staff/cases/{doc['case_no']}")
    assert "扫描件" in page.text and "&lt;b&gt;申请书.pdf" in page.text
    link = f"/staff/cases/{doc['case_no']}/documents/1"
    assert link in page.text
    assert web.get(link).body == PDF
    archivist = site.web()
    site.login(archivist, "archivist")
    page = archivist.get(f"/staff/cases/{doc['case_no']}")
    assert "&lt;b&gt;申请书.pdf" in page.text and link in page.text
    auditor = site.web()
    site.login(auditor, "auditor")
    page = auditor.get(f"/staff/cases/{doc['case_no']}")
    assert "&lt;b&gt;申请书.pdf" in page.text and link not in page.text
    auditor.get(link, status=403)
