"""Finding and listing certificates: by any part of a case number or serial, a unit
number, a party's ID number or full name, words of the address; filtered by state, kind,
issue date, case state and agency; newest first, counted, one page at a time.

Every filter is a set of certificate ids read from an index (:mod:`..content.catalog`),
and the sets are intersected, so a query costs what its indexes hold, not what the
registry holds; only the page shown loads its certificates.  Searching by ID number, name
or address reads personal data: it needs ``certificate.read_personal`` and is audited
(with the mode and the count, never the words searched).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any

from BTrees.OOBTree import OOTreeSet, intersection

from certarchive.content.agency import Agency
from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.schemas.bodies import SearchQuery
from certarchive.schemas.errors import validated
from certarchive.services.context import Context
from certarchive.services.errors import Invalid
from certarchive.services.issuance import CHINA
from certarchive.services.search_index import (
    address_key,
    address_words,
    name_key,
    query_pieces,
)
from certarchive.validation.identifiers import (
    is_valid_credit_code,
    is_valid_resident_id,
    is_valid_unit_number,
    normalize,
)
from certarchive.workflow.definitions import CASE, CERTIFICATE

PAGE_SIZE = 25
FEW_CANDIDATES = 64  # number search: candidates checked one by one below this
SHORT_LIST = 500  # up to this many hits, ordering simply loads them all
PERSONAL_MODES = ("id_number", "name", "address", "name_or_address")
NUMBER_PART = re.compile(r"[0-9A-Za-z()（）\-]*[0-9][0-9A-Za-z()（）\-]*")
#: The shapes the institution clerks' look-up recognises (services/institution.py).
UNIT_NUMBER = re.compile(r"[0-9A-Za-z]{28}")
SERIAL_HINT = re.compile(r"第\s*\d+\s*号")
SERIAL_PART = re.compile(r"第\s*\d|不动产(权|证明)|[(（]\d{4}[)）]")
QUERY_INVALID = _("查询条件有误")
SHORT_NUMBER = _("按编号查找请至少输入连续3位数字或字母")
#: Pseudo-state: drafts that keep a serial, i.e. rolled back and waiting to be issued again.
ROLLED_BACK = "rolled_back"

Hit = tuple[Agency, str]


def search(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """One page of the certificates that match ``params`` (the search form's fields)."""
    ctx.require("case.read")
    query = validated(SearchQuery, params, QUERY_INVALID)
    agencies = [a for a in ctx.visible_agencies() if query.agency is None or a.name == query.agency]
    mode = _mode(query.q, query.by)
    answer: dict[str, Any] = {
        "mode": mode,
        "total": 0,
        "page": query.page,
        "pages": 0,
        "page_size": PAGE_SIZE,
        "certificates": [],
    }
    if mode in PERSONAL_MODES and "certificate.read_personal" not in ctx.actor.permissions:
        answer["refused"] = True
        return answer
    if not query.q and not _filtered(query):
        answer["empty_query"] = True
        return answer
    hits = {agency: _matches(ctx, agency, query, mode) for agency in agencies}
    total = sum(len(ids) for ids in hits.values())
    if mode in PERSONAL_MODES:
        ctx.audit(f"search.{mode}", "catalog:search", detail={"results": total})
    answer["total"] = total
    answer["pages"] = -(-total // PAGE_SIZE)
    page = _newest_first(hits, total, (query.page - 1) * PAGE_SIZE, PAGE_SIZE)
    answer["certificates"] = [row(agency, cert_id) for agency, cert_id in page]
    return answer


def _filtered(query: SearchQuery) -> bool:
    return any((query.state, query.kind, query.case_state, query.date_from, query.date_to))


def _mode(text: str, by: str) -> str | None:
    """What the words are: ``by`` when the reader chose, else guessed from their shape."""
    if not text:
        return None
    if by != "auto":
        return by
    compact = normalize(text)
    if is_valid_resident_id(compact) or is_valid_credit_code(compact):
        return "id_number"
    if is_valid_unit_number(compact):
        return "unit_number"
    if NUMBER_PART.fullmatch(text) or SERIAL_PART.search(text):
        return "number"
    return "name_or_address"


def _matches(ctx: Context, agency: Agency, query: SearchQuery, mode: str | None) -> set[str]:
    catalog = agency.catalog
    sets: list[set[str]] = []
    if mode is not None:
        sets.append(_by_words(ctx, agency, query.q, mode))
    if query.state == ROLLED_BACK:
        sets.append(rolled_back_drafts(agency))
    elif query.state:
        sets.append(catalog.state.members(query.state))
    if query.kind:
        sets.append(catalog.kind.members(query.kind))
    if query.case_state:
        sets.append(
            {
                cert_id
                for case_no in catalog.case_state.get(query.case_state)
                for cert_id in agency.cases[case_no].certificate_ids
            }
        )
    if query.date_from or query.date_to:
        lo = query.date_from.isoformat() if query.date_from else None
        hi = query.date_to.isoformat() if query.date_to else None
        sets.append(set(catalog.issue_date.range(lo, hi)))
    if not sets:
        return set()
    sets.sort(key=len)
    found = sets[0]
    for other in sets[1:]:
        found = found & other
    return found


def _by_words(ctx: Context, agency: Agency, text: str, mode: str) -> set[str]:
    catalog = agency.catalog
    if mode == "number":
        return _number_part(agency, text)
    if mode == "unit_number":
        return catalog.unit_number.members(normalize(text))
    if mode == "id_number":
        return catalog.holder.members(ctx.keyring.blind_index(normalize(text)))
    by_name = catalog.party_name.members(name_key(ctx.keyring, text))
    if mode == "name":
        return by_name
    words = address_words(text)
    found = catalog.address.members(address_key(ctx.keyring, words[0])) if words else set()
    for word in words[1:]:
        found &= catalog.address.members(address_key(ctx.keyring, word))
    return found | by_name if mode == "name_or_address" else found


def _number_part(agency: Agency, text: str) -> set[str]:
    """Certificates whose serial, or whose case's number, contains ``text`` (brackets in
    either style): the pieces of ``text`` looked up in the number index and intersected
    (in C, by BTrees), smallest set first, then each candidate checked.  Its longest
    pieces (:func:`~certarchive.services.search_index.query_pieces`): five characters
    where it has a run of five, whose sets are a hundred times smaller than three's.

    Smallest first, by the sets' estimated sizes: the pieces of the year and the county
    code are in every certificate's set, and an intersection costs what its sets hold, so
    starting from one of those made a search over a million certificates take a second.
    Starting from the rarest piece, and stopping once few candidates remain, costs what
    the two smallest sets hold."""
    part = _number_text(text)
    pieces = query_pieces(part)
    if not pieces:
        raise Invalid(QUERY_INVALID, {"q": SHORT_NUMBER})
    found: Any = None
    index = agency.catalog.number
    for piece in sorted(pieces, key=lambda piece: (index.estimated_size(piece), piece)):
        bucket = index.bucket(piece)
        found = bucket if found is None else intersection(found, bucket)
        if not found:
            return set()
        if not isinstance(found, OOTreeSet) and len(found) <= FEW_CANDIDATES:
            break  # few enough to check one by one; common pieces (000) are never read
    certificates = agency.certificates
    return {cert_id for cert_id in found if part in _numbers_of(certificates[cert_id])}


def _numbers_of(cert: Certificate) -> str:
    return _number_text(f"{cert.serial or ''} {cert.case_no}")


def _number_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text.strip()).upper()


def _newest_first(hits: dict[Agency, set[str]], total: int, first: int, size: int) -> list[Hit]:
    """Hits ``first``..``first+size`` in the order newest issue date first, then serial
    (highest first); drafts, which have no issue date, last.

    A short list loads its certificates and sorts them.  A long one walks the issue-date
    index from the newest day, counting the hits of each day, and loads only the days the
    page falls in: page 1 of 50,000 reads a few days, not 50,000 certificates.
    """
    if total <= SHORT_LIST:
        every = [(agency, cert_id) for agency, ids in hits.items() for cert_id in ids]
        return sorted(every, key=_full_key, reverse=True)[first : first + size]
    left = {agency: set(ids) for agency, ids in hits.items()}
    days = sorted({day for agency in hits for day in agency.catalog.issue_date.index_keys()})
    page: list[Hit] = []
    seen = 0
    for day in reversed(days):
        group = [
            (agency, cert_id)
            for agency, ids in left.items()
            for cert_id in agency.catalog.issue_date.bucket(day)
            if cert_id in ids
        ]
        for agency, cert_id in group:
            left[agency].discard(cert_id)
        seen = _take(group, seen, first, size, page)
        if len(page) == size:
            return page
    undated = [(agency, cert_id) for agency, ids in left.items() for cert_id in ids]
    _take(undated, seen, first, size, page)
    return page


def _take(group: list[Hit], seen: int, first: int, size: int, page: list[Hit]) -> int:
    """Add the part of ``group`` (hits ``seen``.. in the whole order) that falls on the
    page; return how many hits come before the next group."""
    end = seen + len(group)
    if end > first and len(page) < size:
        ordered = sorted(group, key=_full_key, reverse=True)
        page.extend(ordered[max(first - seen, 0) :][: size - len(page)])
    return end


def _full_key(hit: Hit) -> tuple[bool, str, str]:
    """Sorted in reverse: dated before undated, newest day first, highest serial first."""
    agency, cert_id = hit
    cert = agency.certificates[cert_id]
    dated = cert.issued_at is not None and cert.state != "draft"  # as the issue-date index
    day = cert.issued_at.astimezone(CHINA).date().isoformat() if dated else ""
    return (dated, day, cert.serial or cert_id)


def row(agency: Agency, cert_id: str) -> dict[str, Any]:
    cert = agency.certificates[cert_id]
    return {
        "id": cert.id,
        "agency": agency.name,
        "agency_name": agency.settings["agency_name"],
        "serial": cert.serial,
        "kind": cert.kind,
        "state": cert.state,
        "case_no": cert.case_no,
        "unit_number": cert.unit_number,
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
    }


def rolled_back_drafts(agency: Agency) -> set[str]:
    """Drafts that keep a serial: rolled back (H-4.3) and waiting to be issued again."""
    drafts = agency.catalog.state.get("draft")
    return {i for i in drafts if agency.certificates[i].serial is not None}


def today(ctx: Context) -> date:
    return ctx.now().astimezone(CHINA).date()


def states() -> Iterable[str]:
    return (*CERTIFICATE.states, ROLLED_BACK)


def case_states() -> Iterable[str]:
    return CASE.states
