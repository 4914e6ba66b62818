"""A case file's scanned documents (登记案卷的扫描件): kept encrypted, read by staff only.

Scanned applications carry ID cards and signatures, so each document is stored as a
ZODB blob holding its SM4-GCM ciphertext under the ``files`` key, bound (AAD) to its case
and number, with the SM3 of the clear bytes beside it (H-5.2.2, H-5.2.7).  Only PDF,
JPEG and PNG are accepted, recognised by their first bytes as well as their declared type.
"""

from __future__ import annotations

from typing import Any

from ZODB.blob import Blob

from certarchive.content.casefile import CaseFile
from certarchive.crypto.sm import sm3_hex
from certarchive.i18n import _
from certarchive.services.cases import get_case
from certarchive.services.context import Context
from certarchive.services.errors import Invalid, NotFound

SIGNATURES = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
MAX_BYTES = 20 * 1024 * 1024
NAME_MAX = 100


def _aad(case: CaseFile, number: int) -> bytes:
    return f"case:{case.case_no}:document:{number}".encode()


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "blob"}


def add_document(
    ctx: Context, case_no: str, name: Any, content_type: Any, data: bytes
) -> dict[str, Any]:
    ctx.require("case.write")
    problems = {}
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_MAX or "/" in name:
        problems["name"] = f"1..{NAME_MAX} characters, no '/'"
    expected = SIGNATURES.get(content_type) if isinstance(content_type, str) else None
    if expected is None:
        problems["content_type"] = _(
            "须为（${signatures_join}）", mapping={"signatures_join": ", ".join(SIGNATURES)}
        )
    elif not data.startswith(expected):
        problems["file"] = _("内容与类型不符")
    if not data:
        problems["file"] = _("文件为空")
    elif len(data) > MAX_BYTES:
        problems["file"] = _("文件过大（${max_bytes}）", mapping={"max_bytes": MAX_BYTES // 2**20})
    if problems:
        raise Invalid(_("扫描件无效"), problems)
    case = get_case(ctx, case_no)
    number = len(case.documents) + 1
    blob = Blob()
    with blob.open("w") as out:
        out.write(ctx.keyring.encrypt("files", data, _aad(case, number)))
    case.documents.append(
        {
            "at": ctx.now().isoformat(),
            "actor": ctx.actor.name,
            "name": name.strip(),
            "content_type": content_type,
            "size": len(data),
            "digest": sm3_hex(data),
            "blob": blob,
        }
    )
    record = case.documents[number]
    ctx.audit("case.document.add", f"case:{case.case_no}", None, record["digest"])
    return _metadata(record)


def list_documents(ctx: Context, case_no: str) -> list[dict[str, Any]]:
    ctx.require("case.read")
    return [_metadata(record) for record in get_case(ctx, case_no).documents]


def read_document(ctx: Context, case_no: str, number: int) -> tuple[dict[str, Any], bytes]:
    """The clear document; scanned IDs are personal data, so this needs that permission."""
    ctx.require("certificate.read_personal")
    case = get_case(ctx, case_no)
    if not 1 <= number <= len(case.documents):
        raise NotFound(_("扫描件不存在"))
    data = document_bytes(ctx, case, number)
    ctx.audit("case.document.read", f"case:{case.case_no}", detail={"number": number})
    return _metadata(case.documents[number]), data


def document_bytes(ctx: Context, case: CaseFile, number: int) -> bytes:
    """Decrypt document ``number``; raises DecryptionError if it was moved or altered."""
    with case.documents[number]["blob"].open("r") as stored:
        return ctx.keyring.decrypt("files", stored.read(), _aad(case, number))
