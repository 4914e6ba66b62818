"""The admin's page (issue 14): users and API clients, with the command line's rules and
audit entries, every action confirmed and every refusal explained in words."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from webtest import TestApp

from certarchive.services import accounts
from certarchive.services.errors import Conflict
from certarchive.services.permissions import SYSTEM
from tests.conftest import log_entries
from tests.i18n_support import english
from tests.test_web_support import PASSWORD, USERS, Site, site_fixture, web_fixture

__all__ = ["site_fixture", "web_fixture"]
NEW_PASSWORD = "another horse 2027"


_SIGNED_IN: dict[int, tuple[TestApp, str]] = {}


def admin(site: Site) -> tuple[TestApp, str]:
    """One admin session per module: each admin sign-in moves the app's clock a TOTP step
    on (see ``Site.submit_totp``), and a dozen would outlast the pending sign-in's 5 minutes."""
    if id(site) not in _SIGNED_IN:
        web = site.web()
        _SIGNED_IN[id(site)] = (web, site.login(web, "admin"))
    web, token = _SIGNED_IN[id(site)]
    web.set_cookie("lang", "zh")
    return web, token


def signs_in(site: Site, name: str, password: str = PASSWORD) -> bool:
    web = site.web()
    form = web.get("/login").forms[0]
    form["username"], form["password"] = name, password
    return form.submit().status_int == 302


def entries(site: Site, action: str) -> list[dict[str, Any]]:
    return [e for e in site.entries() if e["action"] == action]


def add(web: TestApp, token: str, name: str, role: str = "registrar", **extra: str) -> Any:
    fields = {"name": name, "role": role, "agency": "", "password": PASSWORD}
    fields |= {"password_again": PASSWORD, "csrf_token": token, **extra}
    return web.post("/staff/admin/users", fields, expect_errors=True)


def test_add_a_user_who_then_signs_in(site: Site) -> None:
    web, token = admin(site)
    response = add(web, token, "zhou_clerk")
    assert response.status_int == 302
    assert "用户已添加" in response.follow().text and "zhou_clerk" in response.follow().text
    assert signs_in(site, "zhou_clerk")
    (entry,) = entries(site, "admin.user.add")[-1:]
    assert entry["object"] == "user:zhou_clerk" and entry["actor"] == USERS["admin"]
    assert PASSWORD not in str(site.entries())  # the password is never in the log


def test_refusals_are_explained_and_change_nothing(site: Site) -> None:
    web, token = admin(site)
    differ = add(web, token, "wu_clerk", password_again="something else 1")
    assert differ.status_int == 422 and "两次输入的密码不一致" in differ.text
    short = add(web, token, "wu_clerk", password="short", password_again="short")
    assert short.status_int == 422 and "至少10个字符" in short.text
    bad_name = add(web, token, "空 格")
    assert bad_name.status_int == 422 and "用户信息无效" in bad_name.text
    existing = add(web, token, USERS["registrar"])
    assert existing.status_int == 409 and "用户已存在" in existing.text
    assert "wu_clerk" not in web.get("/staff/admin").text
    # in English too
    web.set_cookie("lang", "en")
    assert "the two passwords differ" in add(web, token, "x1", password_again="nope nope 1").text


def test_a_new_admin_gets_a_totp_secret_shown_once(site: Site) -> None:
    web, token = admin(site)
    response = add(web, token, "feng_admin", role="admin")
    assert response.status_int == 200 and response.headers["Cache-Control"] == "no-store"
    assert "otpauth://totp/" in response.text and "只显示这一次" in response.text
    assert "otpauth://" not in web.get("/staff/admin").text


def test_change_role_ends_the_users_sessions(site: Site) -> None:
    web, token = admin(site)
    add(web, token, "chen_clerk")
    theirs = site.web()
    form = theirs.get("/login").forms[0]
    form["username"], form["password"] = "chen_clerk", PASSWORD
    form.submit()
    assert theirs.get("/staff/filing").status_int == 200
    response = web.post(
        "/staff/admin/users/chen_clerk/role", {"role": "auditor", "csrf_token": token}
    )
    assert "角色已更改" in response.follow().text
    assert theirs.get("/staff/filing", expect_errors=True).status_int in (302, 403)
    entry = entries(site, "admin.user.role")[-1]
    assert entry["detail"]["before"] == "registrar" and entry["detail"]["after"] == "auditor"
    same = web.post(
        "/staff/admin/users/chen_clerk/role",
        {"role": "auditor", "csrf_token": token},
        expect_errors=True,
    )
    assert same.status_int == 409 and "已是此角色" in same.text
    bogus = web.post(
        "/staff/admin/users/chen_clerk/role", {"role": "root", "csrf_token": token}, status=422
    )
    assert "角色无效" in bogus.text


