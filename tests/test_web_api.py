"""The JSON API: upstream cases, payments and revocations; staff and key reads and changes;
authentication and scopes; error shapes; replays; another agency's objects."""

from __future__ import annotations

import copy
from urllib.parse import quote

import pytest

from certarchive.config import agency_config
from certarchive.services.identity import revoke_client
from certarchive.services.setup import add_agency, add_client
from certarchive.validation.samples import sample_case
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

ERROR_KEYS = {"error", "message", "fields"}


def path(serial: str, tail: str = "") -> str:
    return f"/api/v1/certificates/{quote(serial)}{tail}"


def test_record_case_201_then_replay_200(site: Site) -> None:
    doc = site.document()
    first = site.record(doc)
    assert first.status_int == 201
    assert first.json["case_no"] == doc["case_no"]
    assert first.json["state"] == "recorded"
    assert [c["state"] for c in first.json["certificates"]] == ["draft"]
    again = site.record(doc)
    assert again.status_int == 200
    assert again.json["certificates"] == first.json["certificates"]
    changed = copy.deepcopy(doc)
    changed["certificates"][0]["location"] += "（更正）"
    conflict = site.web().post_json(
        "/api/v1/cases", changed, headers=site.headers("upstream"), status=409
    )
    assert conflict.json["error"] == "conflict"


def test_invalid_case_names_every_bad_field(site: Site) -> None:
    doc = site.document()
    doc["recorded_at"] = "yesterday"
    doc["delivery"] = "pigeon"
    doc["certificates"][0]["holders"][0]["id_number"] = "410101199001011234"
    doc["certificates"][0]["unit_number"] = "short"
    doc["surprise"] = 1
    response = site.web().post_json(
        "/api/v1/cases", doc, headers=site.headers("upstream"), status=422
    )
    body = response.json
    assert set(body) == ERROR_KEYS and body["error"] == "invalid"
    assert {
        "recorded_at",
        "delivery",
        "certificates[0].holders[0].id_number",
        "certificates[0].unit_number",
        "surprise",
    } <= set(body["fields"])
    # the message names the problem, never the submitted value (H-5.2.3)
    assert "410101199001011234" not in response.text


def test_payment_issues_and_a_replay_issues_nothing(site: Site) -> None:
    doc = site.document(shape=1)
    site.record(doc)
    paid = site.pay(doc, "RCPT-1")
    assert paid["state"] == "certified"
    assert all(
        c["state"] == "issued" and c["serial"] and c["download_code"] for c in paid["certificates"]
    )
    assert all(c["verify_url"].startswith("http://127.0.0.1:6543/v/") for c in paid["certificates"])
    again = site.pay(doc, "RCPT-1")
    assert again == paid  # same serials, same codes: nothing issued twice
    metadata = (
        site.web()
        .get(path(paid["certificates"][0]["serial"]), headers=site.headers("manager"))
        .json
    )
    assert metadata["version"] == 1
    history = (
        site.web()
        .get(path(paid["certificates"][0]["serial"], "/history"), headers=site.headers("manager"))
        .json["history"]
    )
    assert [h["transition"] for h in history].count("issue") == 1
    other = site.web().post_json(
        f"/api/v1/cases/{doc['case_no']}/payment",
        {"receipt_no": "RCPT-2", "amount": "80", "paid_at": doc["recorded_at"]},
        headers=site.headers("upstream"),
        status=409,
    )
    assert other.json["error"] == "conflict"


def test_payment_validation_and_unknown_case(site: Site) -> None:
    doc = site.document()
    site.record(doc)
    bad = site.web().post_json(
        f"/api/v1/cases/{doc['case_no']}/payment",
        {"receipt_no": "", "amount": "-1", "paid_at": "now"},
        headers=site.headers("upstream"),
        status=422,
    )
    assert set(bad.json["fields"]) == {"receipt_no", "amount", "paid_at"}
    missing = site.web().post_json(
        "/api/v1/cases/2026-411526-999999/payment",
        {"receipt_no": "X", "amount": "1", "paid_at": "2026-01-01T00:00:00+08:00"},
        headers=site.headers("upstream"),
        status=404,
    )
    assert set(missing.json) == ERROR_KEYS


