"""The Certificate: one electronic 不动产权证书 or 不动产登记证明 (H-1.1).

Its data (holders, location, unit number, …) lives in its version log: every change
appends a version whose payload is the certificate data encrypted by the service layer
(personal data is never stored in clear, H-5.2.3, H-5.2.7), with the SM3 digest of the
clear canonical data beside it (H-5.2.2).  Only non-personal values that indexes need
(unit number) are kept in clear on the object itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from persistent import Persistent

from certarchive.content.records import RecordLog
from certarchive.documents.model import KIND_TITLES

KINDS = tuple(KIND_TITLES)


class Certificate(Persistent):
    state: str
    serial: str | None
    token: str | None  # verification token in the QR code; ≥128 random bits, never the serial

    def __init__(
        self,
        id: str,
        agency: str,
        kind: str,
        case_no: str,
        unit_number: str,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown certificate kind {kind!r}")
        self.id = id
        self.agency = agency
        self.kind = kind
        self.case_no = case_no
        self.unit_number = unit_number
        self.state = "draft"
        self.serial = None
        self.token = None
        self.issued_at: datetime | None = None
        self.first_downloaded_at: datetime | None = None
        self.paper_status: str | None = None  # issued | returned | lost_announced
        self.revocation: dict[str, Any] | None = None  # {"at", "cause", "reason", "case_no"}
        self.replaces: str | None = None  # serial of the certificate this one re-issues
        self.replaced_by: str | None = None
        self.versions = RecordLog()
        self.history = RecordLog()
        self.files = RecordLog()
        self.paper_events = RecordLog()

    @property
    def version(self) -> int:
        return len(self.versions)

    #: The OFD files (GB/T 33190), a log of their own beside the PDFs in ``files``; a class
    #: default so that certificates stored before OFD need no migration (created on first use).
    ofd_files: RecordLog | None = None

    #: Issued without files (import-existing --files on-demand): each is made at its first
    #: request (the PDF by services/pdf_files.py, the OFD by services/ofd_files.py).  A
    #: class default: older certificates need no migration.
    file_on_demand: bool = False

    @property
    def current_file(self) -> dict[str, Any] | None:
        return self.files.latest()

    @property
    def sealed_file(self) -> dict[str, Any] | None:
        """The latest sealed file in the format summaries show: the PDF, or the OFD where
        only OFD files are produced (``certarchive.formats = ofd``)."""
        pdf = self.files.latest()
        if pdf is not None or self.ofd_files is None:
            return pdf
        return self.ofd_files.latest()

    def file_log(self, file_format: str, *, create: bool = False) -> RecordLog | None:
        """The log of files in ``file_format`` ("pdf" or "ofd")."""
        if file_format == "pdf":
            return self.files
        if self.ofd_files is None and create:
            self.ofd_files = RecordLog()
        return self.ofd_files

    @property
    def paper_handed_over(self) -> bool:
        return self.paper_status == "issued"

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.kind} {self.state}>"
