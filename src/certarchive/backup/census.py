"""A census of a registry: what a restore must reproduce, readable without data keys.

For every certificate (in agency and id order) one line holds its serial, state, kind,
the digest of every version, and for every file its record (number, version, digest,
size) and the SM3 of the stored blob — the data-key ciphertext, so nothing is decrypted
and no personal datum is read.  The census digest is the SM3 over all lines: two
registries with equal digests hold byte-identical certificates, versions and files.  The
logs are counted, their newest checkpoints compared and, on a restored copy, replayed by
:func:`certarchive.audit.verify.verify_log` (Merkle tree and SM2 checkpoints).

Given the data keys, the census also decrypts each version and file and checks them
against the stored SM3 of the clear data (H-5.2.2), the end-to-end proof that the
restored registry can serve its certificates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from ZODB.Connection import Connection
from ZODB.POSException import POSKeyError

from certarchive.audit.queue import LOG_NAMES
from certarchive.audit.verify import verify_log
from certarchive.content.certificate import Certificate
from certarchive.content.registry import ROOT_KEY
from certarchive.crypto.keyring import Keyring
from certarchive.crypto.sm import DecryptionError, new_sm3, sm3_hex
from certarchive.i18n import _
from certarchive.services.certdata import data_digest, read_data, read_file

_CACHE_EVERY = 200
_PIECE = 1 << 20


@dataclass
class Census:
    certificates: int = 0
    versions: int = 0
    files: int = 0
    digest: str = ""
    logs: dict[str, dict[str, Any]] = field(default_factory=dict)
    roots: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def comparable(self) -> dict[str, Any]:
        """Everything two censuses of the same state agree on."""
        return {k: v for k, v in asdict(self).items() if k != "problems"}


class _KeyContext:
    """What :mod:`certarchive.services.certdata`'s readers use of a Context: the keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring


def _blob_sm3(record: Mapping[str, Any]) -> str:
    hasher = new_sm3()
    with record["blob"].open("r") as stored:
        while piece := stored.read(_PIECE):
            hasher.update(piece)
    return hasher.hexdigest()


class CertificateLine(NamedTuple):
    key: tuple[str, str]  # (agency, certificate id): the order both censuses walk in
    text: str
    versions: int
    files: int


def _line(cert: Certificate, problems: list[str], where: str) -> str:
    versions = ",".join(f"{v['number']}:{v['digest']}" for v in cert.versions)
    files = []
    for record in cert.files:
        try:
            blob = _blob_sm3(record)
        except (POSKeyError, OSError):
            problems.append(
                _(
                    "${where} file ${record_number}: 文件缺失",
                    mapping={"where": where, "record_number": record["number"]},
                )
            )
            blob = "missing"
        files.append(
            f"{record['number']}:{record['version']}:{record['digest']}:{record['size']}:{blob}"
        )
    return f"{cert.serial}|{cert.state}|{cert.kind}|{versions}|{';'.join(files)}"


def _clear_problems(cert: Certificate, context: _KeyContext, where: str) -> Iterator[str]:
    """Versions and files that do not decrypt to the clear data their SM3 names."""
    for version in cert.versions:
        try:
            ok = data_digest(read_data(context, cert, version["number"])) == version["digest"]
        except (DecryptionError, ValueError):
            ok = False
        if not ok:
            yield _(
                "${where} version ${version_number}: 解密或摘要不符",
                mapping={"where": where, "version_number": version["number"]},
            )
    for record in cert.files:
        try:
            ok = sm3_hex(read_file(context, cert, record["number"])) == record["digest"]
        except (DecryptionError, POSKeyError, OSError):
            ok = False
        if not ok:
            yield _(
                "${where} file ${record_number}: 解密或摘要不符",
                mapping={"where": where, "record_number": record["number"]},
            )


def certificate_lines(
    conn: Connection, problems: list[str], keyring: Keyring | None = None
) -> Iterator[CertificateLine]:
    """Every certificate's line, in order; the object cache is trimmed as it goes."""
    registry = conn.root().get(ROOT_KEY)
    if registry is None:
        problems.append(_("没有登记簿"))
        return
    context = _KeyContext(keyring) if keyring is not None else None
    for agency in registry.agencies.values():
        for count, cert in enumerate(agency.certificates.values(), start=1):
            where = f"{agency.name}/{cert.id}"
            text = _line(cert, problems, where)
            yield CertificateLine((agency.name, cert.id), text, len(cert.versions), len(cert.files))
            if context is not None:
                problems.extend(_clear_problems(cert, context, where))
            if count % _CACHE_EVERY == 0:
                conn.cacheGC()


def _log_census(conn: Connection, name: str, replay: bool, problems: list[str]) -> dict[str, Any]:
    log = conn.root().get("log")
    if log is None:
        return {"entries": None, "checkpoint": None}
    if replay:
        report = verify_log(log)
        problems.extend(f"{name} log: {problem}" for problem in report.problems)
    checkpoint = log.latest_checkpoint()
    return {
        "entries": len(log),
        "checkpoint": {k: checkpoint[k] for k in ("size", "root")} if checkpoint else None,
    }


def take_census(
    connections: Mapping[str, Connection], keyring: Keyring | None = None, replay: bool = False
) -> Census:
    """The census of the registry behind one connection per database.

    ``replay`` also verifies both logs in full; ``keyring`` also decrypts everything.
    """
    census = Census()
    hasher = new_sm3()
    main = connections["main"]
    for line in certificate_lines(main, census.problems, keyring):
        hasher.update(f"{'/'.join(line.key)}|{line.text}\n".encode())
        census.certificates += 1
        census.versions += line.versions
        census.files += line.files
    census.digest = hasher.hexdigest()
    census.roots = {name: sorted(conn.root().keys()) for name, conn in connections.items()}
    census.logs = {
        name: _log_census(connections[name], name, replay, census.problems) for name in LOG_NAMES
    }
    return census


def differing_certificates(
    left: Connection, right: Connection, names: tuple[str, str], limit: int = 20
) -> list[str]:
    """The first ``limit`` certificates that differ between two registries, merged in order.

    ``names`` says what ``left`` and ``right`` are, for the messages.
    """
    ignored: list[str] = []
    a, b = certificate_lines(left, ignored), certificate_lines(right, ignored)
    found: list[str] = []
    x, y = next(a, None), next(b, None)
    while (x is not None or y is not None) and len(found) < limit:
        if y is None or (x is not None and x.key < y.key):
            found.append(f"{'/'.join(x.key)} only in the {names[0]}")
            x = next(a, None)
        elif x is None or y.key < x.key:
            found.append(f"{'/'.join(y.key)} only in the {names[1]}")
            y = next(b, None)
        else:
            if x.text != y.text:
                found.append(f"{'/'.join(x.key)} differs")
            x, y = next(a, None), next(b, None)
    return found
