"""Sharing by the holder (授权用证, CONTRACT.md "Holders, notifications and sharing").

A holder signed in with ID number and download code shares one of their live
certificates with a named institution, for a purpose and a number of days.  The
institution receives an address and a code; either opens the annotated copy (加注件): the
certificate's current file with "仅供{institution}{purpose}使用，有效期至{date}" on every page,
sealed by the agency (:func:`certarchive.documents.watermark.stamp_shared`).  Every
creation, withdrawal and access goes to the sharing log (H-5.2.5); a withdrawn or expired
share answers 410.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from ZODB.blob import Blob

from certarchive.content.shares import Share, ShareBook
from certarchive.crypto.sm import sm3_hex
from certarchive.documents.stampdict import ShareMark
from certarchive.documents.watermark import stamp_shared
from certarchive.i18n import _
from certarchive.schemas.bodies import ShareRequest
from certarchive.schemas.errors import validated
from certarchive.services.context import Context
from certarchive.services.download_codes import ALPHABET
from certarchive.services.errors import Conflict, Gone, NotFound
from certarchive.services.holders import find_own
from certarchive.services.issuance import CHINA
from certarchive.services.pdf_files import current_pdf
from certarchive.services.seals import signer

CODE_LENGTH = 10
TOKEN_BYTES = 24
GONE = _("该授权已撤回或已过期")
UNKNOWN = _("授权不存在")


def book(ctx: Context) -> ShareBook:
    return ctx.registry.shares


def _digest(ctx: Context, kind: str, value: str) -> str:
    return ctx.keyring.blind_index(f"share-{kind}:{value}")


def _store_copy(ctx: Context, share: Share, pdf: bytes) -> None:
    blob = Blob()
    with blob.open("w") as out:
        out.write(ctx.keyring.encrypt("files", pdf, f"share:{share.id}".encode()))
    share.file = {"blob": blob, "digest": sm3_hex(pdf), "size": len(pdf)}


def create_share(ctx: Context, session: dict[str, Any], body: Any) -> dict[str, Any]:
    """A share of one of the holder's live certificates; its address and code are given
    once (only their keyed digests are kept)."""
    request = validated(ShareRequest, body, _("授权信息无效"))
    serial, institution, purpose, days = (
        request.serial,
        request.institution,
        request.purpose,
        request.days,
    )
    cert = find_own(ctx, session, serial)
    if cert.state == "revoked":
        raise Conflict(_("已注销的证书不能授权使用"))
    now = ctx.now()
    expires = now + timedelta(days=days)
    share = Share(
        secrets.token_hex(16),
        cert.agency,
        cert.id,
        str(cert.serial),
        institution,
        purpose,
        str(session.get("label")),
        now,
        expires,
    )
    mark = ShareMark(share.id, institution, purpose, expires.astimezone(CHINA).date())
    font = ctx.runtime.settings.font_path
    copy = stamp_shared(
        current_pdf(ctx, cert),
        signer(ctx, ctx.agency(cert.agency)),
        mark,
        font_path=str(font) if font else None,
        signed_at=now,
    )
    _store_copy(ctx, share, copy)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    shares = book(ctx)
    shares.shares[share.id] = share
    shares.by_token[_digest(ctx, "token", token)] = share.id
    shares.by_code[_digest(ctx, "code", code)] = share.id
    key = f"{cert.agency}/{cert.id}"
    shares.by_certificate[key] = (*shares.by_certificate.get(key, ()), share.id)
    ctx.audit(
        "share.create",
        f"certificate:{cert.serial}",
        detail={"share": share.id, "days": days, "sm3": share.file["digest"]},
        log="sharing",
    )
    return {
        "id": share.id,
        "url": f"{ctx.runtime.settings.public_base_url}/s/{token}",
        "code": code,
        "expires_at": expires.isoformat(),
    }


def holder_shares(ctx: Context, session: dict[str, Any]) -> list[dict[str, Any]]:
    label = str(session.get("label"))
    return [s.summary() for s in book(ctx).shares.values() if s.holder == label]


def withdraw(ctx: Context, session: dict[str, Any], share_id: str) -> None:
    share = book(ctx).shares.get(share_id)
    if share is None or share.holder != str(session.get("label")):
        raise NotFound(UNKNOWN)
    if share.withdrawn_at is None:
        share.withdrawn_at = ctx.now()
        ctx.audit("share.withdraw", f"share:{share.id}", log="sharing")


def open_share(ctx: Context, *, token: str | None = None, code: str | None = None) -> bytes:
    """The annotated copy, for whoever has the address or the code; each access logged."""
    shares = book(ctx)
    if token is not None:
        share_id = shares.by_token.get(_digest(ctx, "token", token))
    else:
        share_id = shares.by_code.get(_digest(ctx, "code", (code or "").strip().upper()))
    share = shares.shares.get(share_id) if share_id else None
    if share is None or share.file is None:
        ctx.audit(
            "share.access", "share", result="refused", detail={"step": "unknown"}, log="sharing"
        )
        raise NotFound(UNKNOWN)
    if not share.live(ctx.now()):
        ctx.audit(
            "share.access",
            f"share:{share.id}",
            result="refused",
            detail={"step": "gone"},
            log="sharing",
        )
        raise Gone(GONE)
    with share.file["blob"].open("r") as stored:
        pdf = ctx.keyring.decrypt("files", stored.read(), f"share:{share.id}".encode())
    ctx.audit(
        "share.access",
        f"certificate:{share.serial}",
        detail={"share": share.id, "by": "url" if token is not None else "code"},
        log="sharing",
    )
    return pdf


def shares_of(ctx: Context, agency: str, cert_id: str) -> list[dict[str, Any]]:
    """A certificate's shares, for the staff certificate page."""
    shares = book(ctx)
    return [
        shares.shares[i].summary() for i in shares.by_certificate.get(f"{agency}/{cert_id}", ())
    ]


def find_share(ctx: Context, share_id: str) -> Share | None:
    return book(ctx).shares.get(share_id)
