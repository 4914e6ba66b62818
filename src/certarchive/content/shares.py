"""Shares (授权用证): a holder lets one institution see an annotated copy (加注件) of a
certificate, for one purpose and a limited time.

The copy itself is made once, when the share is created, and kept encrypted like a
certificate file; the share's address holds a random token and its code is short enough
to read out, so both are stored only as keyed digests (the registry can recognise them,
a copy of the database cannot use them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from BTrees.OOBTree import OOBTree
from persistent import Persistent


class Share(Persistent):
    def __init__(
        self,
        share_id: str,
        agency: str,
        cert_id: str,
        serial: str,
        institution: str,
        purpose: str,
        holder: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.id = share_id
        self.agency = agency
        self.cert_id = cert_id
        self.serial = serial
        self.institution = institution
        self.purpose = purpose
        self.holder = holder  # the holder's pseudonymous label, never the ID number
        self.created_at = created_at
        self.expires_at = expires_at
        self.withdrawn_at: datetime | None = None
        self.file: dict[str, Any] | None = None  # {"blob", "digest", "size"} of the copy

    def live(self, now: datetime) -> bool:
        return self.withdrawn_at is None and now < self.expires_at

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "serial": self.serial,
            "institution": self.institution,
            "purpose": self.purpose,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
            "sm3": self.file["digest"] if self.file else None,
        }


class ShareBook(Persistent):
    """Every share, and the keyed digests of their tokens and codes."""

    def __init__(self) -> None:
        self.shares = OOBTree()  # id -> Share
        self.by_token = OOBTree()  # keyed digest of the URL token -> id
        self.by_code = OOBTree()  # keyed digest of the access code -> id
        self.by_certificate = OOBTree()  # "agency/cert id" -> tuple of ids
