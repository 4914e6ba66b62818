"""A certificate's PDF made on first request (import-existing --files on-demand).

Importing a million paper-era certificates (Z-2) records them at once, issued and
without a file (``Certificate.file_on_demand``).  The PDF is made, sealed and signed the
first time anyone asks for it (a holder's or staff download, an institution's read, the
verification page or an upload naming it, a share), exactly as
:mod:`.ofd_files` makes an OFD on first request: rendered from the stored version with
its paper issue date, signed now, stamped 已注销 if revoked since, stored like any file
and audited.

Two first requests at once both render; both change the certificate, so ZODB commits
one and retries the other, which then finds the file made: exactly one file is stored.
"""

from __future__ import annotations

from certarchive.content.certificate import Certificate
from certarchive.services.certdata import ON_REQUEST, read_file, store_file
from certarchive.services.context import Context
from certarchive.services.issuance import (
    certificate_document,
    issuing_font,
    signed_files,
    stamp_pdf,
)
from certarchive.services.seals import signer
from certarchive.services.transitions import certificate_label


def pending(cert: Certificate) -> bool:
    """Issued with no file made yet, its files to be made at their first request."""
    return cert.file_on_demand and cert.sealed_file is None and cert.state != "draft"


def pdf_pending(ctx: Context, cert: Certificate) -> bool:
    """Its PDF is to be made at the first request (where PDFs are made at all: with
    ``certarchive.formats = ofd`` only the OFD is, by :mod:`.ofd_files`)."""
    return (
        cert.file_on_demand
        and cert.current_file is None
        and cert.state != "draft"
        and "pdf" in ctx.runtime.settings.formats
    )


def ensure_pdf(ctx: Context, cert: Certificate) -> None:
    """Make the pending certificate's PDF now (in the caller's transaction)."""
    if not pdf_pending(ctx, cert):
        return
    seal = signer(ctx, ctx.agency(cert.agency))
    doc = certificate_document(ctx, cert)
    made = signed_files(doc, ("pdf",), issuing_font(ctx), seal, None, ctx.now())["pdf"]
    record = store_file(ctx, cert, made.data, ON_REQUEST, made.signer)
    cert.file_on_demand = False  # also makes two first requests conflict (one retries)
    ctx.audit("certificate.file.generate", certificate_label(cert), None, record["digest"])
    if cert.state == "revoked":
        stamp_pdf(ctx, cert)


def current_pdf(ctx: Context, cert: Certificate) -> bytes:
    """The certificate's current PDF, made now if it is pending."""
    ensure_pdf(ctx, cert)
    return read_file(ctx, cert)
