"""Which permissions a staff role, an API scope, a holder or the system carries.

Workflow guards and service functions check permissions, never role names, so a role
or scope is defined in exactly one place: here.
"""

from __future__ import annotations

from certarchive.workflow.engine import Actor

READ = frozenset({"case.read", "certificate.read"})
#: The clerks' desk: the dashboard, search, filing queue and correction requests pages.
#: Auditors read cases and certificates (to follow a log entry) but have no desk.
DESK = READ | {"desk.read"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": DESK | {"admin.users", "admin.clients", "admin.keys", "audit.read", "backup.status"},
    "registrar": DESK
    | {
        "certificate.read_personal",
        "certificate.download_file",
        "certificate.manage",
        "certificate.issue",
        "certificate.revoke",
    },
    "archivist": DESK | {"case.file", "certificate.download_file"},
    "backup_operator": frozenset(
        {"backup.export", "backup.verify", "backup.restore", "backup.status"}
    ),
    "auditor": READ | {"audit.read"},
}

SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    # certificate.read: the revoke endpoint answers with the certificate's (masked) metadata
    "cases:write": frozenset(
        {"case.write", "case.read", "certificate.read", "certificate.issue", "certificate.revoke"}
    ),
    "certificates:read": frozenset({"certificate.read"}),
    "certificates:download": frozenset({"certificate.read", "certificate.download_file"}),
    "certificates:manage": READ
    | {
        "certificate.manage",
        "certificate.issue",
        "certificate.revoke",
        "certificate.read_personal",
    },
    "cases:file": READ | {"case.file"},
    "audit:read": frozenset({"audit.read"}),
    "backups:run": frozenset({"backup.export", "backup.verify", "backup.status"}),
}

HOLDER_PERMISSIONS = frozenset({"certificate.download", "holder.read"})
#: The scopes of a sharing institution (a bank, an agency): its calls go to the sharing
#: log, and only such a client can have clerks who sign in (H-N2).
SHARING_SCOPES = frozenset({"certificates:read", "certificates:download"})
#: What an institution's clerk holds besides its client's scope permissions; its admin
#: also adds and disables the institution's clerks.
INSTITUTION_PERMISSIONS = frozenset({"institution.lookup"})
INSTITUTION_ADMIN_PERMISSIONS = INSTITUTION_PERMISSIONS | {"institution.users"}
SYSTEM_PERMISSIONS = frozenset().union(
    *ROLE_PERMISSIONS.values(),
    *SCOPE_PERMISSIONS.values(),
    HOLDER_PERMISSIONS,
    INSTITUTION_ADMIN_PERMISSIONS,
)


def staff_actor(name: str, role: str, agency: str | None = None) -> Actor:
    return Actor(name, role, ROLE_PERMISSIONS[role], agency)


def client_actor(name: str, scopes: tuple[str, ...], agency: str | None = None) -> Actor:
    permissions = frozenset().union(*(SCOPE_PERMISSIONS[scope] for scope in scopes))
    return Actor(f"client:{name}", "client", permissions, agency)


def institution_actor(name: str, scopes: tuple[str, ...], agency: str | None, admin: bool) -> Actor:
    """A clerk of an institution: exactly its API client's scopes and agency (the same
    access rules as its keys), signed in under its own name."""
    extra = INSTITUTION_ADMIN_PERMISSIONS if admin else INSTITUTION_PERMISSIONS
    permissions = client_actor(name, scopes, agency).permissions | extra
    return Actor(name, "institution", permissions, agency)


def holder_actor(label: str) -> Actor:
    """A holder signed in with ID number and download code; ``label`` is not personal data."""
    return Actor(f"holder:{label}", "holder", HOLDER_PERMISSIONS)


SYSTEM = Actor("system", "system", SYSTEM_PERMISSIONS)
