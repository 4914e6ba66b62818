"""The cache of public verification pages (H-1.3): served again without Pyramid, never stale
after a commit, never across languages or signed-in users, rate limits counted on hits,
and the age and size limits of :class:`certarchive.views.page_cache.PageCache`."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.events import NewRequest
from pyramid.request import Request
from webtest import TestApp

from certarchive.config import ConfigError
from certarchive.i18n import environ_language, locale_negotiator
from certarchive.views.page_cache import PageCache, page_key
from certarchive.views.security import SESSION_COOKIE
from certarchive.views.settings import load_web_settings
from tests.test_web_public import api, token_of
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401


class PyramidRequests:
    """Counts the requests that reach Pyramid's router (a cache hit never does)."""

    def __init__(self, app: Any) -> None:
        self.paths: list[str] = []
        app.registry.registerHandler(self, (NewRequest,))

    def __call__(self, event: NewRequest) -> None:
        self.paths.append(event.request.path_info)


def watched(site: Site, address: str, **settings: str) -> tuple[TestApp, PyramidRequests, str]:
    """An app of its own on the site's registry (so that its cache starts empty), the
    requests that reach its router, and the page of a newly issued certificate."""
    app = site.other_app(**settings)
    _doc, paid = site.issued()
    web = TestApp(app, extra_environ={"REMOTE_ADDR": address})
    return web, PyramidRequests(app), f"/v/{token_of(paid)}"


def test_second_request_is_served_without_pyramid(site: Site) -> None:
    web, seen, url = watched(site, "192.0.2.40")
    first, second = web.get(url), web.get(url)
    assert seen.paths == [url]
    assert second.body == first.body and second.content_type == "text/html"
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert second.headers[header] == first.headers[header]
    assert second.headers["Cache-Control"] == "no-store"
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert web.get(url + ".json").json == web.get(url + ".json").json
    assert seen.paths == [url, url + ".json"]


def test_a_commit_makes_every_cached_page_stale(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}"
    assert web.get(url + ".json").json["status"] == "valid"
    assert "已注销" not in web.get(url).text
    site.web().post_json(
        api(site, paid["certificates"][0]["serial"], "/revoke"),
        {"cause": "transfer", "reason": "转移"},
        headers=site.headers("upstream"),
    )
    assert web.get(url + ".json").json["status"] == "revoked"
    assert "已注销" in web.get(url).text


def test_languages_are_cached_apart(site: Site, web: TestApp) -> None:
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}"
    chinese = web.get(url)
    english = site.web(HTTP_COOKIE="lang=en").get(url)
    assert 'lang="zh-CN"' in chinese.text and 'lang="en"' in english.text
    assert 'lang="zh-CN"' in web.get(url).text
    by_browser = site.web(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9,zh;q=0.5")
    assert 'lang="en"' in by_browser.get(url).text
    assert 'lang="en"' in by_browser.get(url).text  # a hit, under the English key


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "zh"),
        ({"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr-FR,zh-CN;q=0.8,en;q=0.5"}, "zh"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr-FR"}, "zh"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr;q=0.9, " * 40 + "en"}, "en"),  # too long to remember
        ({"HTTP_COOKIE": "lang=en", "HTTP_ACCEPT_LANGUAGE": "zh-CN"}, "en"),  # the cookie wins
        ({"HTTP_COOKIE": "lang=xx; theme=dark", "HTTP_ACCEPT_LANGUAGE": "en"}, "en"),
        ({"HTTP_COOKIE": "theme=dark"}, "zh"),
        ({"HTTP_ACCEPT_LANGUAGE": "en;q=abc"}, "zh"),  # unreadable headers: Chinese
        ({"HTTP_ACCEPT_LANGUAGE": ",,;;"}, "zh"),
        ({"HTTP_ACCEPT_LANGUAGE": "EN"}, "en"),
        ({"HTTP_COOKIE": "lang=;;=", "HTTP_ACCEPT_LANGUAGE": "en"}, "en"),  # no usable cookie
    ],
)
def test_the_language_of_a_request_from_its_environ(
    environ: dict[str, str], language: str
) -> None:
    """The page cache's key and Pyramid's localizer agree: one function decides both."""
    assert environ_language(environ) == language
    assert locale_negotiator(Request.blank("/", environ=environ)) == language


