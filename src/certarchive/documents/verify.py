"""Offline verification of a certificate file with the seal's public key (H-5.1.2).

The verifier reads the file as bytes, not through a PDF parser, for speed and because
what is signed *is* bytes: it finds each signature dictionary by its ``/ByteRange``,
checks that the range is well formed and that its gap is exactly that dictionary's
``/Contents`` string, verifies SM2 over the covered bytes, and then checks how the
signed revisions chain:

* the last signature must cover the whole file (anything after it is an unsigned
  change: an added page, a replaced text, a removed field…);
* every earlier signature must end exactly at the end of an update (a revision);
* between two signatures only revocation stamps may have been added (an update with the
  revocation marker and no new structure, see :mod:`.stampdict`); the later signature
  covers the stamp, which makes the revocation authentic.

Revisions are delimited by ``%%EOF`` markers; a signature's range must end at one, so a
stray ``%%EOF`` inside binary data cannot move a boundary that matters.  Only the
metadata is read with pypdf.  Malformed input of any kind yields a report with
``valid=False`` and the reason, never an exception.  Problems are in plain words,
Chinese first, then English.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import re
from dataclasses import dataclass, field

from certarchive.crypto.sm import SM2PublicKey
from certarchive.documents import sigdict, stampdict
from certarchive.documents.metadata import read_metadata
from certarchive.documents.stampdict import Revocation

_EOF = re.compile(rb"%%EOF(?:\r\n|\r|\n)?")
_CONTENTS = re.compile(rb"/Contents\s*<")
_HEX = re.compile(rb"[0-9A-Fa-f]*")
#: How far back from /ByteRange the enclosing "N G obj" may start: the dictionary's
#: entries before it are short (Type, Filter, SubFilter).
_LOOKBACK = 512


@dataclass(frozen=True)
class SignatureResult:
    """One embedded signature, in file order."""

    revision: int  # 1-based number of the revision (update) the signature closes
    byte_range: tuple[int, int, int, int]
    signer_name: str
    reason: str
    signed_at: datetime.datetime | None
    fingerprint: str  # as recorded in the file
    intact: bool  # verifies with the given key over its byte range


@dataclass
class VerificationReport:
    """The outcome: ``valid`` is true only when ``problems`` is empty."""

    valid: bool
    signatures: list[SignatureResult] = field(default_factory=list)
    revoked: Revocation | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Found:
    """A signature dictionary located in the bytes, before any judgement."""

    a: int
    b: int
    c: int
    dictionary: bytes


def _locate(pdf: bytes, problems: list[str]) -> list[_Found]:
    """Find the certarchive signature dictionaries and check each one's gap."""
    found = []
    for number, match in enumerate(sigdict.BYTE_RANGE.finditer(pdf), start=1):
        zero, a, b, c = (int(group) for group in match.groups())
        start = pdf.rfind(b"obj", max(0, match.start() - _LOOKBACK), match.start())
        end = pdf.find(b"endobj", match.end())
        dictionary = pdf[start:end] if start >= 0 and end >= 0 else b""
        if not sigdict.is_certarchive_signature(dictionary):
            problems.append(
                f"第{number}个签名不是本系统的签名格式 / "
                f"signature {number} is not a certarchive SM2 signature"
            )
            continue
        contents = _CONTENTS.search(pdf, match.end(), end)
        gap_ok = (
            zero == 0
            and contents is not None
            and contents.end() - 1 == a
            and 0 < a < b <= b + c <= len(pdf)
            and pdf[b - 1 : b] == b">"
            and _HEX.fullmatch(pdf, a + 1, b - 1) is not None
        )
        if not gap_ok:
            problems.append(
                f"第{number}个签名的字节范围格式错误 / "
                f"signature {number} has a malformed byte range"
            )
            continue
        found.append(_Found(a, b, c, dictionary))
    return found


def _der(hex_digits: bytes) -> bytes:
    """The DER signature from the zero-padded /Contents digits (empty if unreadable)."""
    try:
        raw = bytes.fromhex(hex_digits.decode())
    except ValueError:
        return b""
    if len(raw) < 2 or raw[0] != 0x30 or raw[1] >= 0x80:
        return b""
    return raw[: 2 + raw[1]]


