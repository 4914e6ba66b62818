"""Seal a certificate file: an SM2-over-SM3 signature embedded as an incremental update.

The signature lives in the file (H-5.1.1, H-5.1.2) so that anyone holding the file and
the seal's public key can verify it offline.  Each call appends one update containing
the signature dictionary (format in :mod:`.sigdict`), an invisible signature field whose
widget sits on the first page, and the catalog and first page rewritten to reference
that field.  Nothing before the update changes, so a file that is already signed (for
example by the issuing signature before a revocation stamp) keeps every earlier
signature valid over its own byte range.

Standard PDF viewers list the field but cannot validate the custom handler; that is
expected (see :mod:`.sigdict`).
"""

from __future__ import annotations

import datetime

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents import sigdict
from certarchive.documents.incremental import IncrementalUpdate, shallow_copy

FIELD_PREFIX = "CertarchiveSeal"
#: Widget flags: Print (4) + Locked (128); the seal image is already on the page.
WIDGET_FLAGS = 132
#: AcroForm /SigFlags: SignaturesExist (1) + AppendOnly (2).
SIG_FLAGS = 3


def _array(value: PdfObject | None) -> ArrayObject:
    """An existing (possibly indirect) array's items, as a new direct array."""
    resolved = value.get_object() if value is not None else None
    return ArrayObject(resolved) if isinstance(resolved, ArrayObject) else ArrayObject()


def _add_field(update: IncrementalUpdate, sig_ref: IndirectObject) -> None:
    """Add the signature field to the AcroForm and its widget to the first page."""
    reader = update.reader
    catalog = reader.root_object
    page = reader.pages[0]
    page_ref = page.indirect_reference
    old_form = catalog.get("/AcroForm")
    form = shallow_copy(old_form.get_object()) if old_form is not None else DictionaryObject()
    fields = _array(form.raw_get("/Fields") if "/Fields" in form else None)
    field = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Sig"),
            NameObject("/T"): TextStringObject(f"{FIELD_PREFIX}{len(fields) + 1}"),
            NameObject("/V"): sig_ref,
            NameObject("/Rect"): ArrayObject([FloatObject(0)] * 4),
            NameObject("/F"): NumberObject(WIDGET_FLAGS),
            NameObject("/P"): page_ref,
        }
    )
    field_ref = update.add(field)
    fields.append(field_ref)
    form[NameObject("/Fields")] = fields
    form[NameObject("/SigFlags")] = NumberObject(SIG_FLAGS)
    new_catalog = shallow_copy(catalog)
    new_catalog[NameObject("/AcroForm")] = form
    update.put(reader.trailer.raw_get("/Root"), new_catalog)
    new_page = shallow_copy(page)
    annots = _array(page.raw_get("/Annots") if "/Annots" in page else None)
    annots.append(field_ref)
    new_page[NameObject("/Annots")] = annots
    update.put(page_ref, new_page)


def sign_pdf(
    pdf: bytes,
    key: SM2PrivateKey,
    signer_name: str,
    reason: str,
    *,
    signed_at: datetime.datetime | None = None,
) -> bytes:
    """``pdf`` with one more seal signature appended; ``pdf`` is a prefix of the result.

    ``signer_name`` is the seal name (/Name); ``signed_at`` (aware) defaults to now in
    China Standard Time.
    """
    moment = signed_at or datetime.datetime.now(sigdict.CHINA_TIME)
    update = IncrementalUpdate(pdf)
    sig_ref = update.reserve()
    body = sigdict.placeholder(signer_name, reason, key.public_key.fingerprint(), moment)
    update.put(sig_ref, body)
    _add_field(update, sig_ref)
    signed, offsets = update.write()
    slot, start, end = (offsets[sig_ref.idnum] + at for at in sigdict.placeholder_offsets(body))
    out = bytearray(signed)
    out[slot : slot + sigdict.RANGE_WIDTH] = sigdict.range_numbers(start, end, len(out) - end)
    signature = key.sign(bytes(out[:start]) + bytes(out[end:]))
    hex_digits = signature.hex().encode()
    if len(hex_digits) > 2 * sigdict.CONTENTS_SIZE:
        raise ValueError("signature larger than its reserved space")
    hex_digits = hex_digits.ljust(2 * sigdict.CONTENTS_SIZE, b"0")
    out[start + 1 : end - 1] = hex_digits
    return bytes(out)
