"""Response bodies of the JSON API, declared once: /api/openapi.json shows these models'
JSON Schema, and tests validate the answers the server really gives against them.

They describe what the services return; they do not build it.  Why not serialise through
them: the answers are assembled by the services from ZODB objects (and cached, audited,
masked there), and routing every answer through a model would add a copy per request for
no check the tests do not already make.  Closed objects (``extra="forbid"``) are the ones
this API owns; ``extra="allow"`` marks records whose keys another module owns (audit
entries, checkpoints, stored revocation records), documented by the keys always present.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from certarchive.audit.queue import LOG_NAMES
from certarchive.schemas.case import (
    DELIVERIES,
    ID_TYPES,
    KINDS,
    REGISTRATION_TYPES,
    CertificateData,
    Party,
)

CERT_STATES = ("draft", "issued", "downloaded", "archived", "revoked")
CASE_STATES = ("received", "recorded", "paid", "certified", "filed")
STATUSES = ("valid", "revoked", "superseded", "withdrawn")
RESULTS = (*STATUSES, "invalid", "unknown", "mismatch", "shared", "share_ended")

Kind = Literal[KINDS]  # type: ignore[valid-type]
CertState = Literal[CERT_STATES]  # type: ignore[valid-type]
CaseState = Literal[CASE_STATES]  # type: ignore[valid-type]
LogName = Literal[tuple(LOG_NAMES)]  # type: ignore[valid-type]


def Time(description: str | None = None) -> Any:
    """An ISO 8601 time, as the services write it."""
    return Field(json_schema_extra={"format": "date-time"}, description=description)


Hex = list[str]


class Answer(BaseModel):
    """A JSON answer whose every key this API owns."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A record whose keys another module owns: the documented ones, and possibly more."""

    model_config = ConfigDict(extra="allow")


class Error(Answer):
    """Every refusal (CONTRACT.md): a code, a message in the reader's language, the bad
    fields."""

    error: str = Field(examples=["invalid", "not_found", "forbidden"])
    message: str = Field(
        description="in the request's language: the lang cookie, else Accept-Language, else Chinese"
    )
    fields: dict[str, str] = Field(description="JSON path of every bad field -> problem")


class Health(Answer):
    status: Literal["ok", "uninitialised"]


class MaskedParty(Answer):
    """A party as someone without the right to read personal data sees it (H-5.2.3)."""

    name: str = Field(description="张* for natural persons")
    id_type: Literal[ID_TYPES]  # type: ignore[valid-type]
    id_number: str = Field(description="4101**********1234")


AnyParty = Party | MaskedParty


class HistoryEntry(Answer):
    """One workflow transition (H-5.2.4)."""

    number: int = Field(description="position in the history, from 1")
    at: str = Time()
    actor: str
    role: str | None
    transition: str
    from_: str = Field(alias="from")
    to: str
    comment: str


class CertificateBrief(Answer):
    id: str
    kind: Kind
    state: CertState
    serial: str | None


class Case(Answer):
    case_no: str
    registration_type: Literal[REGISTRATION_TYPES]  # type: ignore[valid-type]
    state: CaseState
    delivery: Literal[DELIVERIES]  # type: ignore[valid-type]
    recorded_at: str = Time()
    replaces: list[str]
    paid: bool
    filed_at: str | None = Time()
    certificates: list[CertificateBrief]
    history: list[HistoryEntry]


class FilingQueue(Answer):
    cases: list[Case]


class RevocationRecord(Open):
    """The stored revocation record (H-4.2, H-4.3)."""

    cause: str
    cause_label: str
    at: str = Time()


class CertificateMetadata(Answer):
    """What staff and institutions see; parties masked unless the caller may read them."""

    id: str
    kind: Kind
    state: CertState
    serial: str | None
    case_no: str
    unit_number: str
    location: str | None
    holders: list[AnyParty] = Field(
        default=[], description="masked unless the caller may read personal data"
    )
    obligors: list[AnyParty] = []
    issued_at: str | None = Time()
    first_downloaded_at: str | None = Time("collection time (H-2.2)")
    version: int
    sm3: str | None = Field(description="SM3 of the current file, hex")
    paper_status: Literal["issued", "returned", "lost_announced", None]
    revocation: RevocationRecord | None
    replaces: str | None
    replaced_by: str | None


