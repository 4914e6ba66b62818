"""The byte layout of a PDF signature dictionary, written by the signer and read by verify.

Every signature is a standard one (ISO 32000-1 §12.8, CONTRACT.md "Standard certificate
files"): ``/Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached`` and ``/Contents`` a
DER CMS SignedData (:mod:`certarchive.signing.cms`) with SM3 and SM2, zero-padded to the
size reserved for it.  ``adbe.pkcs7.detached`` rather than ``ETSI.CAdES.detached``
because the contract's signed attributes include signingTime, which PAdES forbids.

Layout, always in this order, on one line::

    << /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached
       /ByteRange [0 a b c<padding>] /Contents <hex…> /M (D:…) /Name <FEFF…> /Reason <FEFF…> >>

* ``/ByteRange [0 a b c]``: the signed bytes are ``file[0:a] + file[b:b+c]``; the gap
  ``[a, b)`` is exactly the ``/Contents`` hex string including its angle brackets, and
  ``b + c`` is the end of the update that carries the signature.
* ``/Contents``: the DER in hex, then ``0`` digits up to the reserved size; a verifier
  refuses any other byte in the padding.

Files issued before standard signatures used ``/Filter /Certarchive.SM2`` with a bare
SM2 signature; :mod:`.legacy` reads those.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

FILTER = b"/Adobe.PPKLite"
SUBFILTER = b"/adbe.pkcs7.detached"
#: Characters reserved for "a b c" in the byte range: three ten-digit numbers.
RANGE_WIDTH = 3 * 11

_PLACEHOLDER_RANGE = b"/ByteRange [0 " + b" " * RANGE_WIDTH + b"]"

BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")
NAME = re.compile(rb"/Name\s*<([0-9A-Fa-f]*)>")
REASON = re.compile(rb"/Reason\s*<([0-9A-Fa-f]*)>")
_TIME = re.compile(rb"/M\s*\(D:(\d{14})([+-])(\d\d)'(\d\d)'\)")
_TYPE = re.compile(rb"/Type\s*/Sig\b")
_FILTER = re.compile(rb"/Filter\s*" + re.escape(FILTER) + rb"(?![^\s/<>\[\]()])")
_SUBFILTER = re.compile(
    rb"/SubFilter\s*/(?:adbe\.pkcs7\.detached|ETSI\.CAdES\.detached)(?![^\s/<>\[\]()])"
)


def text_string(text: str) -> bytes:
    """A PDF text string in UTF-16BE hex with its byte-order mark: safe for any Chinese."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def decode_text_string(hex_digits: bytes) -> str:
    """The inverse of :func:`text_string` for the hex digits between the brackets."""
    raw = bytes.fromhex(hex_digits.decode())
    return raw[2:].decode("utf-16-be") if raw[:2] == b"\xfe\xff" else raw.decode("latin-1")


def pdf_date_text(moment: datetime.datetime) -> str:
    """``D:YYYYMMDDHHmmSS+08'00'`` for an aware datetime (ISO 32000-1 §7.9.4)."""
    offset = moment.utcoffset() or datetime.timedelta(0)
    sign = "-" if offset < datetime.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def pdf_date(moment: datetime.datetime) -> bytes:
    """The date as a PDF literal string, ``(D:…)``."""
    return f"({pdf_date_text(moment)})".encode()


def placeholder(
    signer_name: str, reason: str, signed_at: datetime.datetime, contents_size: int
) -> bytes:
    """The signature dictionary with a blank byte range and ``contents_size`` zero bytes."""
    return b" ".join(
        (
            b"<< /Type /Sig /Filter",
            FILTER,
            b"/SubFilter",
            SUBFILTER,
            _PLACEHOLDER_RANGE,
            b"/Contents <" + b"0" * (2 * contents_size) + b">",
            b"/M",
            pdf_date(signed_at),
            b"/Name",
            text_string(signer_name),
            b"/Reason",
            text_string(reason),
            b">>",
        )
    )


def placeholder_offsets(body: bytes) -> tuple[int, int, int]:
    """Offsets in ``body`` of the byte-range numbers' slot and of the contents string.

    Returns (range slot start, contents ``<`` offset, offset after the ``>``).
    """
    slot = body.index(_PLACEHOLDER_RANGE) + len(b"/ByteRange [0 ")
    contents = body.index(b"/Contents <") + len(b"/Contents ")
    return slot, contents, body.index(b">", contents) + 1


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


def is_standard_signature(dictionary: bytes) -> bool:
    """Whether a dictionary's bytes declare a /Sig with the standard handler and CMS."""
    return bool(
        _TYPE.search(dictionary) and _FILTER.search(dictionary) and _SUBFILTER.search(dictionary)
    )


def parse_fields(dictionary: bytes) -> SignatureFields:
    """Read the descriptive entries; missing or malformed ones come back empty."""
    name, reason = NAME.search(dictionary), REASON.search(dictionary)
    return SignatureFields(
        signer_name=safe_text(name.group(1)) if name else "",
        reason=safe_text(reason.group(1)) if reason else "",
        signed_at=parse_time(dictionary),
    )


def safe_text(hex_digits: bytes) -> str:
    try:
        return decode_text_string(hex_digits)
    except ValueError:  # odd digit count or invalid UTF-16: report it as absent
        return ""


def parse_time(dictionary: bytes) -> datetime.datetime | None:
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
