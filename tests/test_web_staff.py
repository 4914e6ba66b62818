"""Staff pages: the role x page matrix, dashboard, search, case and certificate pages and
their forms, correction requests with their one-working-day due time (Z-5), the filing
queue one by one and in bulk (H-2.5), escaping, English, and generic 500s."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

import pytest
from webtest import TestApp

from certarchive.config import agency_config
from certarchive.services import overview
from certarchive.services.corrections import due_time
from certarchive.services.issuance import CHINA
from certarchive.services.setup import add_agency, add_user
from tests.test_web_support import PASSWORD, Site, csrf_of, site_fixture, web_fixture  # noqa: F401

XSS = "<script>alert(1)</script>"


def staff(site: Site, role: str) -> tuple[TestApp, str]:
    web = site.web()
    return web, site.login(web, role)


def cert_url(serial: str, tail: str = "") -> str:
    return f"/staff/certificates/{quote(serial)}{tail}"


def test_role_page_matrix(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    pages = {
        "dashboard": "/staff",
        "search": "/staff/search?q=" + quote(doc["case_no"]),
        "filing": "/staff/filing",
        "case": f"/staff/cases/{doc['case_no']}",
        "certificate": cert_url(serial),
        "pdf": cert_url(serial, "/pdf"),
        "corrections": "/staff/corrections",
        "admin": "/staff/admin",
        "backups": "/staff/backups",
    }
    reading = {"dashboard", "search", "filing", "case", "certificate", "corrections"}
    allowed = {
        "registrar": reading | {"pdf"},
        "archivist": reading | {"pdf"},
        # auditors read cases and certificates (to follow a log entry) but have no desk:
        # their /staff leads to the audit log (tests/test_web_menu.py)
        "auditor": {"case", "certificate"},
        "admin": reading | {"admin", "backups"},
        "backup_operator": {"dashboard", "backups"},
    }
    for role, may in allowed.items():
        web, _token = staff(site, role)
        for page, url in pages.items():
            response = web.get(url, expect_errors=True)
            expected = 200 if page in may else 403
            if (role, page) == ("auditor", "dashboard"):
                expected = 302
            assert response.status_int == expected, (role, page, response.status)


def test_role_action_matrix(site: Site) -> None:
    """Each role posts each staff form: refused with 403 unless its role may."""
    forms = {
        "rollback": lambda serial, case_no: (cert_url(serial, "/rollback"), {"reason": "x"}),
        "paper": lambda serial, case_no: (cert_url(serial, "/paper"), {"event": "bogus"}),
        "file": lambda serial, case_no: (f"/staff/cases/{case_no}/file", {}),
        "correction": lambda serial, case_no: ("/staff/corrections", {"serial": ""}),
        "bulk": lambda serial, case_no: ("/staff/filing", {}),
        "unlock": lambda serial, case_no: ("/staff/admin/users/nobody/unlock", {}),
    }
    allowed = {
        "registrar": {"rollback", "paper", "correction"},
        "archivist": {"file", "bulk"},
        "auditor": set(),
        "admin": {"unlock"},
    }
    for role, may in allowed.items():
        web, token = staff(site, role)
        doc, paid = site.issued()
        serial = paid["certificates"][0]["serial"]
        for action, make in forms.items():
            url, fields = make(serial, doc["case_no"])
            response = web.post(url, {**fields, "csrf_token": token}, expect_errors=True)
            if action in may:
                assert response.status_int not in (401, 403), (role, action, response.text)
            else:
                assert response.status_int == 403, (role, action, response.status)


def test_dashboard_counts_queue_and_corrections(site: Site) -> None:
    web, token = staff(site, "registrar")
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web.post(cert_url(serial, "/paper"), {"event": "issued", "csrf_token": token})
    web.post(
        "/staff/corrections",
        {
            "serial": serial,
            "description": "面积填写错误",
            "received_at": "",
            "channel": "counter",
            "csrf_token": token,
        },
    )
    page = web.get("/staff")
    assert "电子证照状态统计" in page.text
    assert re.search(r'stat-number">\d+</span><span class="stat-label">已签发', page.text)
    assert doc["case_no"] in page.text  # in the filing queue
    assert serial in page.text  # an open correction request with its due time
    assert "答复期限" in page.text


def test_search_modes(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    cert = doc["certificates"][0]
    web, _token = staff(site, "registrar")
    assert serial in web.get("/staff/search", {"q": doc["case_no"]}).text
    assert doc["case_no"] in web.get("/staff/search", {"q": serial}).text
    assert serial in web.get("/staff/search", {"q": cert["unit_number"]}).text
    by_id = web.get("/staff/search", {"q": cert["holders"][0]["id_number"].lower()})
    assert serial in by_id.text and "按证件号码" in by_id.text
    assert any(e["action"] == "search.holder_id" for e in site.entries())
    auditor, _token = staff(site, "auditor")
    refused = auditor.get("/staff/search", {"q": cert["holders"][0]["id_number"]}, status=403)
    assert serial not in refused.text
    assert "没有找到" in web.get("/staff/search", {"q": "2026-411526-999999"}).text


def test_case_page(site: Site) -> None:
    doc, paid = site.issued(shape=1)
    web, _token = staff(site, "auditor")
    page = web.get(f"/staff/cases/{doc['case_no']}")
    for cert in paid["certificates"]:
        assert cert["serial"] in page.text
    assert "办理过程" in page.text and "登簿" in page.text and "缴费" in page.text
    # auditors see masked holders
    assert doc["certificates"][0]["holders"][0]["id_number"] not in page.text
    web.get("/staff/cases/2026-411526-999999", status=404)


def test_rollback_correct_issue_with_a_readable_diff(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site, "registrar")
    page = web.get(cert_url(serial))
    assert "回退（尚未下载的证书）" in page.text
    done = web.post(cert_url(serial, "/rollback"), {"reason": "坐落有误", "csrf_token": token})
    assert done.status_int == 302
    page = done.follow()
    assert "证书已回退为草稿" in page.text and "更正草稿" in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/correct"))
    form["field-location"] = "潢川县弋阳街道更正路8号"
    form["comment"] = "更正坐落"
    page = form.submit().follow()
    assert "已保存更正后的新版本" in page.text
    diff = page.text[page.text.index('class="diff"') :]
    assert "坐落" in diff and "潢川县弋阳街道更正路8号" in diff
    form = next(f for f in page.forms.values() if f.action.endswith("/issue"))
    page = form.submit().follow()
    assert "证书已签发" in page.text and "已签发" in page.text


def test_reissue_revoke_and_paper_forms(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site, "registrar")
    page = web.post(cert_url(serial, "/paper"), {"event": "issued", "csrf_token": token}).follow()
    assert "纸质证书事项已登记" in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/reissue"))
    form["field-area"] = "房屋建筑面积100.00㎡"
    form["reason"] = "面积有误（登记簿无误）"
    page = form.submit().follow()
    assert "原证书已注销，新证书已签发" in page.text
    new_serial = re.search(r"<h1>([^<]+) <span", page.text).group(1)
    assert new_serial != serial and "房屋建筑面积100.00㎡" in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/revoke"))
    form["cause"] = "cancellation"
    form["reason"] = "注销登记"
    page = form.submit().follow()
    assert "证书已注销" in page.text
    refused = web.post(
        cert_url(new_serial, "/revoke"),
        {"cause": "cancellation", "reason": "again", "csrf_token": token},
        status=409,
    )
    assert "返回" in refused.text
    web.post(cert_url(serial, "/fly"), {"csrf_token": token}, status=404)
    assert doc["case_no"]


def test_invalid_form_input_names_the_fields(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site, "registrar")
    web.post(cert_url(serial, "/rollback"), {"reason": "x", "csrf_token": token})
    response = web.post(
        cert_url(serial, "/correct"),
        {"field-unit_number": "bad", "comment": "x", "csrf_token": token},
        status=422,
    )
    assert "unit_number" in response.text


def test_corrections_due_one_working_day_later(site: Site) -> None:
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=CHINA)
    assert due_time(friday) == datetime(2026, 11, 23, 15, 0, tzinfo=CHINA)
    thursday = datetime(2026, 11, 19, 9, 30, tzinfo=CHINA)
    assert due_time(thursday) == datetime(2026, 11, 20, 9, 30, tzinfo=CHINA)
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=CHINA)
    assert due_time(saturday) == datetime(2026, 11, 24, 0, 0, tzinfo=CHINA)
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web, token = staff(site, "registrar")
    created = web.post(
        "/staff/corrections",
        {
            "serial": serial,
            "description": "权利人姓名有误",
            "received_at": "2026-01-09T15:00",
            "channel": "phone",
            "in_registry_book": "yes",
            "csrf_token": token,
        },
    ).follow()
    assert "更正申请已登记" in created.text
    assert "2026-01-12 15:00" in created.text and "已超期" in created.text
    assert "先办理更正登记" in created.text
    request_id = re.search(r'/staff/corrections/([^/"]+)/close', created.text).group(1)
    closed = web.post(
        f"/staff/corrections/{request_id}/close",
        {"resolution": "correction_registration", "csrf_token": token},
    ).follow()
    assert "更正申请已办结" in closed.text and "超期" in closed.text
    web.post(
        f"/staff/corrections/{request_id}/close",
        {"resolution": "no_error", "csrf_token": token},
        status=409,
    )
    bad = web.post(
        "/staff/corrections", {"serial": "nope", "description": "", "csrf_token": token}, status=422
    )
    assert "serial" in bad.text and "description" in bad.text
    # the archivist reads the list but not the holder's words, and cannot act
    archivist, _token = staff(site, "archivist")
    page = archivist.get("/staff/corrections")
    assert serial in page.text and "权利人姓名有误" not in page.text


def test_filing_one_by_one_and_in_bulk(site: Site) -> None:
    registrar, rtoken = staff(site, "registrar")
    ready = []
    for _ in range(3):
        doc, paid = site.issued()
        registrar.post(
            cert_url(paid["certificates"][0]["serial"], "/paper"),
            {"event": "issued", "csrf_token": rtoken},
        )
        ready.append(doc["case_no"])
    not_ready, _paid = site.issued()
    web, token = staff(site, "archivist")
    queue = web.get("/staff/filing")
    assert all(case_no in queue.text for case_no in ready)
    assert not_ready["case_no"] not in queue.text
    one = web.post(f"/staff/cases/{ready[0]}/file", {"csrf_token": token}).follow()
    assert "案卷已归档" in one.text
    bulk = web.post(
        "/staff/filing",
        [
            ("csrf_token", token),
            ("case_no", ready[1]),
            ("case_no", ready[2]),
            ("case_no", not_ready["case_no"]),
        ],
    )
    assert "已归档：" in bulk.text and ready[1] in bulk.text
    assert not_ready["case_no"] in bulk.text and "notice-error" in bulk.text
    for case_no in ready:
        assert "已归档" in web.get(f"/staff/cases/{case_no}").text
    refused = [e for e in site.entries() if e["action"] == "case.file" and e["result"] == "refused"]
    assert refused and refused[-1]["object"] == f"case:{not_ready['case_no']}"


def test_names_are_escaped(site: Site) -> None:
    doc = site.document()
    doc["certificates"][0]["holders"][0]["name"] = XSS
    site.record(doc)
    paid = site.pay(doc)
    serial = paid["certificates"][0]["serial"]
    web, _token = staff(site, "registrar")
    for url in (
        cert_url(serial),
        f"/staff/cases/{doc['case_no']}",
        "/staff/search?q=" + quote(serial),
    ):
        page = web.get(url)
        assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in web.get(cert_url(serial)).text
    token = paid["certificates"][0]["verify_url"].rsplit("/", 1)[1]
    public = site.web().get(f"/v/{token}")
    assert "<script" not in public.text and "&lt;" in public.text


def test_english_pages(site: Site) -> None:
    web, _token = staff(site, "registrar")
    switched = web.get("/language/en?next=/staff")
    assert switched.location.endswith("/staff")
    page = web.get("/staff")
    assert "Dashboard" in page.text and "Certificates by state" in page.text
    assert web.get("/language/en?next=https://evil.example/").location.endswith("/")
    web.get("/language/zh")
    assert "工作台" in web.get("/staff").text


def test_internal_errors_are_generic(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "410101199003071234"

    def broken(ctx: object) -> None:
        raise RuntimeError(f"boom {secret}")

    web, _token = staff(site, "registrar")
    monkeypatch.setattr(overview, "dashboard", broken)
    page = web.get("/staff", status=500)
    assert "服务器内部错误" in page.text
    assert secret not in page.text and "Traceback" not in page.text
    api = web.get("/staff", headers={"Accept": "application/json"}, status=500)
    assert api.json == {"error": "internal", "message": api.json["message"], "fields": {}}
    assert secret not in caplog.text and "RuntimeError" in caplog.text


def test_csrf_field_present_on_every_staff_form(site: Site) -> None:
    _doc, paid = site.issued()
    web, token = staff(site, "registrar")
    page = web.get(cert_url(paid["certificates"][0]["serial"]))
    for form in page.forms.values():
        if form.method.upper() == "POST":
            assert form["csrf_token"].value == token
    assert csrf_of(page) == token


def test_staff_of_one_agency_do_not_see_another(site: Site) -> None:
    """A registrar scoped to 潢川县 gets 404 for a case and certificate of another county."""
    site.run(
        add_agency,
        agency_config(
            {
                "certarchive.agency.name": "xinyang-sh",
                "certarchive.agency.county": "浉河区",
                "certarchive.agency.county_code": "411502",
            }
        ),
    )
    doc = site.document()
    doc["case_no"] = doc["case_no"].replace("-411526-", "-411502-")
    site.record(doc)
    serial = site.pay(doc)["certificates"][0]["serial"]
    site.run(add_user, "hc_registrar", "registrar", PASSWORD, "huangchuan")
    web = site.web()
    form = web.get("/login").forms[0]
    form["username"] = "hc_registrar"
    form["password"] = PASSWORD
    form.submit()
    token = csrf_of(web.get("/staff"))
    missing = web.get(cert_url("豫(2026)浉河区不动产权第9999999号"), status=404)
    theirs = web.get(cert_url(serial), status=404)
    assert missing.text.count("证书不存在") == theirs.text.count("证书不存在") == 1
    web.get(f"/staff/cases/{doc['case_no']}", status=404)
    web.post(cert_url(serial, "/rollback"), {"reason": "x", "csrf_token": token}, status=404)
    assert "没有找到" in web.get("/staff/search", {"q": serial}).text
    # the province-wide registrar sees it
    other, _token = staff(site, "registrar")
    assert serial in other.get(cert_url(serial)).text
