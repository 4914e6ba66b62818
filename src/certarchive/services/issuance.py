"""The issuance pipeline: the subscribers behind the ``issue`` and ``revoke`` transitions.

On issue (H-2.1, H-1.6, H-3.1): take the next serial if the certificate has none (a
rolled-back certificate keeps its serial), a verification token, render the seal and
data pages, sign them with the seal key, digest (SM3), encrypt (SM4-GCM) and store the
file, all inside the issuing transaction.  On revoke (H-1.7): stamp 已注销 on every page as
a signed incremental update; the stamped file becomes current, the earlier one stays in
the file log.  Nothing here leaves the transaction, so a retried request repeats nothing.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from ZODB.POSException import ConflictError

from certarchive.content.certificate import Certificate
from certarchive.content.serials import continue_after, next_serial
from certarchive.documents.model import AgencyStamp, CertificateDocument
from certarchive.documents.render import certificate_pages, render_certificate
from certarchive.documents.signature import sign_pdf
from certarchive.documents.watermark import stamp_revoked
from certarchive.ofd.sign import OfdSeal
from certarchive.services.certdata import read_data, read_file, store_file
from certarchive.services.context import Context
from certarchive.services.ofd_files import eseal, revocation_of, revoke_ofd, sealed_ofd
from certarchive.services.seals import signer
from certarchive.services.search_index import index_number
from certarchive.signing.signer import Signer
from certarchive.validation.identifiers import build_licence_identifier, parse_serial
from certarchive.workflow.engine import Actor
from certarchive.workflow.model import Transition

CHINA = timezone(timedelta(hours=8), "CST")  # no daylight saving: a fixed offset is exact
TOKEN_BYTES = 24  # 192 random bits, URL-safe; never derived from the serial
ISSUING_WAIT = 60  # seconds; then the request is retried like any conflict
_ISSUING = threading.Lock()


@cache
def _stamp(agency_settings: tuple[tuple[str, object], ...], kind: str) -> AgencyStamp:
    settings = dict(agency_settings)
    return AgencyStamp(
        province=str(settings["province"]),
        county=str(settings["county"]),
        agency_name=str(settings["agency_name"]),
        seal_name=str(settings["seal_name"]),
        seal_number=str(settings["seal_number"]),
        statement=str(settings["statement" if kind == "right" else "statement_proof"]),
    )


def issuing_font(ctx: Context) -> str | None:
    font = ctx.runtime.settings.font_path
    return str(font) if font else None


def verify_url(ctx: Context, token: str) -> str:
    return verification_address(ctx.runtime.settings.public_base_url, token)


def verification_address(public_base_url: str, token: str) -> str:
    """The address the QR code carries (H-1.3)."""
    return f"{public_base_url}/v/{token}"


def licence_identifier(settings: Any, kind: str, serial: str, version: int) -> str:
    """The GB/T 36904 identifier of a certificate's ``version``, printed on it and
    reported to the e-licence library."""
    parts = parse_serial(serial)
    return build_licence_identifier(
        settings[f"licence_type_{kind}"],
        settings["credit_code"],
        f"{settings['county_code']}{parts.year}{parts.seq:0{parts.width}d}",
        min(version, 999),
    )


def certificate_document(ctx: Context, cert: Certificate) -> CertificateDocument:
    assert cert.serial is not None and cert.token is not None and cert.issued_at is not None
    return document_of(
        ctx.agency(cert.agency).settings,
        ctx.runtime.settings.public_base_url,
        IssuedData(
            cert.kind,
            cert.serial,
            cert.token,
            cert.issued_at,
            read_data(ctx, cert),
            cert.version,
            cert.versions[cert.version]["digest"],
        ),
    )


@dataclass(frozen=True)
class IssuedData:
    """What a certificate's file shows besides its agency: known before the certificate
    is stored, so that an import's worker processes can render it (import-existing)."""

    kind: str
    serial: str
    token: str
    issued_at: datetime
    data: Mapping[str, Any]
    version: int
    record_digest: str


def document_of(
    settings: Mapping[str, Any], public_base_url: str, issued: IssuedData
) -> CertificateDocument:
    """The page description's input: the agency's settings and the certificate's data."""
    parts = parse_serial(issued.serial)
    return CertificateDocument(
        kind=issued.kind,
        serial=issued.serial,
        licence_id=licence_identifier(settings, issued.kind, issued.serial, issued.version),
        print_number=f"{settings['county_code']}{parts.year % 100:02d}{parts.seq:0{parts.width}d}",
        issued_at=issued.issued_at,
        data=dict(issued.data),
        verify_url=verification_address(public_base_url, issued.token),
        version=issued.version,
        record_digest=issued.record_digest,
        agency=_stamp(tuple(sorted(settings.items())), issued.kind),
    )


@dataclass(frozen=True)
class SignedFile:
    """A sealed and signed file with the seal certificate that signed it."""

    data: bytes
    signer: dict[str, str]