def _check_between(
    pdf: bytes, boundaries: list[int], start: int, end: int, problems: list[str]
) -> Revocation | None:
    """Judge the updates in ``pdf[start:end]``: each must be a revocation stamp."""
    revocation = None
    edges = [start] + [edge for edge in boundaries if start < edge <= end]
    for first, last in itertools.pairwise(edges):
        update = pdf[first:last]
        markers = stampdict.find_markers(update)
        if len(markers) != 1 or stampdict.restructures(update):
            problems.append(
                "两次签名之间有注销水印以外的修改 / "
                "something other than a revocation stamp was added between signatures"
            )
            continue
        revocation = revocation or markers[0]
    return revocation


def _judge(
    pdf: bytes, number: int, sig: _Found, public_key: SM2PublicKey, problems: list[str]
) -> tuple[bool, sigdict.SignatureFields]:
    """Verify one signature over its range; say why when it fails."""
    fields = sigdict.parse_fields(sig.dictionary)
    signed_bytes = pdf[: sig.a] + pdf[sig.b : sig.b + sig.c]
    intact = public_key.verify(signed_bytes, _der(pdf[sig.a + 1 : sig.b - 1]))
    if intact:
        return True, fields
    if fields.fingerprint and fields.fingerprint != public_key.fingerprint():
        problems.append(
            f"第{number}个签名由其他密钥签署 / signature {number} was made with another key"
        )
    else:
        problems.append(
            f"第{number}个签名与文件内容不符，文件已被篡改 / "
            f"signature {number} does not match the file: it was altered"
        )
    return False, fields


def _check_chain(
    pdf: bytes,
    boundaries: list[int],
    number: int,
    sig: _Found,
    previous_end: int,
    report: VerificationReport,
) -> None:
    """How signature ``number`` follows the previous one, which ended at ``previous_end``."""
    problems = report.problems
    if sig.b + sig.c not in boundaries:
        problems.append(
            f"第{number}个签名未覆盖到修订末尾 / "
            f"signature {number} does not end at the end of a revision"
        )
    if number == 1:
        return
    if previous_end > sig.a:
        problems.append(
            f"第{number}个签名与前一个签名范围重叠 / signature {number} overlaps the previous one"
        )
        return
    own_revision_start = max((edge for edge in boundaries if edge < sig.a), default=0)
    revocation = _check_between(pdf, boundaries, previous_end, own_revision_start, problems)
    report.revoked = report.revoked or revocation


def _check_signatures(pdf: bytes, public_key: SM2PublicKey, report: VerificationReport) -> None:
    boundaries = [match.end() for match in _EOF.finditer(pdf)]
    found = _locate(pdf, report.problems)
    previous_end = 0
    for number, sig in enumerate(found, start=1):
        _check_chain(pdf, boundaries, number, sig, previous_end, report)
        intact, fields = _judge(pdf, number, sig, public_key, report.problems)
        end = sig.b + sig.c
        report.signatures.append(
            SignatureResult(
                revision=bisect.bisect_left(boundaries, end) + 1,
                byte_range=(0, sig.a, sig.b, sig.c),
                signer_name=fields.signer_name,
                reason=fields.reason,
                signed_at=fields.signed_at,
                fingerprint=fields.fingerprint,
                intact=intact,
            )
        )
        previous_end = end
    if not found:
        report.problems.append("文件没有电子印章签名 / the file carries no seal signature")
    elif previous_end != len(pdf):
        report.problems.append(
            "文件在签名后被修改（签名后追加了内容） / "
            "the file was changed after signing (bytes were appended after the last signature)"
        )


def verify_pdf(pdf: bytes, public_key: SM2PublicKey) -> VerificationReport:
    """Verify ``pdf`` against the seal's ``public_key``; never raises for bad input."""
    report = VerificationReport(valid=False)
    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:1024]):
        report.problems.append("不是PDF文件 / the input is not a PDF file")
        return report
    pdf = bytes(pdf)
    _check_signatures(pdf, public_key, report)
    try:
        report.metadata = read_metadata(pdf)
    except ValueError:
        report.problems.append("无法读取文件元数据 / the file's metadata cannot be read")
    else:
        if not report.metadata:
            report.problems.append("文件缺少证照元数据 / the file carries no certificate metadata")
    report.valid = not report.problems
    return report
