"""Search and lists (issue #17, point 1): by a party's full name and by address words
through keyed indexes (H-5.2.3: no name or address is an index key in clear), by any part
of a serial or case number, sorted newest first, counted, paginated; the dashboard's
counts lead to their lists; filters by state, kind, issue date and case state; bad filters
are named beside their field with the input kept; existing registries get the indexes by
an evolve step."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest

from certarchive.content.catalog import SetIndex
from certarchive.content.evolve import LATEST
from certarchive.services import search
from certarchive.services.existing import CREATED, Line, import_lines
from certarchive.services.issuance import CHINA
from certarchive.services.search_index import (
    PIECE_LENGTHS,
    address_words,
    keys_of,
    number_pieces,
    query_pieces,
    rebuild,
)
from certarchive.services.setup import initialise
from certarchive.validation.existing import validate_existing_case
from certarchive.validation.samples import sample_existing_case
from tests.conftest import UPSTREAM
from tests.test_web_support import Site, site_fixture, web_fixture  # noqa: F401


def staff(site: Site, role: str = "registrar") -> Any:
    web = site.web()
    site.login(web, role)
    return web


def result_serials(page: Any) -> list[str]:
    table = page.text[page.text.index('class="results') :]
    return re.findall(r'data-label="证书编号"><a href="[^"]+">([^<]+)</a>', table)


def total_of(page: Any) -> int:
    return int(re.search(r'id="results">查询结果 <span class="count">(\d+)</span>', page.text)[1])


def test_full_name_finds_holders_and_obligors_and_is_audited(site: Site) -> None:
    doc, paid = site.issued(shape=2)  # a proof: a bank holds, a person is the obligor
    cert = doc["certificates"][0]
    serial = paid["certificates"][0]["serial"]
    web = staff(site)
    obligor = cert["obligors"][0]["name"]
    page = web.get("/staff/search", {"q": obligor})
    assert serial in result_serials(page)
    assert "按全名或坐落地址中的词" in page.text
    assert serial in result_serials(web.get("/staff/search", {"q": cert["holders"][0]["name"]}))
    # a part of a name is not a name: full names only
    assert serial not in web.get("/staff/search", {"q": obligor[:1], "by": "name"}).text
    entries = [e for e in site.entries() if e["action"].startswith("search.")]
    assert entries and all(obligor not in str(e) for e in entries)
    assert [e["detail"]["results"] for e in entries[-3:]] == [1, 1, 0]


def test_address_words_in_any_order(site: Site) -> None:
    doc, paid = site.issued()
    location = doc["certificates"][0]["location"]
    serial = paid["certificates"][0]["serial"]
    words = address_words(location)
    web = staff(site)
    page = web.get("/staff/search", {"q": f"{words[-1]} {words[2]}", "by": "address"})
    assert serial in result_serials(page) and "按坐落地址中的词" in page.text
    assert serial not in web.get("/staff/search", {"q": words[2] + " 9999室"}).text


def test_part_of_a_serial_or_case_number(site: Site) -> None:
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web = staff(site)
    sequence = re.search(r"第(\d+)号", serial)[1]
    page = web.get("/staff/search", {"q": sequence[-5:]})
    assert serial in result_serials(page) and "任意一段" in page.text
    assert serial in result_serials(web.get("/staff/search", {"q": sequence[-4:]}))
    assert serial in result_serials(web.get("/staff/search", {"q": doc["case_no"][-6:]}))
    assert serial in result_serials(web.get("/staff/search", {"q": serial.replace("(", "（")}))
    assert serial in result_serials(web.get("/staff/search", {"q": f"第{sequence}号"}))
    short = web.get("/staff/search", {"q": sequence[-2:]}, status=422)
    assert "至少输入连续3位数字或字母" in short.text and f'value="{sequence[-2:]}"' in short.text


@pytest.mark.parametrize(
    ("part", "pieces"),
    [
        ("第0000123号", {"00001", "00012", "00123"}),
        ("（2026）0123", {"2026", "0123"}),  # full-width brackets, two runs of four
        ("2026-411526", {"41152", "11526"}),
        ("ab-123", {"123"}),
        ("１２３", {"123"}),  # full-width digits count as digits
        ("12-34", set()),
    ],
)
def test_a_number_search_looks_up_its_longest_pieces(part: str, pieces: set[str]) -> None:
    assert query_pieces(part) == pieces


def test_no_index_holds_a_name_or_address_in_clear(site: Site) -> None:
    doc, _paid = site.issued()
    cert = doc["certificates"][0]

    def keys(ctx: Any) -> list[str]:
        catalog = ctx.agency().catalog
        return [key for index in (catalog.party_name, catalog.address) for key in index._sets]

    stored = site.run(keys)
    assert stored and all(re.fullmatch(r"[0-9a-f]{64}", key) for key in stored)
    clear = [cert["holders"][0]["name"], *address_words(cert["location"])]
    assert not set(clear) & set(stored)


def test_lists_are_sorted_counted_paginated_and_filtered(site: Site) -> None:
    for _ in range(search.PAGE_SIZE + 2):
        site.issued()
    web = staff(site)
    first = web.get("/staff/search", {"state": "issued"})
    total = total_of(first)
    assert total >= search.PAGE_SIZE + 2
    serials = result_serials(first)
    assert len(serials) == search.PAGE_SIZE
    assert serials == sorted(serials, reverse=True)  # one issue day: highest serial first
    second = first.click(href=r"page=2")
    assert "页次 2 /" in second.text and not set(serials) & set(result_serials(second))
    assert 'name="state"' in second.text and 'value="issued" selected' in second.text
    proofs = web.get("/staff/search", {"kind": "proof"})
    assert "不动产权证书" not in proofs.text.split('class="results')[1]
    today = datetime.now(CHINA).date().isoformat()
    issued_today = web.get("/staff/search", {"date_from": today, "date_to": today})
    assert total_of(issued_today) >= total
    assert "没有找到" in web.get("/staff/search", {"date_to": "2000-01-01"}).text


def test_dashboard_counts_are_links_to_their_lists(site: Site) -> None:
    _doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    web = site.web()
    token = site.login(web, "registrar")
    web.post(
        f"/staff/certificates/{quote(serial)}/rollback",
        {"reason": "坐落有误", "csrf_token": token, "confirm": "yes"},
    )
    board = web.get("/staff")
    for href in (
        "state=issued",
        "state=revoked",
        "state=archived",
        "state=rolled_back",
        "date_from=",
        "case_state=filed",
    ):
        assert f"/staff/search?{href}" in board.text, href
    rolled = board.click(href=r"state=rolled_back")
    assert serial in result_serials(rolled)
    count = re.search(r'已回退、待重新签发 <span class="count">(\d+)</span>', board.text)[1]
    assert int(count) == total_of(rolled)


def test_bad_filters_are_named_beside_their_field_and_kept(site: Site) -> None:
    web = staff(site)
    page = web.get(
        "/staff/search",
        {"q": "航空路", "date_from": "2026-12-05", "date_to": "2026-12-01", "page": "x"},
        status=422,
    )
    assert "截止日期早于起始日期" in page.text and "须为整数" in page.text
    assert 'value="航空路"' in page.text and 'value="2026-12-05"' in page.text
    shown = re.findall(r'class="field-error"[^>]*>([^<]+)<|role="alert">([^<]+)<', page.text)
    assert shown and not re.search(r"date_to|page|None|\.\.", str(shown))
    web.set_cookie("lang", "en")
    english = web.get("/staff/search", {"date_from": "yesterday"}, status=422)
    assert "Must be a date such as 2026-12-05" in english.text


def test_personal_searches_need_the_permission(site: Site) -> None:
    doc, paid = site.issued()
    web = staff(site, "archivist")  # the desk, without the right to read personal data
    page = web.get("/staff/search", {"q": doc["certificates"][0]["holders"][0]["name"]})
    assert paid["certificates"][0]["serial"] not in page.text and "权限" in page.text


def test_evolve_step_fills_the_new_indexes(site: Site, monkeypatch: Any) -> None:
    """The rebuild spills to a savepoint and sheds the cache every SPILL_EVERY
    certificates (here every one): nothing indexed before a spill is lost."""
    from certarchive.services import search_index

    monkeypatch.setattr(search_index, "SPILL_EVERY", 1)
    doc, paid = site.issued()
    site.issued(1)

    def compare(ctx: Any) -> None:
        agency = ctx.agency()
        catalog = agency.catalog
        before = {
            name: dict(getattr(catalog, name)._sets.items())
            for name in ("kind", "party_name", "address", "number")
        }
        before = {n: {k: set(v) for k, v in sets.items()} for n, sets in before.items()}
        catalog.kind = catalog.party_name = catalog.address = catalog.number = SetIndex()
        rebuild(agency, ctx.keyring)
        after = {n: {k: set(v) for k, v in getattr(catalog, n)._sets.items()} for n in before}
        assert after == before
        cert_id = catalog.serial[paid["certificates"][0]["serial"]]
        assert cert_id in catalog.party_name.members(
            next(iter(keys_of(ctx.keyring, doc["certificates"][0])["party_name"]))
        )

    site.run(compare)


def test_long_lists_are_ordered_like_short_ones(site: Site, monkeypatch: Any) -> None:
    """Past SHORT_LIST hits the order comes from the issue-date index, day by day; it must
    be the order a full sort gives, drafts (no issue date) last, on every page."""
    _doc, paid = site.issued()
    web = site.web()
    token = site.login(web, "registrar")
    serial = paid["certificates"][0]["serial"]
    web.post(
        f"/staff/certificates/{quote(serial)}/rollback",
        {"reason": "单元号有误", "csrf_token": token, "confirm": "yes"},
    )

    def pages(ctx: Any) -> list[list[Any]]:
        agency = ctx.agency()
        hits = {agency: set(agency.certificates)}
        total = len(hits[agency])
        return [
            [cert_id for _a, cert_id in search._newest_first(hits, total, first, 7)]
            for first in range(0, total + 7, 7)
        ]

    short = site.run(pages)
    monkeypatch.setattr(search, "SHORT_LIST", 0)
    assert site.run(pages) == short
    flat = [cert_id for page in short for cert_id in page]
    assert len(flat) == len(set(flat))
    draft = site.run(lambda ctx: ctx.agency().catalog.serial[serial])
    states = site.run(lambda ctx: [ctx.agency().certificates[i].state for i in flat])
    assert states[flat.index(draft)] == "draft"
    first_draft = states.index("draft")
    assert "draft" not in states[:first_draft] and set(states[first_draft:]) == {"draft"}


def test_init_brings_an_older_registry_its_search_indexes(site: Site) -> None:
    """A registry from before the indexes (generation LATEST - 2, no name, address,
    number or kind index) gets them from ``certarchive init``'s evolve step."""
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]

    def make_older(ctx: Any) -> None:
        ctx.registry.generation = LATEST - 2
        catalog = ctx.agency().catalog
        for name in ("kind", "party_name", "address", "number"):
            delattr(catalog, name)

    site.run(make_older)
    created = site.run(initialise, site.runtime.settings.agency)
    assert "evolve step search-indexes" in created
    web = staff(site)
    name = doc["certificates"][0]["holders"][0]["name"]
    assert serial in result_serials(web.get("/staff/search", {"q": name, "by": "name"}))
    assert serial in result_serials(web.get("/staff/search", {"q": serial[-8:-1]}))


