"""CMS SignedData with SM2 and SM3, detached (RFC 5652 as profiled by GB/T 35275).

What a PDF signature's ``/Contents`` holds, as CONTRACT.md gives it: a ContentInfo of
type signedData (RFC 5652's OIDs, which PDF validators read), digest algorithm SM3,
signature algorithm SM2-with-SM3, signed attributes contentType, signingTime and
messageDigest, and the seal's chain in ``certificates``.  The SM2 signature covers the
DER of the signed attributes as a SET (RFC 5652 §5.4), computed with the default signer
ID, so ``openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678``
checks it.

Reading is strict and bounded: one signer, a handful of certificates, nothing but DER.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import cms, x509

from certarchive.i18n import _
from certarchive.signing import algorithms
from certarchive.signing.certificates import CertificateError, public_key_of, same_name

MAX_CMS_BYTES = 64 * 1024
MAX_CERTIFICATES = 8
#: The longest DER SM2 signature: SEQUENCE of two 33-byte INTEGERs.
MAX_SIGNATURE = 72
_DATA_TYPES = {"data", "gbt35275_data"}
_SIGNED_DATA_TYPES = {"signed_data", "gbt35275_signed_data"}
_SIGNATURE_ALGORITHMS = {algorithms.SM2_WITH_SM3, "1.2.156.10197.1.301.1"}


class CmsError(ValueError):
    """A signature container that cannot be read, with the reason in plain words."""


def signed_attributes(digest: bytes, signing_time: datetime.datetime) -> cms.CMSAttributes:
    return cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]},
            {"type": "message_digest", "values": [digest]},
        ]
    )


def build_signed_data(
    digest: bytes,
    chain: Sequence[x509.Certificate],
    sign: Callable[[bytes], bytes],
    signing_time: datetime.datetime,
) -> bytes:
    """DER ContentInfo for detached content whose SM3 is ``digest``; ``chain`` leaf first.

    ``sign`` makes the SM2 signature (DER) of the bytes it is given.
    """
    leaf = chain[0]
    attributes = signed_attributes(digest, signing_time)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": leaf.issuer, "serial_number": leaf.serial_number},
            ),
            "digest_algorithm": {"algorithm": "sm3"},
            "signed_attrs": attributes,
            "signature_algorithm": {"algorithm": "sm2_sm3"},
            "signature": sign(attributes.dump()),
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sm3"}],
            "encap_content_info": {"content_type": "data"},
            "certificates": list(chain),
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


@dataclass(frozen=True)
class SignedContent:
    """What a SignedData says, read but not yet judged."""

    signer: x509.Certificate
    certificates: list[x509.Certificate]
    message_digest: bytes
    signing_time: datetime.datetime | None
    signed_attributes: bytes  # DER, as a SET: the bytes the signature covers
    signature: bytes

    def signature_verifies(self) -> bool:
        """Whether the signer certificate's key made the signature over the attributes."""
        try:
            key = public_key_of(self.signer)
        except CertificateError:
            return False
        return key.verify(self.signed_attributes, self.signature)


def _single(attributes: cms.CMSAttributes, name: str) -> object | None:
    values = [attr["values"] for attr in attributes if attr["type"].native == name]
    if not values:
        return None
    if len(values) != 1 or len(values[0]) != 1:
        raise CmsError(_("签名属性${name}重复", mapping={"name": name}))
    return values[0][0].native


def _signer_certificate(
    info: cms.SignerInfo, certificates: list[x509.Certificate]
) -> x509.Certificate:
    sid = info["sid"]
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            if (
                same_name(cert.issuer, sid.chosen["issuer"])
                and cert.serial_number == sid.chosen["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise CmsError(_("签名中没有签名者的证书"))


def read_signed_data(der: bytes) -> SignedContent:
    """Parse a DER ContentInfo of SignedData with exactly one SM2 signer; :class:`CmsError`
    says in words what is wrong."""
    if len(der) > MAX_CMS_BYTES:
        raise CmsError(_("签名数据过大"))
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native not in _SIGNED_DATA_TYPES:
            raise CmsError(_("签名不是SignedData"))
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise CmsError(_("签名不是分离式签名"))
        raw_certs = signed["certificates"]
        if len(raw_certs) > MAX_CERTIFICATES:
            raise CmsError(_("签名携带的证书过多"))
        certificates = [choice.chosen for choice in raw_certs if choice.name == "certificate"]
        signers = signed["signer_infos"]
        if len(signers) != 1:
            raise CmsError(_("签名应恰有一个签名者"))
        signer_info = signers[0]
        if signer_info["digest_algorithm"]["algorithm"].native != "sm3":
            raise CmsError(_("摘要算法不是SM3"))
        if signer_info["signature_algorithm"]["algorithm"].dotted not in _SIGNATURE_ALGORITHMS:
            raise CmsError(_("签名算法不是SM2"))
        attributes = signer_info["signed_attrs"]
        if not len(attributes):
            raise CmsError(_("签名缺少签名属性"))
        if _single(attributes, "content_type") not in _DATA_TYPES:
            raise CmsError(_("签名属性内容类型错误"))
        digest = _single(attributes, "message_digest")
        if not isinstance(digest, bytes):
            raise CmsError(_("签名缺少消息摘要"))
        signing_time = _single(attributes, "signing_time")
        signature = bytes(signer_info["signature"])
        if len(signature) > MAX_SIGNATURE:
            raise CmsError(_("签名值过长"))
        return SignedContent(
            signer=_signer_certificate(signer_info, certificates),
            certificates=certificates,
            message_digest=digest,
            signing_time=signing_time if isinstance(signing_time, datetime.datetime) else None,
            # The attributes are signed as a SET (tag 0x31), not with the [0] tag they carry.
            signed_attributes=b"\x31" + attributes.dump()[1:],
            signature=signature,
        )
    except CmsError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise CmsError(_("签名数据格式错误")) from None
