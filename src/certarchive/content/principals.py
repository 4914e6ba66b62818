"""Who may act: staff users and API clients.  Secrets are stored only as hashes."""

from __future__ import annotations

from datetime import datetime

from persistent import Persistent

ROLES = ("admin", "registrar", "archivist", "backup_operator", "auditor")
#: A clerk of a bank or another institution (因特网从业端, H-N2): not a staff role (an
#: admin cannot give it or take it away), bound to one API client.
INSTITUTION_ROLE = "institution"
ALL_ROLES = (*ROLES, INSTITUTION_ROLE)
SCOPES = (
    "cases:write",
    "certificates:read",
    "certificates:download",
    "certificates:manage",
    "cases:file",
    "audit:read",
    "backups:run",
)


class User(Persistent):
    #: An institution's clerk: the key id of the API client it is bound to (its scopes and
    #: agency are the clerk's), and whether the clerk administers the institution's clerks.
    institution: str | None = None
    institution_admin: bool = False

    def __init__(self, name: str, role: str, password_hash: str, agency: str | None) -> None:
        if role not in ALL_ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.name = name
        self.role = role
        self.password_hash = password_hash
        self.agency = agency  # None: every agency (province-wide admin or auditor)
        self.failed_logins = 0
        self.locked_until: datetime | None = None
        self.totp_secret_sealed: bytes | None = None
        self.totp_last_step: int | None = None  # a TOTP code is accepted once


class ApiClient(Persistent):
    def __init__(
        self,
        name: str,
        key_id: str,
        key_hash: str,
        scopes: tuple[str, ...],
        agency: str | None = None,
    ) -> None:
        unknown = [scope for scope in scopes if scope not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope {unknown[0]!r}")
        self.name = name
        self.key_id = key_id
        self.key_hash = key_hash
        self.scopes = tuple(scopes)
        self.agency = agency  # None: every agency (a province-wide system)
        self.revoked = False
