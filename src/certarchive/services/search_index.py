"""The keyed indexes behind search: parties' ID numbers, parties' full names, address words.

Names, ID numbers and addresses are personal data (H-5.2.3, H-5.2.7), so none is ever an
index key in clear: each key is the keyring's HMAC-SM3 (``blind_index``) of the normalised
value, with a prefix per index so that one index's keys never equal another's.  What such
an index still tells whoever reads the database is which certificates share a name, an ID
number or an address word, and how many; it does not tell the words (guessing them needs
the blind-index key, which lives in the key files, not in the database).  Address words are
the address cut after its place-name suffixes (省 市 县 区 镇 街道 路 号 幢 室 …) and before
each number, so a search by 「解放路」, 「12号」 or 「金色港湾 22幢」 finds
「潢川县解放路12号金色港湾22幢」.

Every index is updated with the version it reflects (:func:`reindex`, called by
``append_version``), so it commits in the same transaction as the change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from certarchive.content.agency import Agency
from certarchive.content.catalog import Catalog, SetIndex
from certarchive.crypto.keyring import Keyring

PARTY_LISTS = ("holders", "obligors")
NAME_PREFIX = "name\x00"
ADDRESS_PREFIX = "address\x00"
#: Place-name suffixes an address is cut after (longest first where one contains another).
_SUFFIXES = (
    "自治区|自治州|自治县|街道|小区|花园|大厦|单元|社区|"
    "省|市|区|县|旗|镇|乡|村|组|街|路|道|巷|弄|里|号|幢|栋|座|楼|层|室|户"
)
_WORD = re.compile(rf".+?(?:{_SUFFIXES})|.+")
_SEPARATORS = re.compile(r"[\s,，、;；:：()（）\[\]【】\-—_/\\#＃·.。]+")
_BEFORE_NUMBER = re.compile(r"(?<=[^\d\s])(?=\d)")  # 金色港湾22幢 → 金色港湾 22幢
MAX_WORDS = 40


def _clean(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), case folded, no blanks."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def address_words(text: Any) -> list[str]:
    """The words of an address (or of a query for one), in order, without repeats."""
    if not isinstance(text, str):
        return []
    words: list[str] = []
    spaced = _BEFORE_NUMBER.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    for chunk in _SEPARATORS.split(spaced):
        for word in _WORD.findall(chunk):
            if word and word not in words:
                words.append(word)
    return words[:MAX_WORDS]


def name_key(keyring: Keyring, name: str) -> str:
    return keyring.blind_index(NAME_PREFIX + _clean(name))


def address_key(keyring: Keyring, word: str) -> str:
    return keyring.blind_index(ADDRESS_PREFIX + word)


def keys_of(keyring: Keyring, data: Mapping[str, Any]) -> dict[str, set[str]]:
    """Every index key ``data`` (a certificate's data) files its certificate under."""
    parties = [p for key in PARTY_LISTS for p in data.get(key, ())]
    return {
        "holder": {keyring.blind_index(p["id_number"]) for p in parties},
        "party_name": {name_key(keyring, p["name"]) for p in parties if p.get("name")},
        "address": {address_key(keyring, w) for w in address_words(data.get("location"))},
    }


def reindex(
    catalog: Catalog,
    keyring: Keyring,
    cert_id: str,
    previous: Mapping[str, Any],
    data: Mapping[str, Any],
) -> None:
    """Move ``cert_id`` from the keys of ``previous`` to those of ``data``."""
    old, new = keys_of(keyring, previous), keys_of(keyring, data)
    for name, keys in new.items():
        index = getattr(catalog, name)
        for key in old[name] - keys:
            index.remove(key, cert_id)
        for key in keys - old[name]:
            index.add(key, cert_id)


#: The lengths of the pieces a number is filed under, shortest first.  Three, so that any
#: part of three characters or more is found; four and five, so that a longer part
#: starts from a set ten or a hundred times smaller.  With three-character pieces alone,
#: a piece of a sequence number was in about one certificate in a hundred, so that at a
#: million certificates even a query's smallest sets held ~10,000 ids and a search cost
#: a tenth of a second to more than one (issue #18).
PIECE_LENGTHS = (3, 4, 5)


def number_pieces(text: str, length: int) -> set[str]:
    """The pieces of ``length`` characters of the letter and digit runs of a serial or
    case number (``豫(2026)潢川县不动产权第0000123号``, 3 → 202, 026, 000, …, 123),
    upper-case."""
    runs = re.findall(r"[0-9A-Z]+", unicodedata.normalize("NFKC", text).upper())
    return {run[i : i + length] for run in runs for i in range(len(run) - length + 1)}


def query_pieces(part: str) -> set[str]:
    """The pieces a search for ``part`` of a number looks up: its longest ones (the
    smallest sets); empty when it has no run of three letters or digits.  The
    candidates they give are then checked against the whole part."""
    for length in reversed(PIECE_LENGTHS):
        pieces = number_pieces(part, length)
        if pieces:
            return pieces
    return set()


def index_number(catalog: Catalog, cert_id: str, number: str) -> None:
    """File ``cert_id`` under the pieces of ``number`` (its serial or its case number:
    neither is personal data, so the pieces are kept in clear)."""
    for length in PIECE_LENGTHS:
        for piece in number_pieces(number, length):
            catalog.number.add(piece, cert_id)


#: Certificates indexed between savepoints while rebuilding: the changes so far go to the
#: savepoint's temporary file and the connection's cache sheds what it read, so that an
#: evolve over a million certificates holds a few thousand of them in memory, not all.
SPILL_EVERY = 5_000


def rebuild(agency: Agency, keyring: Keyring) -> None:
    """Make the kind, number, name and address indexes afresh from every certificate's current
    version (an evolve step: registries made before these indexes existed)."""
    from certarchive.services.certdata import decrypt_version

    catalog = agency.catalog
    catalog.kind, catalog.party_name, catalog.address = SetIndex(), SetIndex(), SetIndex()
    catalog.number = SetIndex()
    for cert_id, cert in _spilling(agency):
        catalog.kind.add(cert.kind, cert_id)
        _index_numbers(catalog, cert_id, cert)
        if cert.version:
            reindex(catalog, keyring, cert_id, {}, decrypt_version(keyring, cert, cert.version))


def rebuild_numbers(agency: Agency) -> None:
    """Make the number index afresh (an evolve step: registries whose numbers were filed
    under three-character pieces only, before :data:`PIECE_LENGTHS`)."""
    catalog = agency.catalog
    catalog.number = SetIndex()
    for cert_id, cert in _spilling(agency):
        _index_numbers(catalog, cert_id, cert)


def _index_numbers(catalog: Catalog, cert_id: str, cert: Any) -> None:
    for number in (cert.case_no, cert.serial):
        if number:
            index_number(catalog, cert_id, number)


def _spilling(agency: Agency) -> Iterator[tuple[str, Any]]:
    """Every certificate of ``agency``, with a savepoint every :data:`SPILL_EVERY` (a
    million certificates: keep memory bounded)."""
    for count, cert_id in enumerate(agency.certificates, start=1):
        if count % SPILL_EVERY == 0:
            jar = agency._p_jar
            jar.transaction_manager.savepoint(optimistic=True)
            jar.cacheGC()
        yield cert_id, agency.certificates[cert_id]
