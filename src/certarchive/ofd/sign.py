"""Sealing an OFD package as GB/T 33190 §18 says, with a GB/T 38540 SES_Signature.

``OFD.xml`` names ``Signatures.xml``, which lists each signature's ``Signature.xml``.
A ``Signature.xml`` gives the SM3 (base64) of every file it protects (``References``),
the stamp annotation (where the seal is shown: its picture comes from the SESeal) and
``SignedValue.dat``, the SES_Signature whose ``dataHash`` is the SM3 of the
``Signature.xml`` bytes.  So the SM2 signature covers the digests, which cover the files.

What a signature leaves unprotected, and why: ``Signatures.xml`` (it must change when a
later signature is added) and the annotation index while it lists nothing (the 已注销
watermark is added to it on revocation, and the revocation's signature then protects it).
The verifier (:mod:`.verify`) refuses every other file that the last signature does not
cover, so nothing can be added, removed or changed unseen.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from certarchive.crypto.sm import sm3
from certarchive.ofd.package import to_zip
from certarchive.ofd.writer import ANNOTATIONS, DOC, OFD_XML, StampPlace
from certarchive.ofd.xml import element, numbers, parse_own, q, serialise, sub
from certarchive.signing.algorithms import SM2_WITH_SM3, SM3
from certarchive.signing.ses import sign_ses
from certarchive.signing.signer import Signer

SIGNATURES = f"{DOC}/Signs/Signatures.xml"
PROVIDER = "certarchive"
PROVIDER_VERSION = "1"


@dataclass(frozen=True)
class OfdSeal:
    """What sealing needs: the seal's signer (key and certificate chain) and its SESeal."""

    signer: Signer
    seseal: bytes


def signature_dir(index: int) -> str:
    return f"{DOC}/Signs/Sign_{index}"


#: The annotation index as issued; only these exact bytes may stay unprotected.
EMPTY_ANNOTATIONS = serialise(element("Annotations"))


def unprotected(files: dict[str, bytes]) -> set[str]:
    """The files a new signature does not reference (see the module's docstring)."""
    left = {SIGNATURES}
    if files.get(ANNOTATIONS) == EMPTY_ANNOTATIONS:
        left.add(ANNOTATIONS)
    return left


def _with_signatures_entry(ofd_xml: bytes) -> bytes:
    root = parse_own(ofd_xml)
    body = root.find(q("DocBody"))
    if body.find(q("Signatures")) is None:
        sub(body, "Signatures", text=SIGNATURES)
    return serialise(root)


def signatures_index(count: int) -> bytes:
    """``Signatures.xml`` listing ``count`` signatures, as signing writes it."""
    root = element("Signatures")
    for index in range(count):
        sub(
            root,
            "Signature",
            {
                "ID": f"s{index + 1}",
                "Type": "Seal",
                "BaseLoc": f"/{signature_dir(index)}/Signature.xml",
            },
        )
    return serialise(root)


def _signature_xml(
    files: dict[str, bytes],
    protected: Sequence[str],
    stamps: Sequence[StampPlace],
    moment: datetime.datetime,
    index: int,
) -> bytes:
    root = element("Signature")
    info = sub(root, "SignedInfo")
    sub(info, "Provider", {"ProviderName": PROVIDER, "Version": PROVIDER_VERSION})
    sub(info, "SignatureMethod", text=SM2_WITH_SM3)
    sub(info, "SignatureDateTime", text=moment.astimezone(datetime.UTC).strftime("%Y%m%d%H%M%SZ"))
    references = sub(info, "References", {"CheckMethod": SM3})
    for name in protected:
        reference = sub(references, "Reference", {"FileRef": f"/{name}"})
        sub(reference, "CheckValue", text=base64.b64encode(sm3(files[name])).decode())
    for number, stamp in enumerate(stamps, start=1):
        sub(
            info,
            "StampAnnot",
            {
                "ID": f"a{index + 1}_{number}",
                "PageRef": str(stamp.page_id),
                "Boundary": numbers(stamp.boundary),
            },
        )
    sub(root, "SignedValue", text=f"/{signature_dir(index)}/SignedValue.dat")
    return serialise(root)


def signature_count(files: dict[str, bytes]) -> int:
    if SIGNATURES not in files:
        return 0
    return len(parse_own(files[SIGNATURES]).findall(q("Signature")))


def add_signature(
    files: dict[str, bytes],
    seal: OfdSeal,
    moment: datetime.datetime,
    stamps: Sequence[StampPlace] = (),
) -> dict[str, bytes]:
    """``files`` with one more signature over everything but the unprotected files."""
    files = dict(files)
    files[OFD_XML] = _with_signatures_entry(files[OFD_XML])
    index = signature_count(files)
    left = unprotected(files)
    protected = [name for name in files if name not in left]
    signature_xml = _signature_xml(files, protected, stamps, moment, index)
    folder = signature_dir(index)
    signer = seal.signer
    files[f"{folder}/Signature.xml"] = signature_xml
    files[f"{folder}/SignedValue.dat"] = sign_ses(
        seal.seseal,
        sm3(signature_xml),
        f"/{folder}/Signature.xml",
        moment,
        signer.key,
        signer.certificate,
    )
    files[SIGNATURES] = signatures_index(index + 1)
    return files


def seal_package(
    files: dict[str, bytes],
    stamps: Sequence[StampPlace],
    seal: OfdSeal,
    moment: datetime.datetime,
) -> bytes:
    """The issued package: ``files`` sealed once, with the seal shown at ``stamps``."""
    return to_zip(add_signature(files, seal, moment, stamps))
