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
from collections.abc import Mapping
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


def number_grams(text: str) -> set[str]:
    """The three-character pieces of the letter and digit runs of a serial or case number
    (``豫(2026)潢川县不动产权第0000123号`` → 202, 026, 000, …, 123), upper-case; a search for
    any part of a number looks up its own pieces and checks the candidates."""
    runs = re.findall(r"[0-9A-Z]+", unicodedata.normalize("NFKC", text).upper())
    return {run[i : i + 3] for run in runs for i in range(len(run) - 2)}


def index_number(catalog: Catalog, cert_id: str, number: str) -> None:
    """File ``cert_id`` under the pieces of ``number`` (its serial or its case number:
    neither is personal data, so the pieces are kept in clear)."""
    for gram in number_grams(number):
        catalog.number.add(gram, cert_id)


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
    for count, cert_id in enumerate(agency.certificates, start=1):
        if count % SPILL_EVERY == 0:  # a million certificates: keep memory bounded
            jar = agency._p_jar
            jar.transaction_manager.savepoint(optimistic=True)
            jar.cacheGC()
        cert = agency.certificates[cert_id]
        catalog.kind.add(cert.kind, cert_id)
        for number in (cert.case_no, cert.serial):
            if number:
                index_number(catalog, cert_id, number)
        if cert.version:
            reindex(catalog, keyring, cert_id, {}, decrypt_version(keyring, cert, cert.version))
