"""Files as certarchive signed them before standard signatures (``/Certarchive.SM2``), to test
that they keep verifying.  The layout is the earlier release's, byte for byte: a bare DER
SM2 signature over the byte ranges, hex in a 128-byte ``/Contents``, and the key's SM3
fingerprint in a private entry.  ``tests/data/earlier/`` holds files that release made.
"""

from __future__ import annotations

import datetime

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents import sigdict
from certarchive.documents.incremental import IncrementalUpdate
from certarchive.documents.signature import Widget, add_signature_field

CONTENTS_SIZE = 128


def sign_earlier_format(pdf: bytes, key: SM2PrivateKey, name: str) -> bytes:
    moment = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
    body = b" ".join(
        (
            b"<< /Type /Sig /Filter /Certarchive.SM2 /SubFilter /certarchive.sm2.sm3",
            b"/ByteRange [0 " + b" " * sigdict.RANGE_WIDTH + b"]",
            b"/Contents <" + b"0" * (2 * CONTENTS_SIZE) + b">",
            b"/Name",
            sigdict.text_string(name),
            b"/M",
            sigdict.pdf_date(moment),
            b"/Reason",
            sigdict.text_string("签发 / issued"),
            b"/Certarchive.KeyFingerprint (" + key.public_key.fingerprint().encode() + b")",
            b">>",
        )
    )
    update = IncrementalUpdate(pdf)
    sig_ref = update.add(body)
    add_signature_field(update, sig_ref, "CertarchiveSeal", [Widget(update.reader.pages[0])])
    written, offsets = update.write()
    slot, start, end = (offsets[sig_ref.idnum] + at for at in sigdict.placeholder_offsets(body))
    out = bytearray(written)
    out[slot : slot + sigdict.RANGE_WIDTH] = sigdict.range_numbers(start, end, len(out) - end)
    signature = key.sign(bytes(out[:start]) + bytes(out[end:])).hex().encode()
    out[start + 1 : start + 1 + len(signature)] = signature
    return bytes(out)
