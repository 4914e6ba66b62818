"""Institutions' clerks (因特网从业端, H-N2, Z-8, H-4.4; issue #17 point 6): sign-in with
password and TOTP, look-up by serial, unit number or ID number with a stated purpose,
masked as the institution's scopes allow, download; every look-up and download in the
sharing log under the clerk's name; the institution's admin adds and disables clerks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
from webtest import TestApp

from certarchive.services import institution
from certarchive.services.context import utc_now
from certarchive.services.errors import Invalid, NotFound
from certarchive.services.identity import enroll_totp
from certarchive.services.setup import add_client, add_user
from tests.i18n_support import both_text
from tests.test_web_support import PASSWORD, Site, csrf_of, site_fixture  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def bank_key_id(site: Site, name: str = "bank") -> str:
    return site.runtime.run(
        lambda ctx: next(c.key_id for c in ctx.registry.clients.values() if c.name == name), None
    )


def make_clerk(site: Site, name: str, client: str = "bank", admin: bool = False) -> str:
    """A clerk of ``client``; returns its TOTP secret."""
    site.run(add_user, name, "institution", PASSWORD, None, bank_key_id(site, client), admin)
    return site.run(enroll_totp, name)["secret"]


def sign_in(site: Site, web: TestApp, name: str, secret: str) -> Any:
    form = web.get("/login").forms[0]
    form["username"], form["password"] = name, PASSWORD
    pending = form.submit()
    assert pending.location.endswith("/login/totp")
    totp_form = pending.follow().forms[0]
    site.totp_steps += 1
    moment = utc_now() + timedelta(seconds=30 * site.totp_steps)
    previous = site.app.registry.clock
    site.app.registry.clock = lambda: moment
    try:
        totp_form["code"] = pyotp.TOTP(secret).at(moment)
        landed = totp_form.submit()
    finally:
        site.app.registry.clock = previous
    assert landed.status_int == 302
    return landed.follow().follow()  # /staff -> /institution


@pytest.fixture(scope="module", name="clerk")
def clerk_fixture(site: Site) -> dict[str, str]:
    return {"name": "bank_zhang", "secret": make_clerk(site, "bank_zhang", admin=True)}


def look_up(web: TestApp, q: str, purpose: str = "抵押贷款审查", status: int = 200) -> Any:
    page = web.get("/institution")
    return web.post(
        "/institution", {"q": q, "purpose": purpose, "csrf_token": csrf_of(page)}, status=status
    )


def test_clerk_looks_up_three_ways_sees_masked_data_and_downloads(
    site: Site, clerk: dict[str, str]
) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    holder = doc["certificates"][0]["holders"][0]
    unit = doc["certificates"][0]["unit_number"]
    web = site.web()
    landing = sign_in(site, web, clerk["name"], clerk["secret"])
    assert "证照查询" in landing.text and "机构用户" in landing.text
    assert "/staff/filing" not in landing.text and "/staff/audit" not in landing.text
    before = len(site.entries("sharing"))
    for query, mode in (
        (serial, "serial"),
        (unit, "unit_number"),
        (holder["id_number"], "holder_id"),
    ):
        found = look_up(web, query)
        assert serial in found.text, mode
        assert holder["id_number"] not in found.text.replace(f'value="{holder["id_number"]}"', "")
        assert holder["name"] not in found.text  # masked: the bank has no personal-data scope
    downloaded = web.post(
        f"/institution/certificates/{quote(serial)}/pdf",
        {"purpose": "抵押贷款审查", "csrf_token": csrf_of(found)},
    )
    assert downloaded.content_type == "application/pdf" and downloaded.body.startswith(b"%PDF")
    shared = site.entries("sharing")[before:]
    lookups = [e for e in shared if e["action"] == "share.lookup"]
    assert [e["detail"]["by"] for e in lookups] == ["serial", "unit_number", "holder_id"]
    assert all(e["actor"] == "bank_zhang" and e["role"] == "institution" for e in shared)
    assert all(e["detail"]["purpose"] == "抵押贷款审查" for e in shared)
    assert all(e["detail"]["results"] == [serial] for e in lookups)
    assert lookups[2]["object"] == "catalog:holder"
    assert holder["id_number"] not in str(shared)
    (fetched,) = [e for e in shared if e["action"] == "share.download"]
    assert fetched["object"] == f"certificate:{serial}" and fetched["detail"]["size"] == len(
        downloaded.body
    )


def test_bad_look_ups_are_named_inline_and_not_logged(site: Site, clerk: dict[str, str]) -> None:
    web = site.web()
    sign_in(site, web, clerk["name"], clerk["secret"])
    before = len(site.entries("sharing"))
    no_purpose = look_up(web, "11010519491231002X", purpose="", status=422)
    assert "请说明用途" in no_purpose.text and 'value="11010519491231002X"' in no_purpose.text
    junk = look_up(web, "<script>", status=422)
    assert "请输入证书编号" in junk.text and "<script>" not in junk.text
    assert len(site.entries("sharing")) == before
    nothing = look_up(web, "11010519491231002X")
    assert "没有找到相符的证照" in nothing.text
    assert site.entries("sharing")[-1]["detail"]["results"] == []
    token = csrf_of(nothing)
    web.post("/institution/certificates/x/pdf", {"purpose": "", "csrf_token": token}, status=422)
    web.post(
        "/institution/certificates/x/pdf", {"purpose": "贷后管理", "csrf_token": token}, status=404
    )
    web.post(
        "/institution/certificates/x/exe", {"purpose": "贷后管理", "csrf_token": token}, status=404
    )
    web.post("/institution", {"q": "x", "purpose": "贷后管理"}, status=403)  # no CSRF token


def test_clerks_stay_on_their_pages(site: Site, clerk: dict[str, str]) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web = site.web()
    sign_in(site, web, clerk["name"], clerk["secret"])
    for url in (
        "/staff/search?q=x",
        "/staff/filing",
        f"/staff/certificates/{quote(serial)}",
        "/staff/audit",
    ):
        web.get(url, status=403)
    web.get(f"/api/v1/certificates/{quote(serial)}", status=403)


def test_read_only_institution_sees_no_download_and_cannot_download(site: Site) -> None:
    secret = make_clerk(site, "reader_li", client="bank_read")
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web = site.web()
    sign_in(site, web, "reader_li", secret)
    found = look_up(web, serial)
    assert (
        serial in found.text
        and "贵机构的权限不含下载" in found.text
        and "下载 PDF" not in found.text
    )
    web.post(
        f"/institution/certificates/{quote(serial)}/pdf",
        {"purpose": "贷后管理", "csrf_token": csrf_of(found)},
        status=403,
    )
    web.get("/institution/clerks", status=403)  # not the institution's admin
    refused = site.entries("sharing")[-1]  # refused calls of a clerk are recorded too
    assert refused["actor"] == "reader_li" and refused["result"] == "refused"
    assert refused["detail"]["status"] == 403


def test_institution_admin_adds_and_disables_its_own_clerks(
    site: Site, clerk: dict[str, str]
) -> None:
    web = site.web()
    sign_in(site, web, clerk["name"], clerk["secret"])
    page = web.get("/institution/clerks")
    token = csrf_of(page)
    short = web.post(
        "/institution/clerks",
        {"name": "bank_wu", "password": "short", "password_again": "short", "csrf_token": token},
        status=422,
    )
    assert "密码至少10个字符" in short.text and 'value="bank_wu"' in short.text
    added = web.post(
        "/institution/clerks",
        {"name": "bank_wu", "password": PASSWORD, "password_again": PASSWORD, "csrf_token": token},
    )
    assert "otpauth://" in added.text and "bank_wu" in added.text
    secret = pyotp.parse_uri(added.html.select_one(".secret-value").text.strip()).secret
    other = site.web()
    sign_in(site, other, "bank_wu", secret)
    web.post("/institution/clerks/bank_wu/disable", {"reason": "离职", "csrf_token": token})
    other.get("/institution", status=302)  # signed out at once
    assert "已停用" in web.get("/institution/clerks").text
    # a staff user or another institution's clerk is not this admin's to touch
    web.post("/institution/clerks/li_registrar/disable", {"csrf_token": token}, status=404)
    web.post(f"/institution/clerks/{clerk['name']}/disable", {"csrf_token": token}, status=409)
    web.post("/institution/clerks/bank_wu/enable", {"csrf_token": token})
    assert any(
        e["action"] == "admin.user.disable" and e["actor"] == clerk["name"] for e in site.entries()
    )


def test_a_revoked_institution_locks_its_clerks_out(site: Site) -> None:
    created = site.run(add_client, "small-bank", ["certificates:read"])
    key_id = created["key"][3:].split(".")[0]
    site.run(add_user, "small_ma", "institution", PASSWORD, None, key_id)
    secret = site.run(enroll_totp, "small_ma")["secret"]
    web = site.web()
    sign_in(site, web, "small_ma", secret)
    from certarchive.services.identity import revoke_client

    site.run(revoke_client, key_id)
    web.get("/institution", status=302)


def test_only_sharing_clients_have_clerks(site: Site) -> None:
    with pytest.raises(Invalid) as refused:
        site.run(add_user, "up_x", "institution", PASSWORD, None, bank_key_id(site, "upstream"))
    assert "certificates:read" in both_text(refused.value.fields["institution"])
    with pytest.raises(Invalid):
        site.run(add_user, "up_y", "institution", PASSWORD, None, "no-such-client")
    with pytest.raises(Invalid):
        site.run(add_user, "up_z", "registrar", PASSWORD, None, bank_key_id(site))
    with pytest.raises(NotFound):
        site.run(institution.look_up, "x", "y")  # the system is no institution's clerk


def test_a_clerk_without_totp_cannot_sign_in(site: Site) -> None:
    site.run(add_user, "bank_no_totp", "institution", PASSWORD, None, bank_key_id(site))
    form = site.web().get("/login").forms[0]
    form["username"], form["password"] = "bank_no_totp", PASSWORD
    refused = form.submit()
    assert refused.status_int == 200 and "机构用户须先设置动态口令" in refused.text
    assert site.entries()[-1]["detail"]["step"] == "totp_not_enrolled"
