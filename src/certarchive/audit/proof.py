"""One entry's inclusion proof against a signed checkpoint, checked (H-5.2.4).

The same check runs in three places: the auditor's page (the server checks what it is
about to show), ``audit verify --checkpoint EXPORT`` (offline, from an exported range),
and the tests.  It trusts nothing but the checkpoint's signature under the log's public
key: the leaf is recomputed from the entry, the audit path is folded up to the root, and
the root must be the one the checkpoint signed.  Each failure is named, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from certarchive.audit import merkle
from certarchive.audit.log import leaf_data
from certarchive.audit.verify import checkpoint_signature_ok
from certarchive.crypto.sm import SM2PublicKey, sm3
from certarchive.findings import Findings
from certarchive.i18n import _
from certarchive.jsonread import JsonLimits, JsonRefused, read_json

#: The first line of an exported range says what the file is.
EXPORT_FORMAT = "certarchive-audit-export/1"
#: One line of an export: an entry, its leaf and a proof of at most 64 hashes.
LINE_LIMITS = JsonLimits(max_bytes=256 * 1024)

VERIFIED = _("已验证")
BAD_SIGNATURE = _("检查点签名无效")
NOT_COVERED = _("该条目尚未纳入已签名的检查点")
ALTERED = _("条目内容与其叶哈希不符")
BAD_PATH = _("包含证明与检查点的根哈希不符")


def entry_leaf(seq: int, integrated_at: str, entry: Mapping[str, Any]) -> bytes:
    """The leaf hash of an entry as the log hashed it."""
    return merkle.leaf_hash(sm3, leaf_data(seq, integrated_at, entry))


def check_inclusion(
    checkpoint: Mapping[str, Any],
    public_key: SM2PublicKey,
    seq: int,
    leaf: bytes,
    proof: Sequence[bytes],
    entry: Mapping[str, Any] | None = None,
    integrated_at: str | None = None,
) -> list[str]:
    """What fails about entry ``seq`` under ``checkpoint``; an empty list when it holds.

    Given the entry itself (and when it was sequenced), its leaf is recomputed and must
    be ``leaf``; without it (an entry shown masked) only the path from ``leaf`` is
    checked."""
    if not checkpoint_signature_ok(checkpoint, public_key):
        return [BAD_SIGNATURE]
    size = checkpoint["size"]
    if not isinstance(seq, int) or seq >= size:
        return [NOT_COVERED]
    problems = []
    if entry is not None and entry_leaf(seq, integrated_at or "", entry) != leaf:
        problems.append(ALTERED)
    root = bytes.fromhex(checkpoint["root"])
    if not merkle.verify_inclusion(sm3, seq, size, leaf, list(proof), root):
        problems.append(BAD_PATH)
    return problems


@dataclass
class ExportReport(Findings):
    log: str = ""
    size: int = 0  # the checkpoint's
    entries: int = 0
    masked: int = 0
    key: str = ""  # the fingerprint of the key the checkpoint verified under


def is_export(first_line: bytes) -> bool:
    """Whether a file that starts with ``first_line`` is an exported range."""
    try:
        head = read_json(first_line.rstrip(b"\r\n"), LINE_LIMITS)
    except JsonRefused:
        return False
    return isinstance(head, dict) and head.get("format") == EXPORT_FORMAT


def _hashes(values: Any) -> list[bytes] | None:
    if not isinstance(values, list) or len(values) > 64:
        return None
    try:
        return [bytes.fromhex(value) for value in values]
    except (TypeError, ValueError):
        return None


def verify_export(lines: Iterable[bytes]) -> ExportReport:
    """Check an exported range offline: the checkpoint's signature under the key the file
    carries (the caller compares its fingerprint with the one it keeps), then every
    entry's leaf and inclusion proof.  A masked entry (H-5.2.3) has its path checked, not
    its content."""
    report = ExportReport()
    numbered = enumerate(lines, 1)
    try:
        _number, first = next(numbered)
        head = read_json(first.rstrip(b"\r\n"), LINE_LIMITS)
        checkpoint = head["checkpoint"]
        key = SM2PublicKey.from_pem(head["public_key_pem"].encode())
    except (StopIteration, JsonRefused, KeyError, TypeError, ValueError, AttributeError):
        report.problems.append(_("不是审计日志导出文件"))
        return report
    report.log, report.key = str(checkpoint.get("log", "")), key.fingerprint()
    report.size = checkpoint.get("size", 0) if isinstance(checkpoint.get("size"), int) else 0
    if not checkpoint_signature_ok(checkpoint, key):
        report.problems.append(BAD_SIGNATURE)
        return report
    for number, raw in numbered:
        if not raw.strip():
            continue
        where = _("第${number}行", mapping={"number": number})
        try:
            line = read_json(raw.rstrip(b"\r\n"), LINE_LIMITS)
            seq, entry, at = line["seq"], line["entry"], line["integrated_at"]
            leaf, proof = bytes.fromhex(line["leaf_hash"]), _hashes(line["proof"])
        except (JsonRefused, KeyError, TypeError, ValueError):
            report.problems.append(_("${where}: 格式无效", mapping={"where": where}))
            continue
        if proof is None or not isinstance(entry, dict) or not isinstance(at, str):
            report.problems.append(_("${where}: 格式无效", mapping={"where": where}))
            continue
        masked = line.get("masked") is True
        report.entries += 1
        report.masked += masked
        problems = check_inclusion(checkpoint, key, seq, leaf, proof, None if masked else entry, at)
        report.problems += [f"{where} (seq {seq}): {problem}" for problem in problems]
    return report
