"""Staff identity: passwords, lockout, the admin's TOTP, sessions and their timeouts,
logout, session fixation, CSRF, cookie flags, and the audit entries of it all."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pyotp
from webtest import TestApp

from certarchive.services.context import utc_now
from certarchive.services.setup import add_user
from tests.test_web_support import PASSWORD, USERS, Site, at, csrf_of, site_fixture, web_fixture  # noqa: F401


def submit_login(web: TestApp, name: str, password: str) -> object:
    form = web.get("/login").forms[0]
    form["username"] = name
    form["password"] = password
    return form.submit()


def session_cookie(response: object) -> str:
    cookies = [c for c in response.headers.getall("Set-Cookie") if c.startswith("ca_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_login_sets_a_new_http_only_session(site: Site, web: TestApp) -> None:
    web.set_cookie("ca_session", "ss_attacker-chosen-value")
    response = submit_login(web, USERS["registrar"], PASSWORD)
    assert response.status_int == 302 and response.location.endswith("/staff")
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "secure" not in cookie.lower()
    assert "attacker-chosen-value" not in cookie
    dashboard = response.follow()
    assert "工作台" in dashboard.text and USERS["registrar"] in dashboard.text
    # a planted session id never becomes a session (fixation)
    other = site.web()
    other.set_cookie("ca_session", "ss_attacker-chosen-value")
    assert other.get("/staff").status_int == 302


def test_secure_cookie_on_https(site: Site) -> None:
    web = site.web(**{"wsgi.url_scheme": "https"})
    response = submit_login(web, USERS["registrar"], PASSWORD)
    assert "; secure" in session_cookie(response).lower()
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unauthenticated_pages_redirect_to_login(web: TestApp) -> None:
    response = web.get("/staff/filing")
    assert response.status_int == 302
    assert "/login?next=%2Fstaff%2Ffiling" in response.location
    assert web.get("/staff/admin").status_int == 302


def test_wrong_password_unknown_user_and_locked_answer_alike(site: Site, web: TestApp) -> None:
    name = "lock_me"
    site.run(add_user, name, "registrar", PASSWORD, None)
    unknown = submit_login(web, "no_such_user", "whatever-password")
    wrong = submit_login(web, name, "wrong-password-1")
    assert unknown.status_int == wrong.status_int == 200
    message = "用户名或密码错误"
    assert message in unknown.text and message in wrong.text
    for _ in range(4):
        submit_login(web, name, "wrong-password-1")
    locked = submit_login(web, name, PASSWORD)  # the right password, but locked now
    assert locked.status_int == 200 and message in locked.text
    assert "ca_session=" not in " ".join(locked.headers.getall("Set-Cookie"))
    # still locked 14 minutes later, open again after 15
    site.set_clock(at(utc_now() + timedelta(minutes=14)))
    assert submit_login(web, name, PASSWORD).status_int == 200
    site.set_clock(at(utc_now() + timedelta(minutes=16)))
    assert submit_login(web, name, PASSWORD).status_int == 302
    site.reset_clock()
    entries = [e for e in site.entries() if e["object"] in (f"user:{name}", "user:(unknown)")]
    actions = [e["action"] for e in entries]
    assert actions.count("login.failed") >= 6 and "login.refused" in actions
    assert actions[-1] == "login"
    locked_entry = next(e for e in entries if e.get("detail", {}).get("locked_until"))
    assert locked_entry["result"] == "refused"
    # the unknown user's typed name and any password never reach the log
    text = repr(site.entries())
    assert "no_such_user" not in text and "wrong-password-1" not in text


def test_admin_needs_totp(site: Site, web: TestApp) -> None:
    response = submit_login(web, USERS["admin"], PASSWORD)
    assert response.location.endswith("/login/totp")
    # a password alone is no session
    assert web.get("/staff").status_int == 302
    page = response.follow()
    wrong = "000000" if pyotp.TOTP(site.totp_secret).now() != "000000" else "111111"
    refused = site.submit_totp(page.forms[0], wrong)
    assert refused.status_int == 200 and "动态口令不正确" in refused.text
    done = site.submit_totp(refused.forms[0])
    assert done.status_int == 302
    admin_page = web.get("/staff/admin")
    assert "系统管理" in admin_page.text
    # a code is accepted once only: the same code at the same moment again is refused
    moment, used = site.last_totp
    again = site.web()
    page = submit_login(again, USERS["admin"], PASSWORD).follow()
    form = page.forms[0]
    form["code"] = used
    site.set_clock(at(moment))
    replay = form.submit()
    site.reset_clock()
    assert replay.status_int == 200 and "动态口令不正确" in replay.text


def test_admin_without_totp_cannot_sign_in(site: Site, web: TestApp) -> None:
    site.run(add_user, "admin_no_totp", "admin", PASSWORD, None)
    response = submit_login(web, "admin_no_totp", PASSWORD)
    assert response.status_int == 200 and "certarchive user totp" in response.text


def test_idle_timeout(site: Site, web: TestApp) -> None:
    site.login(web, "registrar")
    start = utc_now()
    site.set_clock(at(start + timedelta(minutes=14)))
    assert web.get("/staff").status_int == 200
    site.set_clock(at(start + timedelta(minutes=14 + 16)))
    response = web.get("/staff")
    assert response.status_int == 302 and "/login" in response.location


def test_absolute_timeout(site: Site, web: TestApp) -> None:
    site.login(web, "registrar")
    start = utc_now()
    minutes = 0
    while minutes < 8 * 60 - 14:
        minutes += 14
        site.set_clock(at(start + timedelta(minutes=minutes)))
        assert web.get("/staff").status_int == 200, minutes
    site.set_clock(at(start + timedelta(hours=8, minutes=1)))
    assert web.get("/staff").status_int == 302


def test_logout_ends_the_session_on_the_server(site: Site, web: TestApp) -> None:
    token = site.login(web, "registrar")
    cookie = web.cookies["ca_session"]
    response = web.post("/logout", {"csrf_token": token})
    assert response.status_int == 302
    replay = site.web()
    replay.set_cookie("ca_session", cookie)
    assert replay.get("/staff").status_int == 302
    assert replay.get("/api/v1/filing-queue", status=401).json["error"] == "unauthorized"
    assert any(e["action"] == "logout" for e in site.entries())


def test_csrf_refused_without_or_with_a_wrong_token(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    serial = quote(paid["certificates"][0]["serial"])
    token = site.login(web, "registrar")
    url = f"/staff/certificates/{serial}/rollback"
    missing = web.post(url, {"reason": "x"}, status=403)
    assert "CSRF" in missing.text or "表单已过期" in missing.text
    web.post(url, {"reason": "x", "csrf_token": "forged"}, status=403)
    # the JSON API with the session cookie needs the header too
    api = f"/api/v1/certificates/{serial}/rollback"
    web.post_json(api, {"reason": "x"}, status=403)
    assert (
        web.post_json(api, {"reason": "坐落有误"}, headers={"X-CSRF-Token": token}).json["state"]
        == "draft"
    )
    # the refusals were audited although their transactions were aborted
    refused = [e for e in site.entries() if e["action"].startswith("refused.")]
    assert any(e["detail"]["code"] == "csrf" for e in refused)


def test_login_form_needs_its_token(web: TestApp) -> None:
    response = web.post(
        "/login", {"username": USERS["registrar"], "password": PASSWORD}, status=403
    )
    assert "ca_session" not in " ".join(response.headers.getall("Set-Cookie"))


def test_refused_requests_are_audited(site: Site) -> None:
    before = len(site.entries())
    site.web().post_json("/api/v1/cases", site.document(), headers=site.headers("bank"), status=403)
    site.web().get("/api/v1/filing-queue", status=401)
    new = site.entries()[before:]
    forbidden = [e for e in new if e["action"] == "refused.api.cases"]
    assert forbidden and forbidden[0]["result"] == "refused"
    assert forbidden[0]["actor"] == "client:bank" and forbidden[0]["detail"]["status"] == 403
    assert any(e["action"] == "refused.api.filing_queue" and e["actor"] == "anonymous" for e in new)


def test_backup_operator_lands_on_the_backup_page_and_nothing_else(
    site: Site, web: TestApp
) -> None:
    response = submit_login(web, USERS["backup_operator"], PASSWORD).follow()
    assert "数据备份" in response.text and "完整导出" in response.text
    assert "/staff/filing" not in response.text  # no links to pages the role may not open
    web.get("/staff/filing", status=403)


def test_csrf_token_is_per_session(site: Site) -> None:
    one, two = site.web(), site.web()
    site.login(one, "registrar")
    site.login(two, "registrar")
    assert csrf_of(one.get("/staff")) != csrf_of(two.get("/staff"))
