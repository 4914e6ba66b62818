"""Offline verification of a certificate file (H-5.1.2): its signatures, their certificates
and how the signed revisions follow one another.

The verifier reads the file as bytes, not through a PDF parser, for speed and because
what is signed *is* bytes: it finds each signature dictionary by its ``/ByteRange``,
checks that the range is well formed and that its gap is exactly that dictionary's
``/Contents`` string, and judges the signature by its format:

* standard (``/Adobe.PPKLite``, :mod:`.sigdict`): ``/Contents`` is a CMS SignedData
  followed by zero padding only; its messageDigest is the SM3 of the covered bytes, the
  SM2 signature over the signed attributes verifies with the signer certificate's key,
  that key is one the caller trusts (a registry's seal, or the one given offline) and,
  where the caller gives roots, the certificate chains to one of them and every
  certificate was valid at the signing time;
* earlier (``/Certarchive.SM2``, files issued before standard signatures): a bare SM2
  signature checked with the seal's public key.

Then the chain of revisions:

* the last signature must cover the whole file (anything after it is an unsigned
  change: an added page, a replaced text, a removed field…);
* every earlier signature must end exactly at the end of an update (a revision);
* an update strictly between two signatures may only be an earlier-format revocation
  stamp (see :mod:`.stampdict`); a standard revocation adds its watermark fields in the
  same update as the approval signature that covers them;
* a revocation marker found in what a later signature covers makes the revocation
  authentic (H-1.7); a share marker likewise makes an annotated copy's words (加注件:
  which institution, what purpose, until when) the agency's.

Revisions are delimited by ``%%EOF`` markers; a signature's range must end at one, so a
stray ``%%EOF`` inside binary data cannot move a boundary that matters.  Malformed input
of any kind yields a report with ``valid=False`` and the reason, never an exception.
Problems are in plain words, Chinese first, then English.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import re
from dataclasses import dataclass, field

from asn1crypto import x509

from certarchive.crypto.sm import SM2PublicKey, sm3
from certarchive.documents import sigdict, stampdict
from certarchive.documents.metadata import MetadataError, read_metadata
from certarchive.documents.stampdict import Revocation, ShareMark
from certarchive.i18n import _, message_of
from certarchive.signing.certificates import CertificateSummary, public_key_of
from certarchive.signing.chain import check_path
from certarchive.signing.cms import CmsError, read_signed_data

STANDARD = "standard"
EARLIER = "earlier"
OFD = "ofd"
FORMAT_TEXT = {
    OFD: _("OFD电子签章（GB/T 38540，SM2/SM3）"),
    STANDARD: _("标准签名（PDF CMS，SM2/SM3）"),
    EARLIER: _("早期格式签名（本系统早期版本签发）"),
}

_EOF = re.compile(rb"%%EOF(?:\r\n|\r|\n)?")
_CONTENTS = re.compile(rb"/Contents\s*<")
_HEX = re.compile(rb"[0-9A-Fa-f]*")
_EARLIER_FILTER = re.compile(rb"/Filter\s*/Certarchive\.SM2(?![^\s/<>\[\]()])")
_EARLIER_FINGERPRINT = re.compile(rb"/Certarchive\.KeyFingerprint\s*\(([0-9a-f]{64})\)")
_TYPE_SIG = re.compile(rb"/Type\s*/Sig\b")
#: How far back from /ByteRange the enclosing "N G obj" may start: the dictionary's
#: entries before it are short (Type, Filter, SubFilter).
_LOOKBACK = 512
#: More signatures than any certificate file has (issue, revoke): a file with more is not
#: ours, and stopping early bounds the work an uploaded file can cause.
MAX_SIGNATURES = 8


@dataclass(frozen=True)
class Trust:
    """What a verification relies on.

    ``seal_keys``: the keys whose signatures count (a registry's seals, or the one key or
    certificate given offline).  ``roots``: the trusted root certificates; with
    ``check_chain`` false (a bare public key given offline) no chain is checked.
    ``intermediates``: CA certificates known to the registry, for files that carry the
    signing certificate alone (an OFD's SES_Signature).
    """

    seal_keys: tuple[SM2PublicKey, ...]
    roots: tuple[x509.Certificate, ...] = ()
    check_chain: bool = True
    intermediates: tuple[x509.Certificate, ...] = ()


@dataclass(frozen=True)
class SignatureResult:
    """One embedded signature, in file order."""

    revision: int  # 1-based number of the revision (update) the signature closes
    byte_range: tuple[int, int, int, int]
    format: str  # STANDARD or EARLIER
    signer_name: str
    reason: str
    signed_at: datetime.datetime | None
    intact: bool  # made by a trusted key over exactly its byte range
    certificate: CertificateSummary | None = None  # the signer's, for standard signatures


@dataclass
class VerificationReport:
    """The outcome: ``valid`` is true only when ``problems`` is empty."""

    valid: bool
    signatures: list[SignatureResult] = field(default_factory=list)
    revoked: Revocation | None = None
    shared: ShareMark | None = None  # an annotated copy (加注件): for whom, until when
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def format(self) -> str | None:
        """STANDARD, EARLIER, OFD, or None when the file carries no signature we read."""
        formats = {signature.format for signature in self.signatures}
        for kind in (EARLIER, OFD, STANDARD):
            if kind in formats:
                return kind
        return None


@dataclass(frozen=True)
class _Found:
    """A signature dictionary located in the bytes, before any judgement."""

    a: int
    b: int
    c: int
    dictionary: bytes
    contents: bytes  # the hex digits between /Contents' angle brackets
    format: str


def _locate(pdf: bytes, problems: list[str]) -> list[_Found]:
    """Find the signature dictionaries and check each one's gap."""
    found = []
    for number, match in enumerate(sigdict.BYTE_RANGE.finditer(pdf), start=1):
        if number > MAX_SIGNATURES:
            problems.append(
                _(
                    "签名超过${max_signatures}个，不是本系统的证照文件",
                    mapping={"max_signatures": MAX_SIGNATURES},
                )
            )
            break
        zero, a, b, c = (int(group) for group in match.groups())
        start = pdf.rfind(b"obj", max(0, match.start() - _LOOKBACK), match.start())
        end = pdf.find(b"endobj", match.end())
        dictionary = pdf[start:end] if start >= 0 and end >= 0 else b""
        if sigdict.is_standard_signature(dictionary):
            kind = STANDARD
        elif _TYPE_SIG.search(dictionary) and _EARLIER_FILTER.search(dictionary):
            kind = EARLIER
        else:
            problems.append(_("第${number}个签名的格式无法识别", mapping={"number": number}))
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
            problems.append(_("第${number}个签名的字节范围格式错误", mapping={"number": number}))
            continue
        found.append(_Found(a, b, c, dictionary, pdf[a + 1 : b - 1], kind))
    return found


def _der_length(data: bytes) -> int | None:
    """The length of the DER element at the start of ``data`` (header included)."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 3 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def _contents(hex_digits: bytes) -> tuple[bytes, bool] | None:
    """The DER from ``/Contents`` and whether everything after it is zero padding."""
    if len(hex_digits) % 2:
        return None
    raw = bytes.fromhex(hex_digits.decode("ascii"))
    if raw[:1] != b"\x30":  # a ContentInfo is a SEQUENCE
        return None
    length = _der_length(raw)
    if length is None or length > len(raw):
        return None
    return raw[:length], not raw[length:].strip(b"\x00")


@dataclass(frozen=True)
class _Judgement:
    intact: bool
    certificate: CertificateSummary | None = None


def _judge_standard(
    signed_bytes: bytes, sig: _Found, number: int, trust: Trust, problems: list[str]
) -> _Judgement:
    """Check a CMS signature: container, digest, signature, key and chain."""
    unpacked = _contents(sig.contents)
    if unpacked is None:
        problems.append(_("第${number}个签名的内容不可读", mapping={"number": number}))
        return _Judgement(False)
    der, padding_clean = unpacked
    if not padding_clean:
        problems.append(_("第${number}个签名的填充区含有非零字节", mapping={"number": number}))
        return _Judgement(False)
    try:
        content = read_signed_data(der)
    except CmsError as error:
        problems.append(
            _("第${number}个签名：${problem}", mapping={"number": number, "problem": error})
        )
        return _Judgement(False)
    summary = CertificateSummary.of(content.signer)
    if content.message_digest != sm3(signed_bytes) or not content.signature_verifies():
        problems.append(
            _("第${number}个签名与文件内容不符，文件已被篡改", mapping={"number": number})
        )
        return _Judgement(False, summary)
    if public_key_of(content.signer) not in trust.seal_keys:
        problems.append(
            _(
                "第${number}个签名不是由受信任的印章证书签署（签名者：${subject}）",
                mapping={"number": number, "subject": summary.subject},
            )
        )
        return _Judgement(False, summary)
    if trust.check_chain:
        moment = content.signing_time or sigdict.parse_time(sig.dictionary)
        if moment is None:
            problems.append(_("第${number}个签名没有签名时间", mapping={"number": number}))
            return _Judgement(False, summary)
        chain_problems = check_path(content.signer, content.certificates, trust.roots, moment)
        problems += [
            _("第${number}个签名：${problem}", mapping={"number": number, "problem": problem})
            for problem in chain_problems
        ]
        return _Judgement(not chain_problems, summary)
    return _Judgement(True, summary)


def _judge_earlier(
    signed_bytes: bytes, sig: _Found, number: int, trust: Trust, problems: list[str]
) -> _Judgement:
    """Check a bare SM2 signature of the earlier format with the trusted seal keys."""
    unpacked = _contents(sig.contents)
    signature = unpacked[0] if unpacked else b""
    if any(key.verify(signed_bytes, signature) for key in trust.seal_keys):
        return _Judgement(True)
    fingerprint = _EARLIER_FINGERPRINT.search(sig.dictionary)
    known = {key.fingerprint() for key in trust.seal_keys}
    if fingerprint and fingerprint.group(1).decode() not in known:
        problems.append(_("第${number}个签名由其他密钥签署", mapping={"number": number}))
    else:
        problems.append(
            _("第${number}个签名与文件内容不符，文件已被篡改", mapping={"number": number})
        )
    return _Judgement(False)


def _check_between(
    pdf: bytes, boundaries: list[int], start: int, end: int, problems: list[str]
) -> None:
    """Each update in ``pdf[start:end]`` (between two signatures) must be a stamp."""
    edges = [start] + [edge for edge in boundaries if start < edge <= end]
    for first, last in itertools.pairwise(edges):
        update = pdf[first:last]
        if len(stampdict.find_markers(update)) != 1 or stampdict.restructures(update):
            problems.append(_("两次签名之间有注销水印以外的修改"))


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
    end = sig.b + sig.c
    if end not in boundaries:
        problems.append(_("第${number}个签名未覆盖到修订末尾", mapping={"number": number}))
    if number == 1:
        return
    if previous_end > sig.a:
        problems.append(_("第${number}个签名与前一个签名范围重叠", mapping={"number": number}))
        return
    own_revision_start = max((edge for edge in boundaries if edge < sig.a), default=0)
    _check_between(pdf, boundaries, previous_end, own_revision_start, problems)
    covered = pdf[previous_end:end]
    markers = stampdict.find_markers(covered)
    report.revoked = report.revoked or (markers[0] if markers else None)
    shares = stampdict.find_share_markers(covered)
    report.shared = report.shared or (shares[0] if shares else None)


_JUDGES = {STANDARD: _judge_standard, EARLIER: _judge_earlier}


def _check_signatures(pdf: bytes, trust: Trust, report: VerificationReport) -> None:
    boundaries = [match.end() for match in _EOF.finditer(pdf)]
    found = _locate(pdf, report.problems)
    previous_end = 0
    for number, sig in enumerate(found, start=1):
        _check_chain(pdf, boundaries, number, sig, previous_end, report)
        signed_bytes = pdf[: sig.a] + pdf[sig.b : sig.b + sig.c]
        judgement = _JUDGES[sig.format](signed_bytes, sig, number, trust, report.problems)
        fields = sigdict.parse_fields(sig.dictionary)
        end = sig.b + sig.c
        report.signatures.append(
            SignatureResult(
                revision=bisect.bisect_left(boundaries, end) + 1,
                byte_range=(0, sig.a, sig.b, sig.c),
                format=sig.format,
                signer_name=fields.signer_name,
                reason=fields.reason,
                signed_at=fields.signed_at,
                intact=judgement.intact,
                certificate=judgement.certificate,
            )
        )
        previous_end = end
    if len({sig.format for sig in found}) > 1:
        report.problems.append(_("文件混用了两种签名格式"))
    if not found:
        report.problems.append(_("文件没有电子印章签名"))
    elif previous_end != len(pdf):
        report.problems.append(_("文件在签名后被修改（签名后追加了内容）"))


def verify_pdf(
    pdf: bytes, trust: Trust, metadata: dict[str, str] | None = None
) -> VerificationReport:
    """Verify ``pdf`` with what ``trust`` gives; never raises for bad input.

    ``metadata``, when the caller has read it already (:func:`read_metadata`), is not
    read a second time.
    """
    report = VerificationReport(valid=False)
    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:1024]):
        report.problems.append(_("不是PDF文件"))
        return report
    pdf = bytes(pdf)
    _check_signatures(pdf, trust, report)
    try:
        report.metadata = read_metadata(pdf) if metadata is None else metadata
    except MetadataError as error:
        report.problems.append(message_of(error))
    else:
        if not report.metadata:
            report.problems.append(_("文件缺少证照元数据"))
    report.valid = not report.problems
    return report
