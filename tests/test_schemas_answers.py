"""The answers the server really gives validate against the response models /api/openapi.json
is generated from (#13, point 3): one flow through every JSON operation, each answer
checked with the model the document names for its path, method and status."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from pydantic import BaseModel
from webtest import TestApp

from certarchive.services import audit as audit_services
from certarchive.views import openapi
from certarchive.views.openapi import DOCUMENT, JSON
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

SHOWN: dict[str, type[BaseModel]] = {model.__name__: model for model in openapi.MODELS}
PDF = b"%PDF-1.4\n% a scanned application form\n%%EOF\n"


def documented_model(template: str, method: str, status: int) -> type[BaseModel]:
    """The model the document gives for this operation's answer with ``status``."""
    response = DOCUMENT["paths"][template][method]["responses"][str(status)]
    if "$ref" in response:
        response = DOCUMENT["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    ref = response["content"][JSON]["schema"]["$ref"]
    return SHOWN[ref.rsplit("/", 1)[1]]


class Checked:
    """A TestApp whose JSON answers are validated against the documented models."""

    def __init__(self, web: TestApp) -> None:
        self.web = web
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, method: str, template: str, url: str, **kw: Any) -> Any:
        call = getattr(self.web, method if method in ("get", "delete") else f"{method}_json")
        if "upload_files" in kw:
            call = self.web.post
        response = call(url, **kw)
        if response.content_type == JSON:
            model = documented_model(template, method, response.status_int)
            model.model_validate(response.json)
            self.seen.add((template, method, response.status_int))
        return response


def path(serial: str, tail: str = "") -> str:
    return f"/api/v1/certificates/{quote(serial)}{tail}"


@pytest.fixture(name="checked")
def checked_fixture(site: Site) -> Checked:
    return Checked(site.web())


