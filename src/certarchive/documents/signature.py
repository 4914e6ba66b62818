"""Seal a certificate file: a standard CMS signature embedded as an incremental update.

The signature lives in the file (H-5.1.1, H-5.1.2) so that anyone holding the file can
verify it offline with standard tools (pdfsig, pyHanko, OpenSSL).  Each call appends one
update containing the signature dictionary (layout in :mod:`.sigdict`), a signature
field with its widgets, and the catalog, AcroForm and pages rewritten to reference them.
Nothing before the update changes, so a file that is already signed (by the issuing
signature, before a revocation) keeps every earlier signature valid over its own byte
range.

The issuing signature is an approval signature, not a certification (DocMDP) one: a
revocation later adds visible signature fields, which pyHanko's default policy refuses
after any certification signature, while after approval signatures it classes them as
form filling (see :mod:`.watermark`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PageObject
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

from certarchive.crypto.sm import sm3
from certarchive.documents import sigdict
from certarchive.documents.incremental import IncrementalUpdate, shallow_copy
from certarchive.documents.model import CHINA_TIME
from certarchive.signing.signer import Signer

ISSUE_FIELD = "CertarchiveSeal"
#: Widget flags: Print (4) + Locked (128).
WIDGET_FLAGS = 132
#: AcroForm /SigFlags: SignaturesExist (1) + AppendOnly (2).
SIG_FLAGS = 3


@dataclass(frozen=True)
class Widget:
    """Where a signature field shows on a page, and what it draws there (if anything)."""

    page: PageObject
    rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    appearance: IndirectObject | None = None


def _array(value: PdfObject | None) -> ArrayObject:
    """An existing (possibly indirect) array's items, as a new direct array."""
    resolved = value.get_object() if value is not None else None
    return ArrayObject(resolved) if isinstance(resolved, ArrayObject) else ArrayObject()


def _widget_annotation(widget: Widget, parent: IndirectObject | None) -> DictionaryObject:
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/Rect"): ArrayObject(FloatObject(v) for v in widget.rect),
            NameObject("/F"): NumberObject(WIDGET_FLAGS),
            NameObject("/P"): widget.page.indirect_reference,
        }
    )
    if widget.appearance is not None:
        annotation[NameObject("/AP")] = DictionaryObject({NameObject("/N"): widget.appearance})
    if parent is not None:
        annotation[NameObject("/Parent")] = parent
    return annotation


def _unique_name(update: IncrementalUpdate, base: str) -> str:
    """``base`` numbered after the fields the form has already (field names must differ)."""
    form = update.reader.root_object.get("/AcroForm")
    fields = _array(form.get_object().raw_get("/Fields")) if form is not None else []
    taken = {str(field.get_object().get("/T")) for field in fields}
    number = len(fields) + 1
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def add_signature_field(
    update: IncrementalUpdate, sig_ref: IndirectObject, base_name: str, widgets: Sequence[Widget]
) -> None:
    """A signature field valued ``sig_ref``, with its widget(s), in the form and the pages.

    One widget makes a field that is its own annotation; several become its /Kids, one
    per page, as the revocation watermark needs.
    """
    reader = update.reader
    catalog = reader.root_object
    field = DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Sig"),
            NameObject("/T"): TextStringObject(_unique_name(update, base_name)),
            NameObject("/V"): sig_ref,
        }
    )
    field_ref = update.reserve()
    if len(widgets) == 1:
        field.update(_widget_annotation(widgets[0], None))
        annotations = {widgets[0].page.indirect_reference.idnum: [field_ref]}
    else:
        kids = [update.add(_widget_annotation(widget, field_ref)) for widget in widgets]
        field[NameObject("/Kids")] = ArrayObject(kids)
        annotations = {}
        for widget, kid in zip(widgets, kids, strict=True):
            annotations.setdefault(widget.page.indirect_reference.idnum, []).append(kid)
    update.put(field_ref, field)
    _add_to_form(update, catalog, field_ref)
    for page in reader.pages:
        added = annotations.get(page.indirect_reference.idnum)
        if added:
            new_page = shallow_copy(page)
            existing = _array(page.raw_get("/Annots") if "/Annots" in page else None)
            new_page[NameObject("/Annots")] = ArrayObject([*existing, *added])
            update.put(page.indirect_reference, new_page)


def _add_to_form(
    update: IncrementalUpdate, catalog: DictionaryObject, field: IndirectObject
) -> None:
    """Append ``field`` to the AcroForm, which is kept as an indirect object of its own (so
    later updates rewrite the form, not the catalog)."""
    raw_form = catalog.raw_get("/AcroForm") if "/AcroForm" in catalog else None
    old_form = raw_form.get_object() if raw_form is not None else DictionaryObject()
    form = shallow_copy(old_form)
    form[NameObject("/Fields")] = ArrayObject(
        [*_array(old_form.raw_get("/Fields") if "/Fields" in old_form else None), field]
    )
    form[NameObject("/SigFlags")] = NumberObject(SIG_FLAGS)
    if isinstance(raw_form, IndirectObject):
        update.put(raw_form, form)
        return
    new_catalog = shallow_copy(catalog)
    new_catalog[NameObject("/AcroForm")] = update.add(form)
    update.put(update.reader.trailer.raw_get("/Root"), new_catalog)


def reserve_signature(
    update: IncrementalUpdate, signer: Signer, reason: str, signed_at: datetime.datetime
) -> tuple[IndirectObject, bytes]:
    """The signature dictionary's object, with zeroed contents the signer's size."""
    body = sigdict.placeholder(signer.name, reason, signed_at, signer.container_size)
    sig_ref = update.add(body)
    return sig_ref, body


def write_signed(
    update: IncrementalUpdate,
    sig_ref: IndirectObject,
    body: bytes,
    signer: Signer,
    signed_at: datetime.datetime,
) -> bytes:
    """Write ``update``, then fill in the byte range and the CMS over it."""
    written, offsets = update.write()
    slot, start, end = (offsets[sig_ref.idnum] + at for at in sigdict.placeholder_offsets(body))
    out = bytearray(written)
    out[slot : slot + sigdict.RANGE_WIDTH] = sigdict.range_numbers(start, end, len(out) - end)
    digest = sm3(bytes(out[:start]) + bytes(out[end:]))
    hex_digits = signer.sign_digest(digest, signed_at).hex().encode()
    if len(hex_digits) > end - start - 2:
        raise ValueError("signature larger than its reserved space")
    out[start + 1 : start + 1 + len(hex_digits)] = hex_digits
    return bytes(out)


def sign_pdf(
    pdf: bytes,
    signer: Signer,
    reason: str,
    *,
    signed_at: datetime.datetime | None = None,
) -> bytes:
    """``pdf`` with the issuing signature appended; ``pdf`` is a prefix of the result.

    The field is invisible (the seal is part of the page); ``signed_at`` (aware) defaults
    to now in China Standard Time.
    """
    moment = signed_at or datetime.datetime.now(CHINA_TIME)
    update = IncrementalUpdate(pdf)
    sig_ref, body = reserve_signature(update, signer, reason, moment)
    add_signature_field(update, sig_ref, ISSUE_FIELD, [Widget(update.reader.pages[0])])
    return write_signed(update, sig_ref, body, signer, moment)
