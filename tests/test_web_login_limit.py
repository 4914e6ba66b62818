"""#13: failed staff sign-ins are limited per address, besides the per-account lockout, so
that an address spraying passwords over many accounts is stopped (429) before it locks
any account, and other addresses are not affected."""

from __future__ import annotations

from typing import Any

from webtest import TestApp

from certarchive.services.setup import add_user
from tests.test_web_support import PASSWORD, USERS, Site, site_fixture  # noqa: F401


def attempt(web: TestApp, name: str, password: str) -> Any:
    form = web.get("/login").forms[0]
    form["username"] = name
    form["password"] = password
    return form.submit(expect_errors=True)


def test_a_spraying_address_is_stopped_before_an_account_locks(site: Site) -> None:
    app = site.other_app(**{"certarchive.ratelimit.login": "4/900"})
    sprayer = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.7"})
    names = [f"spray_{n}" for n in range(6)]
    for name in names:
        site.run(add_user, name, "registrar", PASSWORD, None)
    for name in names[:4]:  # one wrong password each: the form again
        assert attempt(sprayer, name, "Winter2026!").status_int == 200
    refused = attempt(sprayer, names[4], "Winter2026!")
    assert refused.status_int == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in refused.text
    # refused before the password is checked: even the right one, on any account
    assert attempt(sprayer, names[5], PASSWORD).status_int == 429
    # another address signs in at once, the sprayed accounts included (none is locked)
    office = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.8"})
    assert attempt(office, names[0], PASSWORD).status_int == 302


def test_one_address_cannot_lock_an_account(site: Site) -> None:
    app = site.other_app(**{"certarchive.ratelimit.login": "4/900"})
    attacker = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.9"})
    target = USERS["registrar"]
    statuses = [attempt(attacker, target, f"guess-{n}").status_int for n in range(8)]
    assert statuses == [200] * 4 + [429] * 4
    owner = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.10"})
    assert attempt(owner, target, PASSWORD).status_int == 302


def test_successful_sign_ins_do_not_count(site: Site) -> None:
    app = site.other_app(**{"certarchive.ratelimit.login": "4/900"})
    for _ in range(6):  # a new browser each time, from one office address
        office = TestApp(app, extra_environ={"REMOTE_ADDR": "198.51.100.11"})
        assert attempt(office, USERS["archivist"], PASSWORD).status_int == 302
