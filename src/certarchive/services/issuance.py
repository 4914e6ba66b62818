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
from datetime import timedelta, timezone
from functools import cache
from typing import Any

from ZODB.POSException import ConflictError

from certarchive.content.certificate import Certificate
from certarchive.content.serials import next_serial
from certarchive.documents.model import AgencyStamp, CertificateDocument
from certarchive.documents.render import certificate_pages, render_certificate
from certarchive.documents.signature import sign_pdf
from certarchive.documents.watermark import stamp_revoked
from certarchive.services.certdata import read_data, read_file, store_file
from certarchive.services.context import Context
from certarchive.services.ofd_files import issue_ofd, revocation_of, revoke_ofd
from certarchive.services.seals import signer
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


def _font(ctx: Context) -> str | None:
    font = ctx.runtime.settings.font_path
    return str(font) if font else None


def verify_url(ctx: Context, token: str) -> str:
    return f"{ctx.runtime.settings.public_base_url}/v/{token}"


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
    agency = ctx.agency(cert.agency)
    assert cert.serial is not None and cert.token is not None and cert.issued_at is not None
    parts = parse_serial(cert.serial)
    settings = agency.settings
    return CertificateDocument(
        kind=cert.kind,
        serial=cert.serial,
        licence_id=licence_identifier(settings, cert.kind, cert.serial, cert.version),
        print_number=f"{settings['county_code']}{parts.year % 100:02d}{parts.seq:0{parts.width}d}",
        issued_at=cert.issued_at,
        data=read_data(ctx, cert),
        verify_url=verify_url(ctx, cert.token),
        version=cert.version,
        record_digest=cert.versions[cert.version]["digest"],
        agency=_stamp(tuple(sorted(settings.items())), cert.kind),
    )


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
    _issue_alone(ctx)
    agency = ctx.agency(cert.agency)
    catalog = agency.catalog
    now = ctx.now()
    if cert.serial is None:
        cert.serial = next_serial(agency, cert.kind, now.astimezone(CHINA).year)
        catalog.serial[cert.serial] = cert.id
    if cert.token is None:
        cert.token = secrets.token_urlsafe(TOKEN_BYTES)
        catalog.token[cert.token] = cert.id
    cert.issued_at = now
    catalog.issue_date.add(now.astimezone(CHINA).date().isoformat(), cert.id)
    formats = ctx.runtime.settings.formats
    doc = certificate_document(ctx, cert)
    pages = certificate_pages(doc, font_path=_font(ctx))  # described once for both formats
    if "pdf" in formats:
        seal = signer(ctx, agency)
        pdf = render_certificate(doc, font_path=_font(ctx), pages=pages)
        signed = sign_pdf(pdf, seal, "签发 / issued", signed_at=now)
        store_file(ctx, cert, signed, "issued", seal.summary)
    if "ofd" in formats:
        issue_ofd(ctx, cert, now, "issued", doc=doc, pages=pages)


def stamp_revocation(cert: Certificate, transition: Transition, actor: Actor, ctx: Context) -> None:
    """Stamp 已注销 on every file format the certificate has (H-1.7)."""
    if cert.current_file is not None:
        revocation = revocation_of(cert)
        seal = signer(ctx, ctx.agency(cert.agency))
        stamped = stamp_revoked(
            read_file(ctx, cert),
            seal,
            revocation.revoked_on,
            revocation.cause,
            font_path=_font(ctx),
            signed_at=ctx.now(),
        )
        store_file(ctx, cert, stamped, "revoked", seal.summary)
    revoke_ofd(ctx, cert)