def test_transfer_case_revokes_what_it_replaces(site: Site) -> None:
    doc, paid = site.issued()
    old = paid["certificates"][0]["serial"]
    transfer = site.document(registration_type="transfer", replaces=[old])
    transfer["certificates"][0]["unit_number"] = doc["certificates"][0]["unit_number"]
    assert site.record(transfer).status_int == 201
    metadata = site.web().get(path(old), headers=site.headers("manager")).json
    assert metadata["state"] == "revoked"
    assert metadata["revocation"]["cause"] == "transfer"


def test_revoke_endpoint(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    bad = site.web().post_json(
        path(serial, "/revoke"), {"cause": "whim"}, headers=site.headers("upstream"), status=422
    )
    assert {"cause"} <= set(bad.json["fields"])
    ok = site.web().post_json(
        path(serial, "/revoke"),
        {"cause": "cancellation", "reason": "注销登记"},
        headers=site.headers("upstream"),
    )
    assert ok.json["state"] == "revoked"
    again = site.web().post_json(
        path(serial, "/revoke"),
        {"cause": "cancellation", "reason": "注销登记"},
        headers=site.headers("upstream"),
        status=409,
    )
    assert again.json["error"] == "conflict"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer ca_nope.nope"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer hs_x"}, 401),
    ],
)
def test_no_or_bad_credentials_401(site: Site, headers: dict[str, str], status: int) -> None:
    response = site.web().post_json(
        "/api/v1/cases", site.document(), headers=headers, status=status
    )
    assert set(response.json) == ERROR_KEYS and response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_key_without_scope_403_and_revoked_key_401(site: Site) -> None:
    doc = site.document()
    for client in ("bank", "bank_read", "manager", "filer", "audit"):
        response = site.web().post_json(
            "/api/v1/cases", doc, headers=site.headers(client), status=403
        )
        assert response.json["error"] == "forbidden"
    key_id = site.keys["audit"][3:].split(".")[0]
    site.run(revoke_client, key_id)
    site.web().get("/api/v1/filing-queue", headers=site.headers("audit"), status=401)


def test_bad_bodies(site: Site) -> None:
    web = site.web()
    up = site.headers("upstream")
    bad_json = web.post(
        "/api/v1/cases", "{not json", headers={**up, "Content-Type": "application/json"}, status=400
    )
    assert bad_json.json["error"] == "bad_request"
    not_object = web.post_json("/api/v1/cases", [1, 2], headers=up, status=400)
    assert not_object.json["error"] == "bad_request"
    wrong_type = web.post(
        "/api/v1/cases", "a=b", headers={**up, "Content-Type": "text/plain"}, status=415
    )
    assert wrong_type.json["error"] == "unsupported_media_type"
    huge = web.post(
        "/api/v1/cases",
        b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**up, "Content-Type": "application/json"},
        status=413,
    )
    assert huge.json["error"] == "payload_too_large"


def test_reads_masked_for_banks_full_for_managers(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]
    bank = site.web().get(path(serial), headers=site.headers("bank")).json
    assert bank["holders"][0]["name"] != holder["name"]
    assert "*" in bank["holders"][0]["id_number"]
    manager = site.web().get(path(serial), headers=site.headers("manager")).json
    assert manager["holders"][0]["id_number"] == holder["id_number"]
    case = site.web().get(f"/api/v1/cases/{doc['case_no']}", headers=site.headers("upstream")).json
    assert case["certificates"][0]["serial"] == serial
    # both bracket forms name the same certificate
    full_width = serial.replace("(", "（").replace(")", "）")
    assert site.web().get(path(full_width), headers=site.headers("bank")).json["serial"] == serial


