"""Malformed input answers a 4xx in the contract's error shape and changes nothing (#13):
undecodable URLs, JSON beyond the reader's limits, lone surrogates and control
characters, wrong types, form bodies that cannot be parsed, unsafe ``next=`` targets."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from webob import Request

from tests.i18n_support import english
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401

ERROR_KEYS = {"error", "message", "fields"}


def last_transaction(site: Site) -> bytes:
    return site.runtime.db.lastTransaction()


def raw_post(site: Site, path: str, body: bytes, content_type: str, **headers: str) -> Any:
    """A POST exactly as given (webtest would re-encode a malformed body or URL)."""
    request = Request.blank(path, method="POST", body=body, headers=headers)
    request.content_type = content_type
    request.environ["REMOTE_ADDR"] = "192.0.2.10"
    return request.get_response(site.app)


def assert_refused(response: Any, status: int, language: str = "zh") -> dict[str, Any]:
    """The contract's refusal, its message in the request's language (Chinese unless the
    request's Accept-Language asked for English)."""
    assert response.status_int == status, response.text[:300]
    body = json.loads(response.body)
    assert set(body) == ERROR_KEYS
    texts = [body["message"], *body["fields"].values()]
    if language == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", text) for text in texts), body
    else:
        assert not any(re.search(r"[\u4e00-\u9fff]", text) for text in texts), body
    return body


@pytest.mark.parametrize("url", ["/v/%ff%fe", "/api/v1/cases/%c3", "/login?next=%ff"])
def test_an_undecodable_url_is_400_with_the_security_headers(site: Site, url: str) -> None:
    response = Request.blank(url).get_response(site.app)
    assert_refused(response, 400)
    response = Request.blank(url, headers={"Accept-Language": "en"}).get_response(site.app)
    body = assert_refused(response, 400, "en")
    assert "UTF-8" in body["message"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_number_of_5000_digits_is_400_and_pays_nothing(site: Site) -> None:
    doc = site.document()
    site.record(doc)
    before = last_transaction(site)
    body = (
        f'{{"receipt_no": "R1", "amount": {"9" * 5000}, "paid_at": "{doc["recorded_at"]}"}}'
    ).encode()
    response = raw_post(
        site,
        f"/api/v1/cases/{doc['case_no']}/payment",
        body,
        "application/json",
        Authorization=site.headers("upstream")["Authorization"],
    )
    assert "40" in assert_refused(response, 400)["message"]
    assert last_transaction(site) == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":' * 40 + b"1" + b"}" * 40,  # deeper than 32
        b"[" * 100_000 + b"]" * 100_000,  # deep enough for a RecursionError
        b'{"amount": NaN}',
        b'{"amount": 1e999}',
        b'{"receipt_no": "\xff"}',  # not UTF-8
        b'{"receipt_no": ',
    ],
)
def test_json_beyond_the_limits_is_400(site: Site, body: bytes) -> None:
    doc = site.document()
    site.record(doc)
    before = last_transaction(site)
    response = raw_post(
        site,
        f"/api/v1/cases/{doc['case_no']}/payment",
        body,
        "application/json",
        Authorization=site.headers("upstream")["Authorization"],
    )
    assert_refused(response, 400)
    assert last_transaction(site) == before


@pytest.mark.parametrize(
    ("text", "words"),
    [("\ud800", "surrogate"), ("张\x00三", "control"), ("a\x1bb", "control"), ("x\x85", "control")],
)
def test_a_lone_surrogate_or_control_character_in_the_case_is_refused(
    site: Site, text: str, words: str
) -> None:
    doc = site.document()
    doc["certificates"][0]["holders"][0]["name"] = text
    before = last_transaction(site)
    response = raw_post(
        site,
        "/api/v1/cases",
        json.dumps(doc).encode(),  # ensure_ascii: the surrogate travels as \ud800
        "application/json",
        Authorization=site.headers("upstream")["Authorization"],
        **{"Accept-Language": "en"},
    )
    body = assert_refused(response, 422, "en")
    assert list(body["fields"]) == ["certificates[0].holders[0].name"]
    assert words in body["message"]
    assert last_transaction(site) == before
    missing = site.web().get(
        f"/api/v1/cases/{doc['case_no']}", headers=site.headers("upstream"), expect_errors=True
    )
    assert missing.status_int in (403, 404)