def test_init_files_an_older_registrys_numbers_under_five_character_pieces(
    site: Site,
) -> None:
    """A registry whose numbers were filed under three-character pieces only (generation
    LATEST - 1) gets the four- and five-character ones from ``init``; a search looks up
    its longest pieces (issue #18: their sets are ten and a hundred times smaller)."""
    doc, paid = site.issued()
    serial = paid["certificates"][0]["serial"]
    sequence = re.search(r"第(\d+)号", serial)[1]

    def make_older(ctx: Any) -> None:
        ctx.registry.generation = LATEST - 1
        catalog = ctx.agency().catalog
        catalog.number = SetIndex()
        for number in (doc["case_no"], serial):
            for piece in number_pieces(number, PIECE_LENGTHS[0]):
                catalog.number.add(piece, catalog.serial[serial])

    site.run(make_older)
    web = staff(site)
    assert serial not in web.get("/staff/search", {"q": sequence[-5:]}).text  # no hits
    created = site.run(initialise, site.runtime.settings.agency)
    assert "evolve step long-number-pieces" in created
    assert serial in result_serials(web.get("/staff/search", {"q": sequence[-5:]}))
    assert serial in result_serials(web.get("/staff/search", {"q": doc["case_no"][-4:]}))
    filed = set(site.run(lambda ctx: list(ctx.agency().catalog.number.index_keys())))
    for length in PIECE_LENGTHS:
        assert number_pieces(serial, length) | number_pieces(doc["case_no"], length) <= filed


def test_an_imported_paper_serial_is_found_by_a_part_of_it(site: Site) -> None:
    """import-existing keeps the paper serial (``ctx.paper_issues``): the number index
    files it as issuance does."""
    document = sample_existing_case(700017)
    line = Line.of(1, validate_existing_case(document))
    assert site.runtime.run(import_lines, UPSTREAM, [line], True) == {1: CREATED}
    serial = document["certificates"][0]["serial"]
    sequence = re.search(r"第(\d+)号", serial)[1]
    web = staff(site)
    assert serial in result_serials(web.get("/staff/search", {"q": f"第{sequence}号"}))