@dataclass(frozen=True)
class PaperIssue:
    """A certificate issued on paper before the electronic system (Z-2): issuing it keeps
    its paper serial and issue time, the token the import gave it (so that a worker could
    render its QR code), and the ``files`` a worker made; with neither ``files`` nor
    ``on_demand`` they are made in the issuing transaction."""

    serial: str
    issued_at: datetime
    token: str
    files: Mapping[str, SignedFile] | None = None
    on_demand: bool = False


def signed_files(
    doc: CertificateDocument,
    formats: Iterable[str],
    font_path: str | None,
    seal: Signer,
    seseal: bytes | None,
    signed_at: datetime,
) -> dict[str, SignedFile]:
    """The certificate's files in ``formats`` ("pdf", "ofd"), rendered from one page
    description and signed at ``signed_at``; touches no database, so that worker
    processes can run it (import-existing --workers).  ``seseal`` is the agency's SESeal
    (:func:`~certarchive.services.ofd_files.eseal`), needed for an OFD only."""
    pages = certificate_pages(doc, font_path=font_path)  # described once for both formats
    files = {}
    if "pdf" in formats:
        pdf = render_certificate(doc, font_path=font_path, pages=pages)
        # i18n: keep (the signature's /Reason, written into the signed file)
        signed = sign_pdf(pdf, seal, "签发 / issued", signed_at=signed_at)
        files["pdf"] = SignedFile(signed, seal.summary)
    if "ofd" in formats:
        assert seseal is not None, "an OFD needs the agency's SESeal"
        package = sealed_ofd(doc, font_path, OfdSeal(seal, seseal), signed_at, pages=pages)
        files["ofd"] = SignedFile(package, seal.summary)
    return files


def _issue_alone(ctx: Context) -> None:
    """Hold this process's issuing lock until the transaction commits or aborts.

    Two threads issuing at once would both read the same serial counter, render, and
    then one would lose the commit and render again.  Within a process they take turns
    instead (rendering is CPU-bound, so nothing is lost); between processes ZODB's
    conflict detection and retries still keep the serials gapless.
    """
    txn = ctx.conn.transaction_manager.get()
    try:
        txn.data(_ISSUING)
        return  # this transaction holds the lock already: it issues several certificates
    except KeyError:
        pass
    if not _ISSUING.acquire(timeout=ISSUING_WAIT):
        raise ConflictError("timed out waiting for another issuance in this process")
    released = False

    def release(*_status: object) -> None:
        nonlocal released
        if not released:
            released = True
            _ISSUING.release()

    txn.set_data(_ISSUING, True)
    txn.addAfterCommitHook(release)
    txn.addAfterAbortHook(release)


def render_and_store(cert: Certificate, transition: Transition, actor: Actor, ctx: Context) -> None:
    """Number, render, sign and store the certificate being issued; a certificate issued
    on paper before (``ctx.paper_issues``, import-existing) keeps its serial and issue
    time, and takes the files a worker made, or none yet when they are made on demand."""
    _issue_alone(ctx)
    agency = ctx.agency(cert.agency)
    catalog = agency.catalog
    paper = ctx.paper_issues.pop(cert.id, None)
    now = ctx.now()
    issued_at = now if paper is None else paper.issued_at
    if paper is not None:
        cert.serial = paper.serial
        catalog.serial[cert.serial] = cert.id
        index_number(catalog, cert.id, cert.serial)
        continue_after(agency, parse_serial(paper.serial))
        cert.token = paper.token
        catalog.token[cert.token] = cert.id
    if cert.serial is None:
        cert.serial = next_serial(agency, cert.kind, now.astimezone(CHINA).year)
        catalog.serial[cert.serial] = cert.id
        index_number(catalog, cert.id, cert.serial)
    if cert.token is None:
        cert.token = secrets.token_urlsafe(TOKEN_BYTES)
        catalog.token[cert.token] = cert.id
    cert.issued_at = issued_at
    catalog.issue_date.add(issued_at.astimezone(CHINA).date().isoformat(), cert.id)
    formats = ctx.runtime.settings.formats
    if paper is not None and paper.on_demand:
        cert.file_on_demand = True
        return
    files = paper.files if paper is not None else None
    if files is None:
        seseal = eseal(ctx, agency) if "ofd" in formats else None
        doc = certificate_document(ctx, cert)
        files = signed_files(doc, formats, issuing_font(ctx), signer(ctx, agency), seseal, now)
    for file_format, file in files.items():
        store_file(ctx, cert, file.data, "issued", file.signer, file_format=file_format)


def stamp_revocation(cert: Certificate, transition: Transition, actor: Actor, ctx: Context) -> None:
    """Stamp 已注销 on every file format the certificate has (H-1.7)."""
    stamp_pdf(ctx, cert)
    revoke_ofd(ctx, cert)


def stamp_pdf(ctx: Context, cert: Certificate) -> None:
    """Stamp the current PDF 已注销 as a signed update; nothing to do without a PDF."""
    if cert.current_file is None:
        return
    revocation = revocation_of(cert)
    seal = signer(ctx, ctx.agency(cert.agency))
    stamped = stamp_revoked(
        read_file(ctx, cert),
        seal,
        revocation.revoked_on,
        revocation.cause,
        font_path=issuing_font(ctx),
        signed_at=ctx.now(),
    )
    store_file(ctx, cert, stamped, "revoked", seal.summary)
