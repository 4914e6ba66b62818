"""The catalogue entry of one report, built from the registry when the report is sent.

What the issuing (or revoking) transaction queued is a reference (:func:`reference`):
the certificate, the data version, the time of issue and which file, as they were at the
event.  The entry is built from it and the registry (holders of that version, the
agency's name, credit code and licence type, the revocation, the links to re-issues),
read from the stored file, checked against its stored SM3, and validated against
:class:`certarchive.schemas.reporting.LibraryReport`.  A required item the registry
lacks is refused by :class:`EntryIncomplete`, naming the item and the standard's
element it carries.
"""

from __future__ import annotations

import base64
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import sm3_hex
from certarchive.documents.model import KIND_TITLES
from certarchive.i18n import _
from certarchive.schemas.errors import checked
from certarchive.schemas.reporting import LibraryReport, standard_item
from certarchive.services.certdata import read_data, read_file
from certarchive.services.context import Context
from certarchive.services.issuance import licence_identifier

OFD = "ofd"
PDF = "pdf"


class EntryIncomplete(Exception):
    """The entry cannot be sent as the standard requires; ``fields`` names each item."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def reference(cert: Certificate, event: str) -> dict[str, Any]:
    """What a report keeps of its certificate at the event (no personal data): the file
    sent is the OFD where one was made, else the PDF; none yet for a certificate whose
    files are made at their first request (the report is that request)."""
    file_format = OFD if cert.file_log(OFD) is not None and len(cert.file_log(OFD)) else PDF
    log = cert.file_log(file_format)
    return {
        "event": event,
        "agency": cert.agency,
        "cert": cert.id,
        "version": cert.version,
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
        "format": file_format,
        "file": len(log) if log is not None and len(log) else None,
    }


def _holders(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": h.get("name"), "id_type": h.get("id_type"), "id_number": h.get("id_number")}
        for h in data.get("holders") or ()
    ]


def _file(ctx: Context, cert: Certificate, ref: dict[str, Any]) -> dict[str, Any]:
    number, file_format = ref["file"], ref["format"]
    if number is None:  # made at its first request (import-existing --files on-demand)
        from certarchive.services.certificates import current_file_bytes  # (a cycle)

        file_format = OFD if OFD in ctx.runtime.settings.formats else PDF
        current_file_bytes(ctx, cert, file_format)  # made and stored now if it has none
        number = len(cert.file_log(file_format))
    data = read_file(ctx, cert, number, file_format)
    digest = sm3_hex(data)
    if digest != cert.file_log(file_format)[number]["digest"]:
        raise EntryIncomplete(
            {"licence.file": _("文件与登记的SM3摘要不符")}
        )
    return {
        "file_sm3": digest,
        "file_format": file_format,
        "file": base64.b64encode(data).decode("ascii"),
    }


def _present(entry: dict[str, Any]) -> dict[str, Any]:
    """Without the items the registry lacks, so that the schema calls them missing."""
    return {k: v for k, v in entry.items() if v not in (None, "")}


def build_report(ctx: Context, event_id: str, ref: dict[str, Any]) -> dict[str, Any]:
    """The body of the report, validated; :class:`EntryIncomplete` if it cannot be."""
    agency = ctx.agency(ref["agency"])
    cert = agency.certificates[ref["cert"]]
    settings = agency.settings
    revoked = ref["event"] == "revoked"
    revocation = cert.revocation if revoked else None
    type_code = settings.get(f"licence_type_{cert.kind}")
    licence_id = None
    if cert.serial and type_code and settings.get("credit_code"):
        licence_id = licence_identifier(settings, cert.kind, cert.serial, ref["version"])
    entry = {
        "licence_id": licence_id,
        "serial": cert.serial,
        "type_code": type_code,
        "type_name": KIND_TITLES.get(cert.kind),
        "holders": [_present(h) for h in _holders(read_data(ctx, cert, ref["version"]))],
        "agency": settings.get("agency_name"),
        "agency_code": settings.get("credit_code"),
        "unit_number": cert.unit_number,
        "issued_at": ref["issued_at"],
        "status": "revoked" if revoked else "valid",
        "revoked_at": revocation["at"] if revocation else None,
        "revocation_cause": revocation["cause_label"] if revocation else None,
        "replaces": cert.replaces,
        "replaced_by": cert.replaced_by,
        **_file(ctx, cert, ref),
    }
    body = {"id": event_id, "event": ref["event"], "licence": _present(entry)}
    result = checked(LibraryReport, body)
    if isinstance(result, dict):
        raise EntryIncomplete(
            {path: f"{problem} ({standard_item(path) or path})" for path, problem in result.items()}
        )
    return result.model_dump(mode="json", exclude_none=True)