def test_every_json_answer_validates_against_its_model(site: Site, checked: Checked) -> None:
    up, bank, manager = site.headers("upstream"), site.headers("bank"), site.headers("manager")
    filer, auditor = site.headers("filer"), site.headers("audit")
    cert = "/api/v1/certificates/{serial}"
    case = "/api/v1/cases/{case_no}"

    checked("get", "/healthz", "/healthz")
    # upstream: record (and replay), documents, payment, a transfer that revokes
    doc = site.document(1)  # a right and a proof certificate: both kinds, masked banks
    checked("post", "/api/v1/cases", "/api/v1/cases", params=doc, headers=up, status=201)
    checked("post", "/api/v1/cases", "/api/v1/cases", params=doc, headers=up, status=200)
    checked("post", "/api/v1/cases", "/api/v1/cases", params={}, headers=up, status=422)
    case_no = doc["case_no"]
    checked(
        "post",
        f"{case}/documents",
        f"/api/v1/cases/{case_no}/documents",
        params={"name": "申请书.pdf"},
        upload_files=[("file", "申请书.pdf", PDF, "application/pdf")],
        headers=up,
        status=201,
    )
    checked("get", f"{case}/documents", f"/api/v1/cases/{case_no}/documents", headers=filer)
    payment = {"receipt_no": f"R-{case_no}", "amount": "80.00", "paid_at": doc["recorded_at"]}
    paid = checked(
        "post", f"{case}/payment", f"/api/v1/cases/{case_no}/payment", params=payment, headers=up
    ).json
    checked("get", case, f"/api/v1/cases/{case_no}", headers=up)
    right, proof = (c["serial"] for c in paid["certificates"])

    # reads, masked and not
    for headers in (bank, manager):
        checked("get", cert, path(right), headers=headers)
        checked("get", cert, path(proof), headers=headers)
    checked("get", f"{cert}/history", path(right, "/history"), headers=bank)
    checked("get", cert, path("豫(2026)潢川县不动产权第9999999号"), headers=bank, status=404)

    # the holder
    holder = doc["certificates"][0]["holders"][0]
    session = {"id_number": holder["id_number"], "download_code": "WRONG"}
    checked("post", "/api/v1/holder/session", "/api/v1/holder/session", params=session, status=401)
    session["download_code"] = paid["certificates"][0]["download_code"]
    token = checked(
        "post", "/api/v1/holder/session", "/api/v1/holder/session", params=session, status=201
    ).json["token"]
    listed = "/api/v1/holder/certificates"
    as_holder = {"Authorization": f"Bearer {token}"}
    checked("get", listed, listed, headers=as_holder)
    code = "/api/v1/holder/code"
    asked = {"id_number": holder["id_number"], "phone": "13900000000"}
    checked("post", code, code, params=asked, status=202)
    shares = "/api/v1/holder/shares"
    share = {"serial": right, "institution": "某银行", "purpose": "贷款审查", "days": 7}
    checked("post", shares, shares, params=share, headers=as_holder, status=201)
    checked("get", shares, shares, headers=as_holder)

    # the public: the QR code's data, an uploaded file
    qr = urlsplit(paid["certificates"][0]["verify_url"]).path
    checked("get", "/v/{token}.json", f"{qr}.json")
    pdf = site.web().get(path(right, "/pdf"), headers=bank).body
    upload = [("file", "cert.pdf", pdf)]
    accept = {"Accept": JSON}
    checked("post", "/verify", "/verify", upload_files=upload, headers=accept)
    checked("post", "/verify", "/verify", upload_files=[("file", "x.pdf", PDF)], headers=accept)

    # the registrar: rollback, correction, issue again, versions, paper, re-issue, revoke
    checked(
        "post", f"{cert}/rollback", path(proof, "/rollback"), params={}, headers=manager, status=422
    )
    checked(
        "post",
        f"{cert}/rollback",
        path(proof, "/rollback"),
        params={"reason": "坐落有误"},
        headers=manager,
    )
    changes = {"changes": {"location": "潢川县春申街道新址1号"}, "comment": "更正坐落"}
    checked("patch", cert, path(proof), params=changes, headers=manager)
    checked("post", f"{cert}/issue", path(proof, "/issue"), params={}, headers=manager)
    checked("post", f"{cert}/issue", path(proof, "/issue"), params={}, headers=manager, status=409)
    checked("get", f"{cert}/versions", path(proof, "/versions"), headers=bank)
    checked("get", f"{cert}/versions/{{number}}", path(proof, "/versions/2"), headers=manager)
    checked(
        "post", f"{cert}/paper", path(right, "/paper"), params={"event": "issued"}, headers=manager
    )
    reissue = {"reason": "更正面积", "changes": {"area": "房屋建筑面积99.00㎡"}}
    new = checked(
        "post",
        f"{cert}/reissue",
        path(right, "/reissue"),
        params=reissue,
        headers=manager,
        status=201,
    ).json
    revocation = {"cause": "correction", "reason": "错误登记"}
    checked("post", f"{cert}/revoke", path(new["serial"], "/revoke"), params=revocation, headers=up)
    checked("get", cert, path(right), headers=bank)  # revoked, replaced_by
    checked("get", "/v/{token}.json", f"{qr}.json")  # the revoked one, publicly

    # filing
    checked("get", "/api/v1/filing-queue", "/api/v1/filing-queue", headers=filer)
    checked(
        "post",
        f"{case}/file",
        f"/api/v1/cases/{case_no}/file",
        params={},
        headers=filer,
        status=409,
    )

    # the auditors' door, once entries are sequenced
    site.run(audit_services.integrate_logs)
    logs = "/api/v1/audit/{log}"
    checked("get", f"{logs}/entries", "/api/v1/audit/audit/entries?limit=500", headers=auditor)
    checked("get", f"{logs}/checkpoint", "/api/v1/audit/sharing/checkpoint", headers=auditor)
    checked(
        "get",
        f"{logs}/proofs/inclusion",
        "/api/v1/audit/audit/proofs/inclusion?seq=0",
        headers=auditor,
    )
    checked(
        "get",
        f"{logs}/proofs/consistency",
        "/api/v1/audit/audit/proofs/consistency?first=1",
        headers=auditor,
    )
    checked(
        "get", f"{logs}/entries", "/api/v1/audit/audit/entries?limit=0", headers=auditor, status=422
    )

    assert len(checked.seen) >= 30, sorted(checked.seen)
    successes = {(t, m) for t, m, status in checked.seen if status < 300}
    expected = {
        (template, method)
        for template, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        and JSON in response.get("content", {})
        and template != "/api/openapi.json"
    }
    backups = {(t, m) for t, m in expected if t.startswith("/api/v1/backups")}
    assert expected - successes - backups == {(f"{case}/file", "post")}
    # the backup answers are validated against their models by tests/test_backup_api.py


def test_filing_answers_a_case(site: Site, checked: Checked) -> None:
    """The one operation the flow above cannot reach: a case whose certificates were all
    collected is filed, and the answer is a Case."""
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    site.web().get(
        f"/api/v1/holder/certificates/{quote(serial)}/pdf",
        headers={"Authorization": f"Bearer {token}"},
    )
    checked(
        "post",
        "/api/v1/cases/{case_no}/file",
        f"/api/v1/cases/{doc['case_no']}/file",
        params={"comment": "归档"},
        headers=site.headers("filer"),
    )
    assert ("/api/v1/cases/{case_no}/file", "post", 200) in checked.seen


def test_answers_that_break_the_models_are_caught() -> None:
    """The check is not vacuous: an unknown key, a wrong type or a missing field fails."""
    from pydantic import ValidationError

    from certarchive.schemas.answers import Case, Error

    with pytest.raises(ValidationError):
        Error.model_validate({"error": "x", "message": "y", "fields": {}, "trace": "..."})
    with pytest.raises(ValidationError):
        Error.model_validate({"error": "x", "message": "y"})
    with pytest.raises(ValidationError):
        Case.model_validate({"case_no": 5})
