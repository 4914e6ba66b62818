"""Holders sign in with their ID number and a download code, list and download (H-2.2, Z-4).

A download code is given out per certificate at payment (:mod:`.download_codes`).  A
holder who gives an ID number and a code that belongs to one of the certificates naming
that ID number among its holders (权利人) gets a short session listing *every* issued
certificate that names them as holder: the ID number says who, the code proves it.
Certificates are issued only after payment, so nothing unpaid is ever listed (Z-4).

Failed attempts are counted per ID number (by its blind index, never in clear) in the
database: five in a row lock that ID number out for 15 minutes whoever tries, on top of
the per-address limit the web layer applies.  Failures are recorded in the request's
transaction, so the caller answers the refusal instead of raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from certarchive.content.certificate import Certificate
from certarchive.i18n import _
from certarchive.schemas.bodies import HolderSignIn
from certarchive.schemas.errors import validated
from certarchive.services.certdata import read_data
from certarchive.services.certificates import download_by_holder, formats_of, has_file
from certarchive.services.context import Context
from certarchive.services.download_codes import code_matches
from certarchive.services.errors import NotFound
from certarchive.services.identity import create_session, delete_expired
from certarchive.validation.identifiers import normalize

MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
ATTEMPT_MEMORY = timedelta(hours=24)  # failure records older than this are forgotten


@dataclass
class SignIn:
    ok: bool
    locked: bool = False
    attempts_left: int | None = None  # after a failure that did not lock: tries before it does
    token: str | None = None
    session: dict[str, Any] = field(default_factory=dict)


def attempt_expired(record: dict[str, Any], now: datetime) -> bool:
    """Whether a failed-attempts record no longer counts: its lock has ended, or (never
    locked) its last failure is older than the memory window.  Such a record acts exactly
    like no record, so :func:`purge_expired_attempts` may delete it."""
    if record.get("locked_until"):
        return datetime.fromisoformat(record["locked_until"]) <= now
    return now - datetime.fromisoformat(record["last"]) > ATTEMPT_MEMORY


def purge_expired_attempts(ctx: Context, limit: int) -> int:
    """Delete up to ``limit`` expired failed-attempts records; return how many went.

    Without this, every ID number ever mistyped would keep its record (a blind index and
    a time) for good.  A live lock and a recent failure stay.
    """
    return delete_expired(ctx.registry.holder_attempts, attempt_expired, ctx.now(), limit)


def label_of(blind: str) -> str:
    """A pseudonymous label for logs: a prefix of the keyed blind index, not the ID number."""
    return blind[:16]


def _own_certificates(ctx: Context, id_number: str, blind: str) -> list[Certificate]:
    """Issued (or later) certificates that name ``id_number`` among their holders."""
    found = []
    for agency in ctx.visible_agencies():
        for cert_id in agency.catalog.holder.get(blind):
            cert = agency.certificates[cert_id]
            if cert.state == "draft" or cert.serial is None:
                continue
            holders = read_data(ctx, cert).get("holders", ())
            if any(normalize(h["id_number"]) == id_number for h in holders):
                found.append(cert)
    return found


def sign_in(ctx: Context, id_number: Any, code: Any) -> SignIn:
    body = validated(
        HolderSignIn,
        {"id_number": id_number, "download_code": code},
        _("登录信息不完整"),
    )
    normalized, code = normalize(body.id_number), body.download_code
    blind = ctx.keyring.blind_index(normalized)
    label = f"holder:{label_of(blind)}"
    now = ctx.now()
    attempts = ctx.registry.holder_attempts
    record = attempts.get(blind)
    if record is not None and attempt_expired(record, now):
        record = None  # as if never made: what the periodic purge deletes
    if record and record.get("locked_until"):
        ctx.audit("holder.login.refused", label, result="refused", detail={"step": "locked"})
        return SignIn(False, locked=True)
    own = _own_certificates(ctx, normalized, blind)
    if not any(code_matches(ctx, cert, code) for cert in own):
        failures = 1 + (record["failures"] if record else 0)
        new = {"failures": failures, "last": now.isoformat(), "locked_until": None}
        if failures >= MAX_FAILURES:
            new = {
                "failures": 0,
                "last": now.isoformat(),
                "locked_until": (now + LOCK_TIME).isoformat(),
            }
        attempts[blind] = new
        ctx.audit(
            "holder.login.failed",
            label,
            result="refused",
            detail={"failures": failures, "locked": new["locked_until"] is not None},
        )
        locked = new["locked_until"] is not None
        return SignIn(
            False, locked=locked, attempts_left=None if locked else MAX_FAILURES - failures
        )
    if blind in attempts:
        del attempts[blind]
    token, session = create_session(
        ctx,
        "holder",
        label=label_of(blind),
        certificates=[[cert.agency, cert.id] for cert in own],
        wechat_key=ctx.keyring.blind_index(f"wechat:{normalized}"),
    )
    ctx.audit("holder.login", label, detail={"certificates": len(own)})
    return SignIn(True, token=token, session=session)


def _certificates(ctx: Context, session: dict[str, Any]) -> list[Certificate]:
    found = []
    for agency_name, cert_id in session.get("certificates", ()):
        cert = ctx.agency(agency_name).certificates.get(cert_id)
        if cert is not None and cert.state != "draft" and has_file(cert):
            found.append(cert)
    return found


def summary(ctx: Context, cert: Certificate) -> dict[str, Any]:
    data = read_data(ctx, cert)
    file = cert.sealed_file
    return {
        "serial": cert.serial,
        "formats": formats_of(ctx, cert),
        "kind": cert.kind,
        "state": cert.state,
        "location": data.get("location"),
        "unit_number": cert.unit_number,
        "issued_at": cert.issued_at.isoformat() if cert.issued_at else None,
        "first_downloaded_at": (
            cert.first_downloaded_at.isoformat() if cert.first_downloaded_at else None
        ),
        "revoked": cert.state == "revoked",
        "replaced_by": cert.replaced_by,
        "sm3": file["digest"] if file else None,
    }


def list_certificates(ctx: Context, session: dict[str, Any]) -> list[dict[str, Any]]:
    ctx.require("holder.read")
    return [summary(ctx, cert) for cert in _certificates(ctx, session)]


def find_own(ctx: Context, session: dict[str, Any], serial: str) -> Certificate:
    """The session's certificate with this serial; anyone else's answers like a missing one."""
    wanted = serial.replace("（", "(").replace("）", ")")
    for cert in _certificates(ctx, session):
        if cert.serial == wanted:
            return cert
    raise NotFound(_("证书不存在"))


def download(
    ctx: Context, session: dict[str, Any], serial: str, file_format: str = "pdf"
) -> tuple[Certificate, bytes]:
    """The holder's download: the first one, of either format, sets the collection time
    (H-2.2)."""
    ctx.require("certificate.download")
    cert = find_own(ctx, session, serial)
    pdf = download_by_holder(ctx, cert, file_format)
    ctx.audit(
        "certificate.holder_download",
        f"certificate:{cert.serial}",
        detail={"holder": session.get("label"), "state": cert.state, "format": file_format},
    )
    return cert, pdf
