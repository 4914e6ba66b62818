"""Public verification (H-1.3, H-5.1.2, H-5.2.3, H-5.2.6): the QR page and its JSON, the
same 404 for unknown and malformed tokens, statuses, rate limits and proxies, the upload
check with its size limit, and the security headers."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from webtest import TestApp

from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

PUBLIC_KEYS = {
    "status",
    "status_text",
    "kind",
    "kind_title",
    "serial",
    "holders",
    "location",
    "unit_number",
    "issued_on",
    "agency",
    "seal",
    "sm3",
    "signed_with",
    "data_page",
    "verified_at",
    "reference",
    "revocation",
    "replaced_by",
    "verify_url",
    "obligors",
}


def token_of(paid: dict, index: int = 0) -> str:
    return paid["certificates"][index]["verify_url"].rsplit("/", 1)[1]


def api(site: Site, serial: str, tail: str = "") -> str:
    return f"/api/v1/certificates/{quote(serial)}{tail}"


def test_verification_page_shows_status_and_masked_facts(site: Site, web: TestApp) -> None:
    doc, paid = site.issued()
    token = token_of(paid)
    holder = doc["certificates"][0]["holders"][0]
    data = web.get(f"/v/{token}.json").json
    assert set(data) <= PUBLIC_KEYS
    assert data["status"] == "valid" and data["serial"] == paid["certificates"][0]["serial"]
    # every row of the data page, in the form's order (H-1.2), names masked (H-5.2.3)
    rows = {row["label"]: row["value"] for row in data["data_page"]}
    assert [row["label"] for row in data["data_page"]][:4] == [
        "权利人",
        "共有情况",
        "坐落",
        "不动产单元号",
    ]
    assert list(rows)[-2:] == ["权利其他状况", "附记"]
    certificate = doc["certificates"][0]
    for key, label in (
        ("right_type", "权利类型"),
        ("use", "用途"),
        ("area", "面积"),
        ("term", "使用期限"),
    ):
        assert rows[label] == certificate[key]
    assert holder["name"] not in rows["权利人"] and rows["权利人"].startswith(holder["name"][0])
    body = web.get(f"/v/{token}.json").body
    assert holder["id_number"].encode() not in body and holder["name"].encode() not in body
    assert "不动产权证书".encode() in body  # readable UTF-8, not \u-escaped
    assert re.fullmatch(r"VR-[0-9A-F]{4}(-[0-9A-F]{4}){3}", data["reference"])
    assert data["verified_at"].endswith("+08:00")
    # the seal certificate that signed the current file, named (H-5.1.1)
    assert data["seal"]["name"] in data["signed_with"]["subject"]
    assert "DEMO" in data["signed_with"]["issuer"]
    page = web.get(f"/v/{token}").text
    assert data["signed_with"]["serial_number"] in page and "签名证书" in page
    assert "验证编号" in page and "验证时间" in page and certificate["right_type"] in page
    assert data["holders"][0]["name"] == holder["name"][0] + "*" * (len(holder["name"]) - 1)
    assert data["holders"][0]["id_number"].startswith(holder["id_number"][:4])
    assert "*" * 10 in data["holders"][0]["id_number"]
    assert data["seal"]["name"] == "潢川县自然资源局不动产登记专用章"
    assert len(data["sm3"]) == 64 and data["agency"] == "潢川县自然资源局"
    page = web.get(f"/v/{token}")
    assert "有效" in page.text and data["serial"] in page.text and data["sm3"] in page.text
    for text in (page.text, repr(data)):
        assert holder["id_number"] not in text and holder.get("phone", "@@") not in text
        assert holder["name"] not in text


def test_unknown_and_malformed_tokens_answer_alike(web: TestApp) -> None:
    unknown = web.get("/v/" + "A" * 32 + ".json", status=404)
    malformed = web.get("/v/not*a*token.json", status=404)
    short = web.get("/v/abc.json", status=404)
    assert unknown.json == malformed.json == short.json
    assert set(unknown.json) == {"error", "message", "fields"}
    html_unknown = web.get("/v/" + "A" * 32, status=404)
    html_malformed = web.get("/v/%3Cscript%3E", status=404)
    assert html_unknown.text.replace("%3Cscript%3E", "").count(
        "未找到"
    ) == html_malformed.text.replace("%3Cscript%3E", "").count("未找到")
    assert "<script>" not in html_malformed.text


def test_revoked_superseded_and_withdrawn(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    site.web().post_json(
        api(site, serial, "/revoke"),
        {"cause": "transfer", "reason": "转移"},
        headers=site.headers("upstream"),
    )
    revoked = web.get(f"/v/{token_of(paid)}.json").json
    assert revoked["status"] == "revoked"
    assert revoked["revocation"]["cause"] == "transfer" and revoked["revocation"]["revoked_on"]
    assert "reason" not in revoked["revocation"]  # free text may be personal
    page = web.get(f"/v/{token_of(paid)}")
    assert "已注销" in page.text and "转移登记" in page.text

    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    new = (
        site.web()
        .post_json(
            api(site, serial, "/reissue"),
            {"reason": "面积有误", "changes": {}},
            headers=site.headers("manager"),
        )
        .json
    )
    superseded = web.get(f"/v/{token_of(paid)}.json").json
    assert superseded["status"] == "superseded" and superseded["replaced_by"] == new["serial"]

    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    site.web().post_json(
        api(site, serial, "/rollback"), {"reason": "坐落有误"}, headers=site.headers("manager")
    )
    assert web.get(f"/v/{token_of(paid)}.json").json["status"] == "withdrawn"


def test_rate_limit_per_address_and_trusted_proxies(site: Site) -> None:
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}.json"
    app = site.other_app(
        **{"certarchive.ratelimit.verify": "3/60", "certarchive.trusted_proxies": "10.0.0.0/8"}
    )
    direct = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.20"})
    for n in range(3):
        direct.get(url, headers={"X-Forwarded-For": f"203.0.113.{n}"})
    refused = direct.get(url, headers={"X-Forwarded-For": "203.0.113.99"}, status=429)
    assert refused.json["error"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    # behind a trusted proxy, each forwarded client has its own allowance
    proxy = TestApp(app, extra_environ={"REMOTE_ADDR": "10.1.2.3"})
    for n in range(3):
        proxy.get(url, headers={"X-Forwarded-For": f"192.0.2.77, 10.9.9.{n}"})
    proxy.get(url, headers={"X-Forwarded-For": "192.0.2.77"}, status=429)
    proxy.get(url, headers={"X-Forwarded-For": "192.0.2.78"}, status=200)
    # a spoofed left-most hop does not buy a new allowance
    proxy.get(url, headers={"X-Forwarded-For": "1.2.3.4, 192.0.2.77"}, status=429)


def upload(web: TestApp, pdf: bytes, status: int | str = 200) -> object:
    return web.post(
        "/verify",
        upload_files=[("file", "cert.pdf", pdf)],
        headers={"Accept": "application/json"},
        status=status,
    )


def holder_pdf(site: Site, serial: str) -> bytes:
    return site.web().get(api(site, serial, "/pdf"), headers=site.headers("bank")).body


def test_upload_a_valid_file(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    pdf = holder_pdf(site, serial)
    result = upload(web, pdf).json
    assert result["result"] == "valid" and result["signature"]["valid"]
    assert result["registry"]["consistent"] and not result["problems"]
    assert result["certificate"]["serial"] == serial
    (signature,) = result["signature"]["signatures"]
    assert result["signature"]["format"] == "standard"
    assert signature["certificate"] == result["certificate"]["signed_with"]
    page = web.post("/verify", upload_files=[("file", "c.pdf", pdf)])
    assert "有效" in page.text and "电子印章签名完好" in page.text
    assert "签名证书" in page.text and signature["certificate"]["serial_number"] in page.text


def test_upload_of_a_file_stripped_of_its_revocation_says_revoked(site: Site, web: TestApp) -> None:
    """The revocation update cut off leaves the issued file: the registry still knows."""
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    site.web().post_json(
        api(site, serial, "/revoke"),
        {"cause": "transfer", "reason": "转移"},
        headers=site.headers("upstream"),
    )
    stamped = holder_pdf(site, serial)
    first = upload(web, stamped).json["signature"]["signatures"][0]
    assert first["reason"] == "签发 / issued"
    issuing_end = stamped.index(b"%%EOF", stamped.index(b"/adbe.pkcs7.detached")) + 6
    stripped = upload(web, stamped[:issuing_end]).json
    assert stripped["signature"]["valid"] and not stripped["revocation_stamp"]
    assert stripped["result"] == "revoked"


def test_upload_revoked_and_superseded_files(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    original = holder_pdf(site, serial)
    site.web().post_json(
        api(site, serial, "/revoke"),
        {"cause": "change", "reason": "变更"},
        headers=site.headers("upstream"),
    )
    stamped = holder_pdf(site, serial)
    assert upload(web, original).json["result"] == "revoked"
    stamped_result = upload(web, stamped).json
    assert stamped_result["result"] == "revoked" and stamped_result["revocation_stamp"]

    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    first = holder_pdf(site, serial)
    manager = site.headers("manager")
    site.web().post_json(api(site, serial, "/rollback"), {"reason": "坐落有误"}, headers=manager)
    site.web().patch_json(
        api(site, serial),
        {"changes": {"location": "潢川县新址9号"}, "comment": "更正"},
        headers=manager,
    )
    site.web().post_json(api(site, serial, "/issue"), {}, headers=manager)
    old = upload(web, first).json
    assert old["result"] == "superseded" and old["registry"]["file_record"]["version"] == 1
    assert upload(web, holder_pdf(site, serial)).json["result"] == "valid"


def test_upload_tampered_or_foreign_files(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    pdf = holder_pdf(site, paid["certificates"][0]["serial"])
    middle = len(pdf) // 2
    tampered = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1 :]
    bad = upload(web, tampered).json
    assert bad["result"] == "invalid" and bad["problems"]
    page = web.post("/verify", upload_files=[("file", "c.pdf", tampered)]).text
    assert "文件无效" in page
    assert "上传的文件不是登记簿中这份证照的有效文件" in page  # the registry card cannot be misread
    assert upload(web, b"hello, not a pdf").json["result"] == "invalid"
    appended = upload(web, pdf + b"\n% appended\n").json
    assert appended["result"] == "invalid"


def test_upload_limits(site: Site) -> None:
    small = TestApp(site.other_app(**{"certarchive.verify_max_bytes": "2048"}))
    big = upload(small, b"%PDF-1.7\n" + b"0" * 200_000, status=413)
    assert big.json["error"] == "payload_too_large"
    missing = small.post(
        "/verify", {"nothing": "here"}, headers={"Accept": "application/json"}, status=422
    )
    assert missing.json["fields"] == {"file": "required"}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/verify",
        "/api/openapi.json",
        "/healthz",
        "/login",
        "/holder",
        "/v/unknown-token-0000000000000000",
    ],
)
def test_security_headers(web: TestApp, path: str) -> None:
    response = web.get(path, expect_errors=True)
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Request-Id"]


def test_home_page(web: TestApp) -> None:
    page = web.get("/")
    assert "不动产登记电子证照服务" in page.text
    for link in ("/holder", "/verify", "/login"):
        assert f'href="{link}"' in page.text
    assert "max-age=3600" in web.get("/static/style.css").headers["Cache-Control"]
