"""A certificate's data and files, encrypted at rest and digested (H-5.2.2, H-5.2.7).

Each version's payload is the certificate data as canonical JSON, SM4-GCM encrypted
under the ``personal`` key and bound to its certificate and version number (AAD), so a
ciphertext copied onto another record fails to decrypt.  Each rendered file is a ZODB
blob holding the ``files``-key ciphertext, bound the same way.  The SM3 digests of the
clear data and of the clear file are stored beside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ZODB.blob import Blob

from certarchive.content.certificate import Certificate
from certarchive.crypto.keyring import Keyring
from certarchive.crypto.sm import sm3_hex
from certarchive.services.context import Context
from certarchive.services.search_index import reindex


def canonical_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def data_digest(data: Mapping[str, Any]) -> str:
    return sm3_hex(canonical_json(data))


def _version_aad(cert: Certificate, number: int) -> bytes:
    return f"certificate:{cert.id}:version:{number}".encode()


def _file_aad(cert: Certificate, number: int, file_format: str = "pdf") -> bytes:
    """Bound to the certificate, the record's number and (for OFD) its log, so that a
    ciphertext moved between records or logs fails to decrypt."""
    if file_format == "pdf":
        return f"certificate:{cert.id}:file:{number}".encode()
    return f"certificate:{cert.id}:{file_format}:{number}".encode()


def append_version(
    ctx: Context,
    cert: Certificate,
    data: Mapping[str, Any],
    comment: str,
    changed_fields: Iterable[str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append a version holding ``data`` and keep the keyed indexes (ID numbers, names,
    address words) in step.  ``extra`` goes into the version's record (a re-issue's
    differences from the certificate it replaces)."""
    previous = read_data(ctx, cert) if cert.version else {}
    catalog = ctx.agency(cert.agency).catalog
    reindex(catalog, ctx.keyring, cert.id, previous, data)
    if data.get("unit_number") != cert.unit_number:
        catalog.unit_number.remove(cert.unit_number, cert.id)
        cert.unit_number = data["unit_number"]
        catalog.unit_number.add(cert.unit_number, cert.id)
    number = cert.version + 1
    record = {
        "at": ctx.now().isoformat(),
        "actor": ctx.actor.name,
        "comment": comment,
        "changed_fields": sorted(changed_fields),
        "digest": data_digest(data),
        "payload": ctx.keyring.encrypt(
            "personal", canonical_json(data), _version_aad(cert, number)
        ),
        **(extra or {}),
    }
    cert.versions.append(record)
    return cert.versions[number]


def read_data(ctx: Context, cert: Certificate, number: int | None = None) -> dict[str, Any]:
    """The clear certificate data of version ``number`` (default: the current one)."""
    return decrypt_version(ctx.keyring, cert, number or cert.version)


def decrypt_version(keyring: Keyring, cert: Certificate, number: int) -> dict[str, Any]:
    record = cert.versions[number]
    clear = keyring.decrypt("personal", record["payload"], _version_aad(cert, number))
    return json.loads(clear)


def version_metadata(cert: Certificate) -> list[dict[str, Any]]:
    """Every version without decrypting anything, with the digests of files rendered from it."""
    files_by_version: dict[int, list[str]] = {}
    for file in cert.files:
        files_by_version.setdefault(file["version"], []).append(file["digest"])
    return [
        {key: value for key, value in record.items() if key != "payload"}
        | {"file_digests": files_by_version.get(record["number"], [])}
        for record in cert.versions
    ]


#: The reason a file log records for a file made at its first request (a certificate
#: imported with ``--files on-demand``, or issued before its format was produced); pages
#: show it through ``LABELS["file_reason"]`` like "issued" and "revoked".
ON_REQUEST = "on-request"


def store_file(
    ctx: Context,
    cert: Certificate,
    pdf: bytes,
    reason: str,
    signer: dict[str, str] | None = None,
    file_format: str = "pdf",
) -> dict[str, Any]:
    """Store ``pdf`` (or an OFD package) as the certificate's current file in its
    format's log; earlier files stay in the log.

    ``signer`` describes the seal certificate that signed it (subject, serial, validity),
    so that pages can name it without reading the file.
    """
    log = cert.file_log(file_format, create=True)
    assert log is not None
    number = len(log) + 1
    blob = Blob()
    with blob.open("w") as out:
        out.write(ctx.keyring.encrypt("files", pdf, _file_aad(cert, number, file_format)))
    record = {
        "at": ctx.now().isoformat(),
        "reason": reason,
        "version": cert.version,
        "digest": sm3_hex(pdf),
        "size": len(pdf),
        "blob": blob,
        "signer": signer,
    }
    if file_format != "pdf":
        record["format"] = file_format
    log.append(record)
    return log[number]


def read_file(
    ctx: Context, cert: Certificate, number: int | None = None, file_format: str = "pdf"
) -> bytes:
    log = cert.file_log(file_format)
    assert log is not None
    number = number or len(log)
    record = log[number]
    with record["blob"].open("r") as stored:
        return ctx.keyring.decrypt("files", stored.read(), _file_aad(cert, number, file_format))


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Field by field: ``{field: {"old": …, "new": …}}`` for every field that differs."""
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }
