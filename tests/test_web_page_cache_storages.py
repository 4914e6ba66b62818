"""The page cache keeps a page while what it shows is unchanged (issue #18 point 4, H-1.3),
on FileStorage, ZEO and RelStorage: a commit elsewhere in the registry (a new case,
another certificate's revocation) keeps it, a change to its own certificate drops it at
once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from webtest import TestApp
from zc.lockfile import LockError

from certarchive.config import load_settings
from certarchive.services import certificates
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.views.page_cache import ReadChecker
from tests.servers import postgres_databases, zeo_server
from tests.test_web_page_cache import PyramidRequests
from tests.test_web_public import api, token_of
from tests.test_web_support import Site, make_site

BACKENDS = ("filestorage", "zeo", "relstorage")


@pytest.fixture(scope="module", params=BACKENDS, name="site")
def storage_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "filestorage":
        built = make_site(folder / "var")
        yield built
        built.runtime.close()
        return
    servers = zeo_server if request.param == "zeo" else postgres_databases
    with servers(folder / request.param) as uris:
        built = make_site(folder / "var", **uris)
        yield built
        built.runtime.close()


def _revoke(site: Site, paid: dict[str, Any]) -> None:
    site.web().post_json(
        api(site, paid["certificates"][0]["serial"], "/revoke"),
        {"cause": "transfer", "reason": "转移"},
        headers=site.headers("upstream"),
    )


def test_a_change_to_one_certificate_drops_its_page_and_no_other(site: Site) -> None:
    app = site.other_app()
    seen = PyramidRequests(app)
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.60"})
    _doc, first = site.issued()
    _doc, second = site.issued()
    a, b = f"/v/{token_of(first)}", f"/v/{token_of(second)}"
    for url in (a, b, a + ".json"):
        web.get(url)
    assert seen.paths == [a, b, a + ".json"]

    site.issued()  # the registry is busy: a new case recorded, paid and issued
    for url in (a, b, a + ".json"):
        web.get(url)
    assert seen.paths == [a, b, a + ".json"], "an unrelated commit dropped a page"

    _revoke(site, first)
    assert web.get(a + ".json").json["status"] == "revoked"  # at once
    assert "已注销" in web.get(a).text
    assert "已注销" not in web.get(b).text
    assert seen.paths == [a, b, a + ".json", a + ".json", a], "B's page was rebuilt"
    assert web.get(a + ".json").json["status"] == "revoked"  # the new page is kept
    assert seen.paths[-1] == a


def _revoke_in(runtime: Runtime, serial: str) -> None:
    def revoke(ctx: Any) -> None:
        certificates.revoke(ctx, certificates.get_certificate(ctx, serial), "transfer", "转移")

    runtime.run(revoke, SYSTEM)


def test_a_change_made_by_another_process_shows(site: Site) -> None:
    """Another process (another server) revokes: on FileStorage no other process can (the
    file is locked; commands go through the admin door, into this process); on ZEO the
    server's invalidation reaches this process within moments; on RelStorage this
    process sees it at its next poll of PostgreSQL, at the latest when the page's age
    limit ends (2 s here)."""
    if site.raw["certarchive.zodb.main"].startswith("file://"):
        with pytest.raises(LockError):
            Runtime.open(load_settings(site.raw))
        return
    app = site.other_app(**{"certarchive.verify_cache_seconds": "2"})
    web = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.61"})
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}.json"
    assert web.get(url).json["status"] == "valid"
    other = Runtime.open(load_settings(site.raw))
    try:
        _revoke_in(other, paid["certificates"][0]["serial"])
    finally:
        other.close()
    deadline = time.monotonic() + 3
    while web.get(url).json["status"] != "revoked":
        assert time.monotonic() < deadline, "the other process's revocation never showed"
        time.sleep(0.05)


def test_a_page_whose_objects_are_gone_is_stale(site: Site) -> None:
    """A cached page whose objects the check cannot load (packed away) is stale, not an
    error."""
    checker = ReadChecker(site.runtime.db)
    try:
        assert checker.unchanged(((b"\x7f" * 8, b"\x00" * 8),)) is False
    finally:
        checker.close()