def test_reset_password(site: Site) -> None:
    web, token = admin(site)
    add(web, token, "yang_clerk")
    fields = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "csrf_token": token}
    response = web.post("/staff/admin/users/yang_clerk/password", fields)
    assert "密码已重设" in response.follow().text
    assert not signs_in(site, "yang_clerk", PASSWORD)
    assert signs_in(site, "yang_clerk", NEW_PASSWORD)
    assert entries(site, "admin.user.password")[-1]["object"] == "user:yang_clerk"
    assert NEW_PASSWORD not in str(site.entries())


def test_disable_needs_confirmation_then_stops_sign_in_and_sessions(site: Site) -> None:
    web, token = admin(site)
    add(web, token, "he_clerk")
    theirs = site.web()
    form = theirs.get("/login").forms[0]
    form["username"], form["password"] = "he_clerk", PASSWORD
    form.submit()
    unconfirmed = web.post(
        "/staff/admin/users/he_clerk/disable", {"reason": "离职", "csrf_token": token}, status=422
    )
    assert "请勾选确认框" in unconfirmed.text
    assert signs_in(site, "he_clerk")
    response = web.post(
        "/staff/admin/users/he_clerk/disable",
        {"reason": "离职", "confirm": "yes", "csrf_token": token},
    )
    assert "账户已停用" in response.follow().text
    assert not signs_in(site, "he_clerk")
    assert theirs.get("/staff/filing", expect_errors=True).status_int in (302, 403)
    entry = entries(site, "admin.user.disable")[-1]
    assert entry["detail"]["reason"] == "离职" and entry["detail"]["sessions_ended"] >= 1
    assert entries(site, "login.refused")[-1]["detail"]["step"] == "disabled"
    web.post("/staff/admin/users/he_clerk/enable", {"csrf_token": token})
    assert signs_in(site, "he_clerk")


def test_admins_cannot_lock_everyone_out(site: Site) -> None:
    web, token = admin(site)
    me = USERS["admin"]
    self_disable = web.post(
        f"/staff/admin/users/{me}/disable", {"confirm": "yes", "csrf_token": token}, status=409
    )
    assert "不能停用自己的账户" in self_disable.text
    self_role = web.post(
        f"/staff/admin/users/{me}/role", {"role": "auditor", "csrf_token": token}, status=409
    )
    assert "自己" in self_role.text
    # the command line (actor "system") cannot disable or demote the last enabled admin either
    admins = [u for u in site.run(accounts.user_rows) if u["role"] == "admin" and not u["disabled"]]
    for other in admins:
        if other["name"] != me:
            site.run(accounts.disable_user, other["name"])
    with pytest.raises(Conflict, match="唯一启用的管理员") as refused:
        site.run(accounts.disable_user, me)
    assert "only enabled admin" in english(refused.value.message)
    with pytest.raises(Conflict, match="唯一启用的管理员") as refused:
        site.run(accounts.change_role, me, "auditor")
    assert "only enabled admin cannot be demoted" in english(refused.value.message)


def test_re_enrol_totp(site: Site) -> None:
    web, token = admin(site)
    add(web, token, "lu_clerk")
    web.post("/staff/admin/users/lu_clerk/totp", {"csrf_token": token}, status=422)
    response = web.post("/staff/admin/users/lu_clerk/totp", {"confirm": "yes", "csrf_token": token})
    assert "otpauth://totp/certarchive:lu_clerk" in response.text
    assert entries(site, "admin.user.totp")[-1]["object"] == "user:lu_clerk"