def test_only_anonymous_plain_page_requests_have_a_cache_key() -> None:
    page = "/v/" + "A" * 32
    assert page_key(Request.blank(page).environ) == (page, "zh")
    assert page_key(Request.blank(page + ".json").environ) == (page + ".json", "zh")
    refused = [
        Request.blank(page, method="HEAD"),
        Request.blank(page + "?utm=qr"),
        Request.blank("/v/short"),
        Request.blank(page + "/more"),
        Request.blank(page, headers={"Authorization": "Bearer x"}),
        Request.blank(page, headers={"Cookie": f"{SESSION_COOKIE}=abc"}),
        Request.blank(page, headers={"Cookie": f"lang=en; {SESSION_COOKIE}=abc"}),
    ]
    assert [page_key(request.environ) for request in refused] == [None] * len(refused)


def test_signed_in_requests_always_reach_pyramid(site: Site) -> None:
    """The page header may name a signed-in user: such requests bypass the cache."""
    app = site.other_app()
    seen = PyramidRequests(app)
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}"
    staff = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.42"})
    site.app, original = app, site.app  # log in through the app under test
    try:
        site.login(staff, "registrar")
    finally:
        site.app = original
    anonymous = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.41"})
    cached = anonymous.get(url).body
    seen.paths.clear()
    assert paid["certificates"][0]["serial"] in staff.get(url).text
    assert anonymous.get(url).body == cached
    bearer = anonymous.get(url + ".json", headers=site.headers("bank_read"))
    assert bearer.json["serial"] == paid["certificates"][0]["serial"]
    assert seen.paths == [url, url + ".json"]  # the staff and the bearer request only


def test_query_strings_and_refusals_always_reach_pyramid(site: Site) -> None:
    web, seen, url = watched(site, "192.0.2.43")
    unknown = "/v/" + "B" * 32
    for _ in range(2):
        web.get(url + "?utm=qr")
        web.get(unknown, status=404)
    assert seen.paths == [url, unknown] * 2


def test_rate_limit_counts_cache_hits_and_audits_one_refusal(site: Site) -> None:
    app = site.other_app(**{"certarchive.ratelimit.verify": "3/60"})
    address = "203.0.113.150"
    web = TestApp(app, extra_environ={"REMOTE_ADDR": address})
    _doc, paid = site.issued()
    url = f"/v/{token_of(paid)}.json"
    for _ in range(3):
        web.get(url)
    before = len(site.entries())
    for _ in range(3):
        refused = web.get(url, status=429)
        assert refused.json["error"] == "rate_limited"
    refusals = [e for e in site.entries()[before:] if e.get("client") == address]
    assert [e["result"] for e in refusals] == ["refused"]


def test_cache_off_sends_every_request_to_pyramid(site: Site) -> None:
    web, seen, url = watched(site, "192.0.2.44", **{"certarchive.verify_cache_seconds": "0"})
    web.get(url)
    web.get(url)
    assert seen.paths == [url, url]


