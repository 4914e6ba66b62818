"""The byte formats of the stamp markers, written with a stamp and read by verify: the
revocation marker (已注销) and the share marker (加注件, an annotated copy for one
institution).

A revocation (H-1.7, H-4.2) appends a watermark update and then a new seal signature.
The watermark update carries one marker object, laid out exactly as::

    << /Type /CertarchiveRevocation /RevokedOn (2026-12-01) /Cause <FEFF…> >>

The verifier accepts an update between two signatures only if it carries this marker
(and nothing that restructures the document, see :func:`restructures`); the later
signature covers it, so the revocation date and cause are as authentic as the seal.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from certarchive.documents.sigdict import decode_text_string, text_string

MARKER_TYPE = b"/CertarchiveRevocation"

_MARKER = re.compile(
    rb"<<\s*/Type\s*" + re.escape(MARKER_TYPE) + rb"\s*/RevokedOn\s*\((\d{4}-\d\d-\d\d)\)"
    rb"\s*/Cause\s*<([0-9A-Fa-f]*)>\s*>>"
)
#: Object types a watermark update never defines: their presence means the update adds
#: pages, fields, annotations, signatures or a new catalog, i.e. it is not a stamp.
_STRUCTURAL = re.compile(rb"/Type\s*/(?:Catalog|Pages|Sig|Annot)(?![A-Za-z0-9_.])")


#: The causes of a revocation and the label a stamp prints for each (H-4.2).
REVOCATION_CAUSES = {
    "transfer": "转移登记",
    "change": "变更登记",
    "cancellation": "注销登记",
    "correction": "更正登记",
}


@dataclass(frozen=True)
class Revocation:
    """The revocation a stamp records."""

    revoked_on: datetime.date
    cause: str


def marker(revocation: Revocation) -> bytes:
    """The marker object's body."""
    return (
        b"<< /Type "
        + MARKER_TYPE
        + b" /RevokedOn ("
        + revocation.revoked_on.isoformat().encode()
        + b")"
        + b" /Cause "
        + text_string(revocation.cause)
        + b" >>"
    )


def find_markers(update: bytes) -> list[Revocation]:
    """Every well-formed marker in an update's bytes (malformed ones are ignored)."""
    found = []
    for match in _MARKER.finditer(update):
        try:
            day = datetime.date.fromisoformat(match.group(1).decode())
            cause = decode_text_string(match.group(2))
        except ValueError:
            continue
        found.append(Revocation(day, cause))
    return found


def restructures(update: bytes) -> bool:
    """Whether an update defines objects that a watermark stamp never writes."""
    return _STRUCTURAL.search(update) is not None


SHARE_TYPE = b"/CertarchiveShare"
_SHARE = re.compile(
    rb"<<\s*/Type\s*" + re.escape(SHARE_TYPE) + rb"\s*/Share\s*\(([0-9a-f]{16,64})\)"
    rb"\s*/ValidUntil\s*\((\d{4}-\d\d-\d\d)\)\s*/Institution\s*<([0-9A-Fa-f]*)>"
    rb"\s*/Purpose\s*<([0-9A-Fa-f]*)>\s*>>"
)


@dataclass(frozen=True)
class ShareMark:
    """What an annotated copy (加注件) says: for whom, for what, until when."""

    share_id: str
    institution: str
    purpose: str
    valid_until: datetime.date

    @property
    def text(self) -> str:
        """The words stamped on every page (CONTRACT.md)."""
        until = f"{self.valid_until.year}年{self.valid_until.month}月{self.valid_until.day}日"
        return f"仅供{self.institution}{self.purpose}使用，有效期至{until}"


def share_marker(mark: ShareMark) -> bytes:
    return (
        b"<< /Type "
        + SHARE_TYPE
        + b" /Share ("
        + mark.share_id.encode()
        + b") /ValidUntil ("
        + mark.valid_until.isoformat().encode()
        + b") /Institution "
        + text_string(mark.institution)
        + b" /Purpose "
        + text_string(mark.purpose)
        + b" >>"
    )


def find_share_markers(update: bytes) -> list[ShareMark]:
    found = []
    for match in _SHARE.finditer(update):
        try:
            found.append(
                ShareMark(
                    match.group(1).decode(),
                    decode_text_string(match.group(3)),
                    decode_text_string(match.group(4)),
                    datetime.date.fromisoformat(match.group(2).decode()),
                )
            )
        except ValueError:
            continue
    return found
