"""The CaseFile (登记案卷): one registration application and its certificates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from persistent import Persistent
from persistent.list import PersistentList

from certarchive.content.records import RecordLog

REGISTRATION_TYPES = ("first", "transfer", "change", "cancellation", "correction", "mortgage")
# Registrations that end earlier rights: recording one revokes what it replaces (H-4.2).
REPLACING_TYPES = ("transfer", "change", "cancellation")


class CaseFile(Persistent):
    def __init__(
        self,
        agency: str,
        case_no: str,
        registration_type: str,
        recorded_at: datetime,
        delivery: str,
        replaces: tuple[str, ...] = (),
    ) -> None:
        self.agency = agency
        self.case_no = case_no
        self.registration_type = registration_type
        self.recorded_at = recorded_at
        self.delivery = delivery
        self.replaces = tuple(replaces)
        self.state = "received"
        self.certificate_ids: PersistentList = PersistentList()
        self.payment: dict[str, Any] | None = None
        self.filed_at: datetime | None = None
        self.history = RecordLog()
        self.documents = RecordLog()  # scanned application documents, encrypted blobs

    def __repr__(self) -> str:
        return f"<CaseFile {self.case_no} {self.state}>"