def test_pdf_download_headers(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    response = site.web().get(path(serial, "/pdf"), headers=site.headers("bank"))
    assert response.content_type == "application/pdf"
    assert response.body.startswith(b"%PDF-")
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="certificate-right-2026-')
    assert disposition.isascii()
    site.web().get(path(serial, "/pdf"), headers=site.headers("bank_read"), status=403)
    # staff download is not the holder's collection (H-2.2)
    metadata = site.web().get(path(serial), headers=site.headers("bank")).json
    assert metadata["first_downloaded_at"] is None and metadata["state"] == "issued"


def test_rollback_correct_issue_again_keeps_serial(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    manager = site.headers("manager")
    web = site.web()
    rolled = web.post_json(path(serial, "/rollback"), {"reason": "坐落有误"}, headers=manager)
    assert rolled.json["state"] == "draft" and rolled.json["serial"] == serial
    corrected = web.patch_json(
        path(serial),
        {"changes": {"location": "潢川县春申街道新址1号"}, "comment": "更正坐落"},
        headers=manager,
    )
    assert corrected.json["version"] == 2
    version = web.get(path(serial, "/versions/2"), headers=manager).json
    assert version["changes"]["location"]["new"] == "潢川县春申街道新址1号"
    assert version["data"]["location"] == "潢川县春申街道新址1号"
    web.get(path(serial, "/versions/2"), headers=site.headers("bank"), status=403)
    web.get(path(serial, "/versions/9"), headers=manager, status=404)
    web.get(path(serial, "/versions/x1"), headers=manager, status=404)
    issued = web.post_json(path(serial, "/issue"), {}, headers=manager)
    assert issued.json["state"] == "issued" and issued.json["serial"] == serial
    versions = web.get(path(serial, "/versions"), headers=site.headers("bank")).json
    assert [v["number"] for v in versions["versions"]] == [1, 2]
    patch_issued = web.patch_json(
        path(serial), {"changes": {}, "comment": "x"}, headers=manager, status=409
    )
    assert patch_issued.json["error"] == "conflict"


def test_reissue_and_paper_and_file(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    manager = site.headers("manager")
    web = site.web()
    # paper handed over -> the case can be filed (H-2.5)
    paper = web.post_json(path(serial, "/paper"), {"event": "issued"}, headers=manager)
    assert paper.json["paper_status"] == "issued"
    web.post_json(path(serial, "/paper"), {"event": "flown"}, headers=manager, status=422)
    queue = web.get("/api/v1/filing-queue", headers=site.headers("filer")).json["cases"]
    assert doc["case_no"] in [c["case_no"] for c in queue]
    filed = web.post_json(f"/api/v1/cases/{doc['case_no']}/file", {}, headers=site.headers("filer"))
    assert filed.json["state"] == "filed"
    # re-issue with corrections: new serial, old revoked and linked (H-4.3, Z-5)
    new = web.post_json(
        path(serial, "/reissue"),
        {"reason": "面积有误", "changes": {"area": "房屋建筑面积99.00㎡"}},
        headers=manager,
        status=201,
    )
    assert new.json["serial"] != serial and new.json["replaces"] == serial
    old = web.get(path(serial), headers=manager).json
    assert old["state"] == "revoked" and old["replaced_by"] == new.json["serial"]


def test_file_refused_until_collected(site: Site) -> None:
    doc, _paid = site.issued()
    refused = site.web().post_json(
        f"/api/v1/cases/{doc['case_no']}/file", {}, headers=site.headers("filer"), status=409
    )
    assert refused.json["error"] == "conflict"


def test_rollback_refused_after_download(site: Site) -> None:
    doc, paid = site.issued()
    token = site.holder_token(doc, paid)
    serial = paid["certificates"][0]["serial"]
    site.web().get(
        f"/api/v1/holder/certificates/{quote(serial)}/pdf",
        headers={"Authorization": f"Bearer {token}"},
    )
    refused = site.web().post_json(
        path(serial, "/rollback"), {"reason": "x"}, headers=site.headers("manager"), status=409
    )
    assert refused.json["error"] == "conflict" and "downloaded" in refused.json["message"]


def test_scope_matrix(site: Site) -> None:
    """Each key against each action: allowed (not 401/403) or 403."""
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    actions = {
        "get_case": ("GET", f"/api/v1/cases/{doc['case_no']}", None),
        "metadata": ("GET", path(serial), None),
        "pdf": ("GET", path(serial, "/pdf"), None),
        "history": ("GET", path(serial, "/history"), None),
        "versions": ("GET", path(serial, "/versions"), None),
        "version": ("GET", path(serial, "/versions/1"), None),
        "queue": ("GET", "/api/v1/filing-queue", None),
        "paper": ("POST", path(serial, "/paper"), {"event": "bogus"}),
        "rollback": ("POST", path(serial, "/rollback"), {}),
        "reissue": ("POST", path(serial, "/reissue"), {}),
        "issue": ("POST", path(serial, "/issue"), {}),
        "revoke": ("POST", path(serial, "/revoke"), {}),
        "file": ("POST", f"/api/v1/cases/{doc['case_no']}/file", {}),
        "payment": ("POST", f"/api/v1/cases/{doc['case_no']}/payment", {}),
    }
    allowed = {
        "upstream": {"get_case", "metadata", "history", "versions", "revoke", "payment"},
        "bank": {"metadata", "pdf", "history", "versions"},
        "bank_read": {"metadata", "history", "versions"},
        "manager": {
            "get_case",
            "metadata",
            "history",
            "versions",
            "version",
            "paper",
            "rollback",
            "reissue",
            "issue",
            "revoke",
        },
        "filer": {"get_case", "metadata", "history", "versions", "queue", "file"},
        "auditor": set(),
    }
    keys = dict(site.keys, auditor=site.run(add_client, "auditor2", ["audit:read"])["key"])
    for client, may in allowed.items():
        for action, (method, url, body) in actions.items():
            web = site.web()
            headers = {"Authorization": f"Bearer {keys[client]}"}
            if method == "GET":
                response = web.get(url, headers=headers, expect_errors=True)
            else:
                response = web.post_json(url, body, headers=headers, expect_errors=True)
            if action in may:
                assert response.status_int not in (401, 403), (client, action, response.text)
            else:
                assert response.status_int == 403, (client, action, response.status)
                assert response.json["error"] == "forbidden"


def test_another_agencys_objects_answer_404(site: Site) -> None:
    """A client scoped to one county sees another county's objects as missing."""
    other = agency_config(
        {
            "certarchive.agency.name": "xinyang",
            "certarchive.agency.county": "浉河区",
            "certarchive.agency.county_code": "411502",
        }
    )
    site.run(add_agency, other)
    doc = sample_case(90001)
    doc["case_no"] = doc["case_no"].replace("-411526-", "-411502-")
    site.record(doc)  # the province-wide upstream records for either county
    serial = site.pay(doc)["certificates"][0]["serial"]
    assert "浉河区" in serial
    scoped = {
        name: site.run(add_client, f"{name}-hc", scopes, "huangchuan")["key"]
        for name, scopes in (
            ("bank", ["certificates:read", "certificates:download"]),
            ("manager", ["certificates:manage"]),
        )
    }
    for key in scoped.values():
        headers = {"Authorization": f"Bearer {key}"}
        unknown = site.web().get(
            path("豫(2026)浉河区不动产权第9999999号"), headers=headers, status=404
        )
        other_agency = site.web().get(path(serial), headers=headers, status=404)
        assert other_agency.json == unknown.json
        site.web().get(path(serial, "/history"), headers=headers, status=404)
    manager = {"Authorization": f"Bearer {scoped['manager']}"}
    site.web().post_json(path(serial, "/rollback"), {"reason": "x"}, headers=manager, status=404)
    site.web().get(f"/api/v1/cases/{doc['case_no']}", headers=manager, status=404)
    # the province-wide bank does see it
    site.web().get(path(serial), headers=site.headers("bank"), status=200)