class PaidCertificate(Answer):
    id: str
    kind: Kind
    serial: str | None
    state: CertState
    verify_url: str | None
    download_code: str | None


class PaymentResult(Answer):
    case_no: str
    state: CaseState
    certificates: list[PaidCertificate]


class Version(Answer):
    number: int
    at: str = Time()
    actor: str
    comment: str
    changed_fields: list[str]
    digest: str = Field(description="SM3 of the version's canonical data")
    file_digests: list[str]


class VersionDetail(Version):
    """One version with its data and what changed from the one before."""

    data: CertificateData
    changes: dict[str, Any]


class History(Answer):
    serial: str | None
    history: list[HistoryEntry]


class Versions(Answer):
    serial: str | None
    versions: list[Version]


class ScannedDocument(Answer):
    number: int
    name: str
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    size: int
    digest: str = Field(description="SM3 of the document, hex")
    at: str = Time()
    actor: str


class ScannedDocuments(Answer):
    case_no: str
    documents: list[ScannedDocument]


class HolderSession(Answer):
    token: str
    idle_timeout: int
    expires_in: int
    certificates: int


class HolderCertificate(Answer):
    serial: str
    kind: Kind
    state: CertState
    location: str | None
    unit_number: str
    issued_at: str | None
    first_downloaded_at: str | None
    revoked: bool
    replaced_by: str | None
    sm3: str | None = Field(
        description="SM3 of the latest file: the PDF, or the OFD where only OFD is produced"
    )
    formats: list[Literal["pdf", "ofd"]] = Field(
        description="the formats it can be downloaded in (certarchive.formats)"
    )
    pdf: str | None = Field(description="where to download it as PDF (null: not produced)")
    ofd: str | None = Field(
        description="where to download it as OFD, GB/T 33190 (null: not produced)"
    )


class HolderCertificates(Answer):
    certificates: list[HolderCertificate]


class CodeAccepted(Answer):
    """Z-4: a new code was asked for; the same answer whatever the pair."""

    accepted: bool
    message: str


class ShareCreated(Answer):
    """授权用证: the share's address and code, given once."""

    id: str
    url: str
    code: str
    expires_at: str = Time()


class ShareSummary(Answer):
    id: str
    serial: str
    institution: str
    purpose: str
    created_at: str = Time()
    expires_at: str = Time()
    withdrawn_at: str | None = Time()
    sm3: str | None = Field(description="SM3 of the annotated copy")


class HolderShares(Answer):
    shares: list[ShareSummary]


# --- the auditors' door ----------------------------------------------------------------


class AuditEntry(Open):
    seq: int = Field(description="position in the log, from 0")
    integrated_at: str = Time()
    time: str = Time()
    actor: str | None
    action: str
    object: str | None = Field(
        description="ID and phone numbers typed into URLs are masked unless the caller "
        "may read personal data (H-5.2.3)"
    )


class AuditEntries(Answer):
    log: LogName
    size: int = Field(description="entries sequenced so far")
    entries: list[AuditEntry]


class Checkpoint(Open):
    log: LogName
    size: int
    root: str = Field(description="Merkle tree root (SM3), hex")
    time: str = Time()
    signature: str = Field(description="SM2 signature, hex")


class CheckpointDocument(Answer):
    checkpoint: Checkpoint | None
    public_key_pem: str


class InclusionProof(Answer):
    log: LogName
    seq: int
    size: int
    leaf_hash: str
    proof: Hex = Field(description="node hashes, hex")


class ConsistencyProof(Answer):
    log: LogName
    first: int
    second: int
    proof: Hex = Field(description="node hashes, hex")
