"""What a paper-era certificate (存量证照, Z-2) adds to the case document: declared once.

A line of ``certarchive import-existing`` is the case document of
:mod:`certarchive.schemas.case`, validated exactly as ``POST /api/v1/cases`` validates it,
whose certificates also carry their paper ``serial`` (H-1.6, either bracket form; stored
with ASCII brackets) and ``issued_at`` (ISO 8601 with a zone).  Those two fields are this
model; :func:`certarchive.validation.existing.validate_existing_case` checks the rest.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import field_serializer

from certarchive.schemas.case import RecordedAt, Serial
from certarchive.schemas.rules import Checked

#: The fields a certificate of an existing case adds to the case document.
PAPER_FIELDS = ("serial", "issued_at")


class PaperCertificate(Checked):
    """A certificate's paper serial and the moment it was issued on paper."""

    serial: Serial
    issued_at: RecordedAt

    @field_serializer("issued_at")
    def _iso(self, moment: datetime) -> str:
        return moment.isoformat()