def test_the_case_validator_refuses_a_surrogate_built_in_python() -> None:
    """Callers that skip the JSON reader (the demo data, services) meet the same rule."""
    from certarchive.validation.case import CaseInvalid, validate_case
    from certarchive.validation.samples import sample_case

    doc = sample_case(1)
    doc["certificates"][0]["location"] = "春申街道\udc80"
    with pytest.raises(CaseInvalid) as refused:
        validate_case(doc)
    assert "surrogate" in english(refused.value.fields["certificates[0].location"])


@pytest.mark.parametrize("cause", [{}, [], ["transfer"], {"transfer": 1}, 1, None])
def test_revoke_with_a_cause_that_is_not_a_string_is_422(site: Site, cause: Any) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    before = last_transaction(site)
    response = site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/revoke",
        {"cause": cause, "reason": "测试"},
        headers=site.headers("upstream"),
        expect_errors=True,
    )
    assert assert_refused(response, 422)["fields"].keys() == {"cause"}
    assert last_transaction(site) == before


@pytest.mark.parametrize("reason", ["", "   ", "\ud800", "a\x07b", "x" * 501, 5, ["r"]])
def test_revoke_with_a_bad_reason_is_refused(site: Site, reason: Any) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    before = last_transaction(site)
    response = raw_post(
        site,
        f"/api/v1/certificates/{quote(serial)}/revoke",
        json.dumps({"cause": "correction", "reason": reason}).encode(),
        "application/json",
        Authorization=site.headers("upstream")["Authorization"],
    )
    body = assert_refused(response, 422)
    assert "reason" in body["fields"]
    assert last_transaction(site) == before


@pytest.mark.parametrize("event", [{}, [], ["issued"], 3])
def test_a_paper_event_that_is_not_a_string_is_422(site: Site, event: Any) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    before = last_transaction(site)
    response = site.web().post_json(
        f"/api/v1/certificates/{quote(serial)}/paper",
        {"event": event},
        headers=site.headers("manager"),
        expect_errors=True,
    )
    assert assert_refused(response, 422)["fields"].keys() == {"event"}
    assert last_transaction(site) == before


@pytest.mark.parametrize(
    "path",
    ["/login", "/verify", "/login/totp", "/holder", "/api/v1/cases/2026-411526-000001/documents"],
)
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_form_without_a_boundary_is_400(site: Site, path: str, content_type: str) -> None:
    response = raw_post(
        site,
        path,
        b"--x\r\n",
        content_type,
        Accept="application/json",
        Authorization=site.headers("upstream")["Authorization"],
    )
    assert response.status_int == 400, response.text[:300]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_form_without_a_boundary_on_a_browser_page_is_an_html_400(site: Site) -> None:
    response = raw_post(site, "/login", b"x", "multipart/form-data", Accept="text/html")
    assert response.status_int == 400
    assert "无法解析" in response.text


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/a\r\nSet-Cookie: x=1", "/"),
        ("/a%0d%0ab", "/a%0d%0ab"),  # still percent-encoded: harmless
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/staff/certificates/豫(2026)潢川县不动产权第0000001号", None),
        ("/\u0100\u4e2d", "/%C4%80%E4%B8%AD"),
    ],
)
def test_next_is_followed_only_to_a_safe_local_path(
    site: Site, target: str, location: str | None
) -> None:
    response = site.web().get("/language/en", params={"next": target})
    assert response.status_int == 302
    got = response.headers["Location"].removeprefix("http://localhost")
    assert got.isascii() and "\r" not in got and "\n" not in got
    if location is None:
        assert got.startswith("/staff/certificates/%E8%B1%AB(2026)")
    else:
        assert got == location


def test_the_login_form_follows_a_safe_next(site: Site) -> None:
    web = site.web()
    page = web.get("/login", params={"next": "/staff/中\r\n"})
    form = page.forms[0]
    assert form["next"].value == "/staff"
