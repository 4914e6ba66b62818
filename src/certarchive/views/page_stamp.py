"""The verification stamp of a cached page: its time and reference, made at each serving.

Why: a verification page says when the registry confirmed the certificate (验证时间) and
gives a reference for that moment (验证编号, :func:`certarchive.services.verification.
reference_of`), which the registry can confirm later from a printout.  A cached page
would otherwise show the moment it was built, so it had to be rebuilt every few seconds
only to move the time on: at 60 pages that was most of the work of serving them.  Now a
page is built once with *marks* in place of the stamp, and each answer fills the marks
in with the stamp of the current second, which is true: a cached page is served only
while what it shows is unchanged (:mod:`certarchive.views.page_cache`).

The marks are letters and digits with a random part drawn when the process starts, so
that they pass HTML escaping and JSON unchanged and no text in the registry can contain
them.  The reference costs an HMAC-SM3; it is made once a second for each certificate
whose page is asked for, and kept until the second moves on.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from certarchive.services.verification import Stamp, stamp_of
from certarchive.views.i18n import fmt_time

#: Where a request's page is to carry the marks, and where the view names the certificate
#: whose stamp fills them (both in the WSGI environ, set by the page-cache tween and by
#: the verification view).
MARKS_KEY = "certarchive.stamp.marks"
CERTIFICATE_KEY = "certarchive.stamp.certificate"


@dataclass(frozen=True)
class Marks:
    """What a page is built with instead of a stamp: the ISO time (the JSON page), the
    time as the HTML page shows it, and the reference."""

    verified_at: str
    shown: str
    reference: str

    @classmethod
    def drawn(cls) -> Marks:
        nonce = secrets.token_hex(12)
        return cls(f"STAMP{nonce}T", f"STAMP{nonce}S", f"STAMP{nonce}R")

    @property
    def stamp(self) -> Stamp:
        return Stamp(self.verified_at, self.reference)


MARKS = Marks.drawn()


class Stamper:
    """Fills a marked body with the stamp of the current second for a certificate; keeps
    the stamps of at most ``size`` certificates (as many as pages are cached)."""

    def __init__(self, keyring: Any, size: int) -> None:
        self._keyring = keyring
        self._size = size
        marks = (MARKS.verified_at, MARKS.shown, MARKS.reference)
        self._marks = tuple(mark.encode() for mark in marks)
        #: certificate id -> (the second, in seconds since the epoch; what fills each mark)
        self._stamps: dict[str, tuple[int, tuple[bytes, ...]]] = {}
        self._lock = threading.Lock()

    def _values(self, cert_id: str, now: datetime) -> tuple[bytes, ...]:
        second = int(now.timestamp())
        with self._lock:
            kept = self._stamps.get(cert_id)
        if kept is not None and kept[0] == second:
            return kept[1]
        stamp = stamp_of(self._keyring, cert_id, now)
        values = (stamp.verified_at, fmt_time(stamp.verified_at), stamp.reference)
        made = tuple(value.encode() for value in values)
        with self._lock:
            if len(self._stamps) >= self._size:  # pages come and go: start afresh
                self._stamps.clear()
            self._stamps[cert_id] = (second, made)
        return made

    def fill(self, body: bytes, cert_id: str, now: datetime) -> bytes:
        """``body`` with its marks replaced by the stamp of ``cert_id`` at ``now``."""
        for mark, value in zip(self._marks, self._values(cert_id, now), strict=True):
            body = body.replace(mark, value)
        return body
