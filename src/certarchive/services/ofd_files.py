"""A certificate's OFD files (GB/T 33190) and each agency's electronic seal (GB/T 38540).

Issuing and revoking write the OFD beside the PDF when ``certarchive.formats`` asks for
it (both by default), in its own encrypted, digested file log (H-5.2.2).  A certificate
issued before OFD existed, or while only PDFs were made, gets its OFD on first request:
rendered from the stored version with its original issue time, sealed then, stamped
已注销 if revoked, and recorded like any file.

The SESeal an OFD signature carries is the one the registration centre imported from
its e-seal system (``seal import --eseal``) or, until then, one made by the local
demonstration CA for the seal's current certificate (kept, so that every file of the
certificate's period carries the same seal).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from asn1crypto import pem as asn1_pem
from asn1crypto import x509

from certarchive.content.agency import Agency
from certarchive.content.certificate import Certificate
from certarchive.documents.model import CertificateDocument
from certarchive.documents.pagemodel import Page
from certarchive.documents.seal_image import seal_png
from certarchive.documents.stampdict import Revocation
from certarchive.i18n import _, listed, message_of
from certarchive.ofd.revoke import revoke_package
from certarchive.ofd.sign import OfdSeal, seal_package
from certarchive.ofd.writer import write_ofd
from certarchive.services.certdata import ON_REQUEST, read_file, store_file
from certarchive.services.context import Context
from certarchive.services.errors import Invalid
from certarchive.services.seals import current_chain, demo_authority, registry_trust, signer
from certarchive.signing.ses import (
    SealDescription,
    SesError,
    make_seseal,
    maker_problems,
    read_seseal,
    seal_certificates,
    seal_validity,
)

OFD = "ofd"
SOURCE_DEMO = "demo"
SOURCE_IMPORTED = "imported"
#: The seal's printed size (documents.seal_page.SEAL_DIAMETER), as the SESeal states it.
SEAL_MM = 42
MAX_ESEAL_BYTES = 1 * 2**20


def _font(ctx: Context) -> str | None:
    font = ctx.runtime.settings.font_path
    return str(font) if font else None


def _usable(der: bytes | None, leaf: x509.Certificate) -> bool:
    return der is not None and _lists(der, leaf.dump())


@functools.lru_cache(maxsize=64)
def _lists(der: bytes, leaf: bytes) -> bool:
    """Whether the SESeal ``der`` reads, verifies and lists ``leaf``: checked once per
    process (an SM2 verification that every issuance would otherwise repeat)."""
    try:
        return leaf in seal_certificates(read_seseal(der))
    except SesError:
        return False


def eseal(ctx: Context, agency: Agency) -> bytes:
    """The agency's SESeal for its current seal certificate (made by the demo CA if the
    seal has none that lists that certificate)."""
    seal = agency.seal
    assert seal is not None
    leaf = current_chain(agency)[0]
    if _usable(seal.eseal, leaf):
        assert seal.eseal is not None
        return seal.eseal
    ca_key, root = demo_authority(ctx)
    validity = leaf["tbs_certificate"]["validity"]
    description = SealDescription(
        number=seal.number,
        name=seal.name,
        picture_png=seal_png(seal.name, agency.settings["agency_name"], seal.number, _font(ctx)),
        width_mm=SEAL_MM,
        height_mm=SEAL_MM,
        created=ctx.now(),
        valid_from=validity["not_before"].native,
        valid_to=validity["not_after"].native,
    )
    seal.eseal = make_seseal(description, [leaf], ca_key, root)
    seal.eseal_source = SOURCE_DEMO
    return seal.eseal


def ofd_seal(ctx: Context, agency: Agency) -> OfdSeal:
    return OfdSeal(signer(ctx, agency), eseal(ctx, agency))


def sealed_ofd(
    doc: CertificateDocument,
    font_path: str | None,
    sealing: OfdSeal,
    moment: datetime.datetime,
    *,
    pages: list[Page] | None = None,
) -> bytes:
    """The certificate's OFD package, sealed at ``moment`` (no database: workers run it);
    ``pages`` when issuance has them already for the PDF."""
    draft = write_ofd(doc, font_path=font_path, pages=pages)
    return seal_package(draft.files, draft.stamps, sealing, moment)


def issue_ofd(ctx: Context, cert: Certificate, moment: datetime.datetime, reason: str) -> None:
    """Render, seal and store the certificate's OFD (inside the caller's transaction)."""
    from certarchive.services.issuance import certificate_document  # (a cycle)

    sealing = ofd_seal(ctx, ctx.agency(cert.agency))
    package = sealed_ofd(certificate_document(ctx, cert), _font(ctx), sealing, moment)
    store_file(ctx, cert, package, reason, sealing.signer.summary, file_format=OFD)


def revocation_of(cert: Certificate) -> Revocation:
    from certarchive.services.issuance import CHINA

    assert cert.revocation is not None
    revoked_on = datetime.datetime.fromisoformat(cert.revocation["at"]).astimezone(CHINA).date()
    return Revocation(revoked_on=revoked_on, cause=cert.revocation["cause_label"])


def revoke_ofd(ctx: Context, cert: Certificate) -> None:
    """Stamp the current OFD 已注销 and seal it again; nothing to do without an OFD."""
    log = cert.file_log(OFD)
    if log is None or log.latest() is None:
        return
    sealing = ofd_seal(ctx, ctx.agency(cert.agency))
    stamped = revoke_package(
        read_file(ctx, cert, file_format=OFD),
        sealing,
        revocation_of(cert),
        ctx.now(),
        font_path=_font(ctx),
    )
    store_file(ctx, cert, stamped, "revoked", sealing.signer.summary, file_format=OFD)


def _stale(cert: Certificate) -> bool:
    log = cert.file_log(OFD)
    latest = log.latest() if log is not None else None
    if latest is None or latest["version"] != cert.version:
        return True
    assert cert.issued_at is not None
    if datetime.datetime.fromisoformat(latest["at"]) < cert.issued_at:
        return True  # made before a re-issue (rollback, correction)
    return cert.state == "revoked" and latest["reason"] != "revoked"


def current_ofd(ctx: Context, cert: Certificate) -> bytes:
    """The certificate's current OFD, made now if it has none that is current."""
    if _stale(cert):
        issue_ofd(ctx, cert, ctx.now(), ON_REQUEST)
        if cert.state == "revoked":
            revoke_ofd(ctx, cert)
    return read_file(ctx, cert, file_format=OFD)