def changed(_reads: object) -> bool:
    """What a page was built from has changed (as after any commit, before issue #18)."""
    return False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Page:
    """What :meth:`PageCache.put` reads of a response."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.headers = {"Content-Type": "text/html; charset=UTF-8"}


def test_entries_expire_within_the_age_limit() -> None:
    clock = Clock()
    cache = PageCache(seconds=5, size=10, clock=clock)
    cache.put(("/v/a", "zh"), Page(b"a"), b"tid1")  # type: ignore[arg-type]
    assert cache.get(("/v/a", "zh"), b"tid1", changed).body == b"a"
    assert cache.get(("/v/a", "en"), b"tid1", changed) is None
    clock.now += 10.0  # twice the limit: never served
    assert cache.get(("/v/a", "zh"), b"tid1", changed) is None and len(cache) == 0
    cache.put(("/v/a", "zh"), Page(b"a"), b"tid1")  # type: ignore[arg-type]
    clock.now += 3.7  # under three quarters of the limit: always still fresh
    assert cache.get(("/v/a", "zh"), b"tid1", changed) is not None
    assert cache.get(("/v/a", "zh"), b"tid2", changed) is None and len(cache) == 0


def unchanged(_reads: object) -> bool:
    return True


def test_a_page_past_its_age_is_rebuilt_by_one_request_while_the_others_get_it() -> None:
    """The first request after the age limit rebuilds the page; those that arrive before
    its new page is put are served the old one (still checked against changes); one
    whose rebuild never puts (an error) is dropped another age limit later."""
    clock = Clock()
    cache = PageCache(seconds=5, size=10, clock=clock)
    key = ("/v/a", "zh")
    cache.put(key, Page(b"old"), b"tid1")  # type: ignore[arg-type]
    clock.now += 5.5
    assert cache.get(key, b"tid1", changed) is None  # the rebuilder
    assert cache.get(key, b"tid1", changed).body == b"old"  # the others, meanwhile
    assert cache.get(key, b"tid2", unchanged).body == b"old"  # re-checked after a commit
    assert cache.get(key, b"tid3", changed) is None and len(cache) == 0  # changed: never
    cache.put(key, Page(b"old"), b"tid3")  # type: ignore[arg-type]
    clock.now += 5.5
    assert cache.get(key, b"tid3", changed) is None  # the rebuilder …
    cache.put(key, Page(b"new"), b"tid3")  # type: ignore[arg-type]
    assert cache.get(key, b"tid3", changed).body == b"new"  # … puts the new page
    clock.now += 5.5
    assert cache.get(key, b"tid3", changed) is None  # a rebuilder that fails …
    clock.now += 2.0  # the page lives 3.75 to 5 s: now 7.5 s old
    assert cache.get(key, b"tid3", changed).body == b"new"
    clock.now += 3.0  # … and over twice the age (10.5 s): dropped
    assert cache.get(key, b"tid3", changed) is None and len(cache) == 0


def test_the_least_recently_used_page_goes_first() -> None:
    cache = PageCache(seconds=60, size=2, clock=Clock())
    for name in ("a", "b"):
        cache.put((f"/v/{name}", "zh"), Page(name.encode()), b"t")  # type: ignore[arg-type]
    assert cache.get(("/v/a", "zh"), b"t", changed) is not None
    cache.put(("/v/c", "zh"), Page(b"c"), b"t")  # type: ignore[arg-type]
    assert len(cache) == 2
    assert cache.get(("/v/b", "zh"), b"t", changed) is None
    assert cache.get(("/v/a", "zh"), b"t", changed) is not None
    assert not PageCache(seconds=0, size=2).enabled and not PageCache(seconds=5, size=0).enabled


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("verify_cache_seconds", "-1"),
        ("verify_cache_seconds", "soon"),
        ("verify_cache_seconds", "nan"),
        ("verify_cache_seconds", "inf"),
        ("verify_cache_entries", "1.5"),
        ("verify_cache_entries", "-3"),
    ],
)
def test_bad_cache_settings_name_the_setting(setting: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"certarchive.{setting}"):
        load_web_settings({f"certarchive.{setting}": value})


def test_a_bank_read_and_a_refusal_leave_cached_pages_valid(site: Site) -> None:
    """A bank's read and a refused request write log entries and change nothing else: the
    entries go to their logs' own databases, so the main database's last transaction id
    (what the cache checks) stays, and cached pages stay valid (H-5.2.5, H-5.2.4)."""
    _doc, other = site.issued()
    serial = other["certificates"][0]["serial"]
    web, seen, url = watched(site, "192.0.2.47")
    shared_before = len(site.entries("sharing"))
    refused_before = sum(e["result"] == "refused" for e in site.entries("audit"))
    web.get(url)
    bank = site.web()
    assert bank.get(api(site, serial), headers=site.headers("bank")).json["serial"] == serial
    missing = api(site, "豫(2026)潢川县不动产权第9999999号")
    bank.get(missing, headers=site.headers("bank"), status=404)
    web.get(url)
    assert seen.paths == [url]  # the second page came from the cache
    assert len(site.entries("sharing")) == shared_before + 2
    assert sum(e["result"] == "refused" for e in site.entries("audit")) == refused_before + 1