def test_add_a_client_whose_key_is_shown_once_and_works(site: Site) -> None:
    web, token = admin(site)
    response = web.post(
        "/staff/admin/clients",
        [("name", "ops-box"), ("scope", "backups:run"), ("agency", ""), ("csrf_token", token)],
    )
    assert response.headers["Cache-Control"] == "no-store"
    key = re.search(r"ca_[0-9a-f]+\.[\w-]+", response.text)[0]
    assert key not in web.get("/staff/admin").text
    api = site.web()
    assert api.get("/api/v1/backups", headers={"Authorization": f"Bearer {key}"}).status_int == 200
    none = web.post("/staff/admin/clients", {"name": "x-box", "csrf_token": token}, status=422)
    assert "权限范围无效" in none.text


def test_revoke_a_client_with_reason_and_confirmation(site: Site) -> None:
    web, token = admin(site)
    page = web.post(
        "/staff/admin/clients",
        [("name", "old-bank"), ("scope", "certificates:read"), ("csrf_token", token)],
    )
    key = re.search(r"ca_([0-9a-f]+)\.[\w-]+", page.text)
    key_id = key[1]
    url = f"/staff/admin/clients/{key_id}/revoke"
    no_reason = web.post(url, {"confirm": "yes", "csrf_token": token}, status=422)
    assert "请填写吊销原因" in no_reason.text
    no_confirm = web.post(url, {"reason": "合同到期", "csrf_token": token}, status=422)
    assert "请勾选确认框" in no_confirm.text
    headers = {"Authorization": f"Bearer {key[0]}"}
    assert (
        site.web().get("/api/v1/certificates/none", headers=headers, expect_errors=True).status_int
        == 404
    )
    response = web.post(url, {"reason": "合同到期", "confirm": "yes", "csrf_token": token})
    assert "密钥已吊销" in response.follow().text
    site.web().get("/api/v1/certificates/none", headers=headers, status=401)
    entry = entries(site, "admin.client.revoke")[-1]
    assert entry["detail"] == {"key_id": key_id, "reason": "合同到期"}
    again = web.post(url, {"reason": "x", "confirm": "yes", "csrf_token": token}, status=409)
    assert "已吊销" in again.text


def test_csrf_and_roles(site: Site) -> None:
    web, _token = admin(site)
    web.post("/staff/admin/users", {"name": "csrf_less", "role": "auditor"}, status=403)
    assert "csrf_less" not in web.get("/staff/admin").text
    registrar = site.web()
    token = site.login(registrar, "registrar")
    registrar.post(
        "/staff/admin/users/x/disable", {"confirm": "yes", "csrf_token": token}, status=403
    )
    registrar.post("/staff/admin/clients", {"name": "x", "csrf_token": token}, status=403)


def test_the_command_line_does_the_same(cli_run: Any, runtime_of: Any) -> None:
    """``user disable|enable|role|password`` and ``client revoke --reason`` call the same
    service functions: same refusals, same audit entries."""
    assert cli_run("init").exit_code == 0
    assert (
        cli_run(
            "user", "add", "ma", "--role", "registrar", "--password-stdin", input=PASSWORD + "\n"
        ).exit_code
        == 0
    )
    assert cli_run("user", "role", "ma", "auditor").exit_code == 0
    refused = cli_run("user", "role", "ma", "auditor")
    assert refused.exit_code == 1 and "已是此角色" in refused.output
    assert cli_run("user", "disable", "ma", "--reason", "调岗").exit_code == 0
    assert cli_run("user", "disable", "ma").exit_code == 1
    assert cli_run("user", "enable", "ma").exit_code == 0
    short = cli_run("user", "password", "ma", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "至少10个字符" in short.output
    assert (
        cli_run("user", "password", "ma", "--password-stdin", input=NEW_PASSWORD + "\n").exit_code
        == 0
    )
    key_id = (
        json.loads(
            cli_run("client", "add", "bank", "--scope", "certificates:read", "--json").output
        )["key"]
        .split(".")[0]
        .removeprefix("ca_")
    )
    assert cli_run("client", "revoke", key_id, "--reason", "停止合作").exit_code == 0
    runtime = runtime_of()
    try:
        logged = runtime.run(log_entries, SYSTEM)
    finally:
        runtime.close()
    actions = [(e["action"], e["object"]) for e in logged if e["action"].startswith("admin.")]
    for action in ("role", "disable", "enable", "password"):
        assert (f"admin.user.{action}", "user:ma") in actions
    revoke = next(e for e in logged if e["action"] == "admin.client.revoke")
    assert revoke["detail"]["reason"] == "停止合作"
