"""The byte format of certarchive's signature dictionary, written and read in one place.

A certificate is signed with SM2 over SM3 (GB/T 32918.2 with the default signer ID),
which no PDF signature handler standardises; the dictionary therefore names a custom
handler, ``/Filter /Certarchive.SM2`` with ``/SubFilter /certarchive.sm2.sm3``.  Adobe
Reader and other standard viewers show the signature field but cannot validate it; the
file is verified by certarchive (or by ``openssl pkeyutl``, see below) with the seal's
public key and nothing else.

Layout, always in this order, on one line::

    << /Type /Sig /Filter /Certarchive.SM2 /SubFilter /certarchive.sm2.sm3
       /ByteRange [0 a b c<padding>] /Contents <hex…> /Name <FEFF…> /M (D:…)
       /Reason <FEFF…> /Certarchive.KeyFingerprint (sm3 hex) >>

* ``/ByteRange [0 a b c]``: the signed bytes are ``file[0:a] + file[b:b+c]``; the gap
  ``[a, b)`` is exactly the ``/Contents`` hex string including its angle brackets, and
  ``b + c`` is the end of the update that carries the signature.
* ``/Contents``: the DER ``SEQUENCE {r, s}`` in hex, right-padded with ``0`` to a fixed
  size so it can be patched in after the byte range is known.
* ``/Certarchive.KeyFingerprint``: SM3 hex of the signer's uncompressed public key, so a
  verifier can tell "signed by another key" from "changed after signing".

The message SM2 signs is the byte-range data itself (SM2 hashes Z_A || M with SM3), so::

    openssl pkeyutl -verify -rawin -digest sm3 -pubin -inkey seal.pem \\
        -pkeyopt distid:1234567812345678 -sigfile sig.der -in signed-bytes.bin
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

FILTER = b"/Certarchive.SM2"
SUBFILTER = b"/certarchive.sm2.sm3"
FINGERPRINT_KEY = b"/Certarchive.KeyFingerprint"
#: Bytes reserved for the DER signature; an SM2 signature takes at most 72.
CONTENTS_SIZE = 128
#: Characters reserved for "a b c" in the byte range: three ten-digit numbers.
RANGE_WIDTH = 3 * 11
CHINA_TIME = datetime.timezone(datetime.timedelta(hours=8))

_PLACEHOLDER_RANGE = b"/ByteRange [0 " + b" " * RANGE_WIDTH + b"]"
_PLACEHOLDER_CONTENTS = b"/Contents <" + b"0" * (2 * CONTENTS_SIZE) + b">"

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
_NAME = re.compile(rb"/Name\s*<([0-9A-Fa-f]*)>")
_REASON = re.compile(rb"/Reason\s*<([0-9A-Fa-f]*)>")
_TIME = re.compile(rb"/M\s*\(D:(\d{14})([+-])(\d\d)'(\d\d)'\)")
_FINGERPRINT = re.compile(re.escape(FINGERPRINT_KEY) + rb"\s*\(([0-9a-f]{64})\)")
_TYPE = re.compile(rb"/Type\s*/Sig\b")
_FILTER = re.compile(rb"/Filter\s*" + re.escape(FILTER) + rb"(?![^\s/<>\[\]()])")


def text_string(text: str) -> bytes:
    """A PDF text string in UTF-16BE hex with its byte-order mark: safe for any Chinese."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def decode_text_string(hex_digits: bytes) -> str:
    """The inverse of :func:`text_string` for the hex digits between the brackets."""
    raw = bytes.fromhex(hex_digits.decode())
    return raw[2:].decode("utf-16-be") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1")


def pdf_date(moment: datetime.datetime) -> bytes:
    """``(D:YYYYMMDDHHmmSS+08'00')`` for an aware datetime."""
    offset = moment.utcoffset() or datetime.timedelta(0)
    sign = "-" if offset < datetime.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"(D:{moment:%Y%m%d%H%M%S}{sign}{minutes // 60:02d}'{minutes % 60:02d}')".encode()


def placeholder(
    signer_name: str, reason: str, fingerprint: str, signed_at: datetime.datetime
) -> bytes:
    """The signature dictionary with a blank byte range and zeroed contents."""
    return b" ".join(
        (
            b"<< /Type /Sig /Filter",
            FILTER,
            b"/SubFilter",
            SUBFILTER,
            _PLACEHOLDER_RANGE,
            _PLACEHOLDER_CONTENTS,
            b"/Name",
            text_string(signer_name),
            b"/M",
            pdf_date(signed_at),
            b"/Reason",
            text_string(reason),
            FINGERPRINT_KEY,
            b"(" + fingerprint.encode() + b")",
            b">>",
        )
    )


def placeholder_offsets(body: bytes) -> tuple[int, int, int]:
    """Offsets in ``body`` of the byte-range numbers' slot and of the contents string.

    Returns (range slot start, contents ``<`` offset, offset after the ``>``).
    """
    slot = body.index(_PLACEHOLDER_RANGE) + len(b"/ByteRange [0 ")
    contents = body.index(_PLACEHOLDER_CONTENTS) + len(b"/Contents ")
    return slot, contents, contents + 2 + 2 * CONTENTS_SIZE


def range_numbers(a: int, b: int, c: int) -> bytes:
    """``a b c`` padded with spaces to the reserved width."""
    numbers = b"%d %d %d" % (a, b, c)
    if len(numbers) > RANGE_WIDTH:
        raise ValueError("file too large for the byte-range placeholder")
    return numbers.ljust(RANGE_WIDTH)


@dataclass(frozen=True)
class SignatureFields:
    """What a signature dictionary says about itself (not yet verified)."""

    signer_name: str
    reason: str
    signed_at: datetime.datetime | None
    fingerprint: str


def is_certarchive_signature(dictionary: bytes) -> bool:
    """Whether a dictionary's bytes declare a /Sig with certarchive's handler."""
    return bool(_TYPE.search(dictionary) and _FILTER.search(dictionary))


def parse_fields(dictionary: bytes) -> SignatureFields:
    """Read the descriptive entries; missing or malformed ones come back empty."""
    name, reason = _NAME.search(dictionary), _REASON.search(dictionary)
    fingerprint = _FINGERPRINT.search(dictionary)
    return SignatureFields(
        signer_name=_safe_text(name.group(1)) if name else "",
        reason=_safe_text(reason.group(1)) if reason else "",
        signed_at=_parse_time(dictionary),
        fingerprint=fingerprint.group(1).decode() if fingerprint else "",
    )


def _safe_text(hex_digits: bytes) -> str:
    try:
        return decode_text_string(hex_digits)
    except ValueError:  # odd digit count or invalid UTF-16: report it as absent
        return ""


def _parse_time(dictionary: bytes) -> datetime.datetime | None:
    match = _TIME.search(dictionary)
    if match is None:
        return None
    stamp, sign, hours, minutes = (group.decode() for group in match.groups())
    offset = datetime.timedelta(hours=int(hours), minutes=int(minutes))
    try:
        zone = datetime.timezone(-offset if sign == "-" else offset)
        return datetime.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=zone)
    except ValueError:  # impossible date or offset: report the time as absent
        return None
