"""Every role's menu against its permissions (issue #17): each link a role's menu shows
opens for that role (no 403), auditors see no clerks' pages, backup operators' menus lead
to their page, and each role's menu is exactly what its permissions allow."""

from __future__ import annotations

import re
from typing import Any

import pytest

from certarchive.services.identity import enroll_totp
from certarchive.services.setup import add_user
from certarchive.views.menu import MENU
from tests.test_web_institution import bank_key_id, sign_in
from tests.test_web_support import PASSWORD, USERS, Site, site_fixture  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EXPECTED = {
    "registrar": {"/staff", "/staff/filing", "/staff/corrections", "/staff/reports", "/verify"},
    "archivist": {"/staff", "/staff/filing", "/staff/corrections", "/verify"},
    "admin": {
        "/staff",
        "/staff/filing",
        "/staff/corrections",
        "/staff/audit",
        "/staff/admin",
        "/staff/backups",
        "/verify",
    },
    "auditor": {"/staff/audit", "/verify"},
    "backup_operator": {"/staff/backups", "/verify"},
    "institution": {"/institution", "/verify"},
    "institution_admin": {"/institution", "/institution/clerks", "/verify"},
}
CLERK_PAGES = {"/staff", "/staff/filing", "/staff/corrections", "/staff/search"}


def menu_links(page: Any) -> set[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', page.text, re.S)
    assert nav, "the page has no main menu"
    return set(re.findall(r'<a href="([^"]+)"', nav.group()))


def signed_in(site: Site, role: str) -> Any:
    web = site.web()
    if role.startswith("institution"):
        name = f"menu_{role}"
        site.run(
            add_user, name, "institution", PASSWORD, None, bank_key_id(site), role.endswith("admin")
        )
        sign_in(site, web, name, site.run(enroll_totp, name)["secret"])
    else:
        site.login(web, role)
    return web


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_every_menu_link_opens_for_its_role(site: Site, role: str) -> None:
    web = signed_in(site, role)
    landing = web.get("/staff").maybe_follow()
    assert landing.status_int == 200
    links = menu_links(landing)
    assert links == EXPECTED[role], role
    assert links <= {item.href for item in MENU}
    for href in links:
        opened = web.get(href).maybe_follow()
        assert opened.status_int == 200, (role, href)
        assert menu_links(opened) == links if href != "/verify" else True
    searching = 'action="/staff/search"' in landing.text
    assert searching == (role in ("registrar", "archivist", "admin"))
    if role in ("auditor", "backup_operator") or role.startswith("institution"):
        for page in CLERK_PAGES - {"/staff"}:
            web.get(page, status=403)
    assert USERS  # the staff roles come from the shared set-up
