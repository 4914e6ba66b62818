"""Response bodies of the public pages: what the QR code's ``/v/{token}.json`` and an
uploaded file's ``POST /verify`` answer (H-1.3, H-5.1.2, H-5.2.3, H-5.2.6), declared once
for /api/openapi.json and for the tests that validate real answers against them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from certarchive.schemas.answers import (
    RESULTS,
    STATUSES,
    Answer,
    Kind,
    MaskedParty,
    Open,
    Time,
)

Status = Literal[STATUSES]  # type: ignore[valid-type]
SignatureFormat = Literal["standard", "earlier"]


class SigningCertificate(Answer):
    """The seal certificate that signed a file (H-5.1.1)."""

    subject: str
    issuer: str
    serial_number: str = Field(description="hexadecimal")
    not_before: str = Time()
    not_after: str = Time()
    sm3: str = Field(description="SM3 of the certificate's DER, hex")


class Seal(Answer):
    name: str | None
    number: str | None


class PublicRevocation(Answer):
    revoked_on: str = Field(json_schema_extra={"format": "date"})
    cause: Literal["transfer", "change", "cancellation", "correction"]
    cause_label: str


class DataPageRow(Answer):
    """One row of the data page (H-1.2), personal data masked."""

    label: str
    value: str


class PublicCertificate(Answer):
    """The public facts of a certificate; names and ID numbers masked (H-5.2.3)."""

    status: Status
    status_text: str
    kind: Kind
    kind_title: str
    serial: str | None
    holders: list[MaskedParty]
    obligors: list[MaskedParty] = Field(default=[], description="proofs only")
    location: str | None
    unit_number: str
    issued_on: str | None = Field(json_schema_extra={"format": "date"})
    agency: str
    seal: Seal
    sm3: str | None
    signed_with: SigningCertificate | None
    revocation: PublicRevocation | None
    replaced_by: str | None
    verify_url: str | None = None
    data_page: list[DataPageRow] = Field(description="every row of the data page, in order")
    verified_at: str = Time("when this verification was made (China time)")
    reference: str = Field(
        description="a keyed digest of the certificate and the time: the registry can "
        "confirm a printed page it produced"
    )


class SignatureFacts(Answer):
    signer: str | None
    reason: str | None
    signed_at: str | None = Time()
    format: SignatureFormat
    intact: bool
    certificate: SigningCertificate | None


class Signature(Answer):
    valid: bool
    format: SignatureFormat | None = Field(
        description="standard: CMS (SM2/SM3) in /Adobe.PPKLite; earlier: the format of "
        "files issued before standard signatures"
    )
    format_text: str
    signatures: list[SignatureFacts]


class RevocationStamp(Answer):
    revoked_on: str
    cause: str


class RegistryFacts(Open):
    """What the registry knows of the file: found, which stored file it is, problems."""

    found: bool
    file_record: dict[str, Any] | None
    problems: list[str]


class AnnotatedCopy(Answer):
    """An annotated copy's words (加注件): for whom, what for, until when."""

    institution: str
    purpose: str
    valid_until: str = Field(json_schema_extra={"format": "date"})
    text: str


class VerificationResult(Answer):
    result: Literal[RESULTS]  # type: ignore[valid-type]
    result_text: str
    summary: list[str]
    problems: list[str]
    file_sm3: str
    size: int
    file_format: Literal["pdf", "ofd"] = Field(description="what the uploaded file is")
    signature: Signature
    revocation_stamp: RevocationStamp | None
    annotated_copy: AnnotatedCopy | None = None
    registry: RegistryFacts
    certificate: PublicCertificate | None