def _der(data: bytes) -> bytes:
    if asn1_pem.detect(data):
        _, _, data = asn1_pem.unarmor(data)
    return data


def import_eseal(ctx: Context, agency_name: str | None, data: bytes) -> dict[str, Any]:
    """Take the SESeal an e-seal system issued for this seal, after checking it: it reads
    as a version 4 SESeal, its maker's signature verifies, its number is the seal's and
    it lists the seal's current certificate, it is valid today, and whoever made it is
    trusted (its certificate chains to a root the registry trusts, H-5.1.1)."""
    agency = ctx.agency(agency_name)
    seal = agency.seal
    assert seal is not None
    if len(data) > MAX_ESEAL_BYTES:
        problem = _("电子印章文件过大")
        raise Invalid(problem, {"eseal": problem})
    try:
        der = _der(data)
        parsed = read_seseal(der)
    except (SesError, ValueError) as error:
        raise Invalid(message_of(error), {"eseal": message_of(error)}) from None
    leaf = current_chain(agency)[0]
    if leaf.dump() not in seal_certificates(parsed):
        problem = _("电子印章不属于本印章的证书（证书列表中没有当前印章证书）")
        raise Invalid(problem, {"eseal": problem})
    if parsed["eseal_info"]["es_id"].native != seal.number:
        problem = _("电子印章编号与印章编号${number}不符", mapping={"number": seal.number})
        raise Invalid(problem, {"eseal": problem})
    now = ctx.now()
    valid_from, valid_to = seal_validity(parsed)
    if not valid_from <= now <= valid_to:
        problem = _(
            "电子印章不在有效期内（${valid_from} 至 ${valid_to}）",
            mapping={
                "valid_from": format(valid_from, "%Y-%m-%d"),
                "valid_to": format(valid_to, "%Y-%m-%d"),
            },
        )
        raise Invalid(problem, {"eseal": problem})
    trust = registry_trust(ctx)
    untrusted = maker_problems(parsed, trust.roots, trust.intermediates, now)
    if untrusted:
        problem = listed(untrusted)
        raise Invalid(problem, {"eseal": problem})
    seal.eseal = der
    seal.eseal_source = SOURCE_IMPORTED
    ctx.audit("seal.eseal.import", f"agency:{agency.name}", detail={"size": len(der)})
    return {"es_id": seal.number, "name": parsed["eseal_info"]["property"]["name"].native}
