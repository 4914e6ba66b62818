"""Holder download codes (H-2.2, Z-4): given out at payment, stored hashed and sealed.

The code is hashed (HMAC-SM3 with a per-certificate salt) for checking, and also sealed
under the ``personal`` key so that a repeated payment confirmation can answer with the
same codes instead of issuing new ones.  Codes expire.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from certarchive.content.certificate import Certificate
from certarchive.crypto.sm import hmac_sm3
from certarchive.services.context import Context

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed from SMS
LENGTH = 10  # 50 bits
VALIDITY = timedelta(days=90)


def _aad(cert: Certificate) -> bytes:
    return f"certificate:{cert.id}:download-code".encode()


def issue_code(ctx: Context, cert: Certificate) -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    salt = secrets.token_bytes(16)
    cert.download_code = {
        "salt": salt,
        "hash": hmac_sm3(salt, code.encode()),
        "sealed": ctx.keyring.encrypt("personal", code.encode(), _aad(cert)),
        "expires": (ctx.now() + VALIDITY).isoformat(),
    }
    return code


def current_code(ctx: Context, cert: Certificate) -> str | None:
    stored = getattr(cert, "download_code", None)
    if stored is None:
        return None
    return ctx.keyring.decrypt("personal", stored["sealed"], _aad(cert)).decode()


def code_matches(ctx: Context, cert: Certificate, code: str) -> bool:
    stored = getattr(cert, "download_code", None)
    if stored is None or datetime.fromisoformat(stored["expires"]) < ctx.now():
        return False
    candidate = hmac_sm3(stored["salt"], code.strip().upper().encode())
    return hmac.compare_digest(candidate, stored["hash"])
