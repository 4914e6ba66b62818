"""GB/T 38540 (version 4) electronic seal ``SESeal`` and signature ``SES_Signature``.

The structures, as GB/T 38540-2020 gives them (GM/T 0031 is the earlier version 2)::

    SESeal ::= SEQUENCE { esealInfo SES_SealInfo, cert OCTET STRING,      -- the seal maker's
                          signAlgID OBJECT IDENTIFIER, signedValue BIT STRING }
    SES_SealInfo ::= SEQUENCE { header SES_Header, esID IA5String,
                          property SES_ESPropertyInfo, picture SES_ESPictrueInfo,
                          extDatas ExtensionDatas OPTIONAL }
    SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER (4), Vid IA5String }
    SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER,
                          certList SES_CertList, createDate, validStart, validEnd GeneralizedTime }
    SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING,
                          width INTEGER, height INTEGER }                  -- millimetres
    SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING,     -- the signer's
                          signatureAlgID OBJECT IDENTIFIER, signature BIT STRING,
                          timeStamp [0] EXPLICIT BIT STRING OPTIONAL }
    TBS_Sign ::= SEQUENCE { version INTEGER (4), eseal SESeal, timeInfo GeneralizedTime,
                          dataHash BIT STRING, propertyInfo IA5String,
                          extDatas [0] EXPLICIT ExtensionDatas OPTIONAL }

``certList`` is written as certificates (``certListType`` 1): the seal certificates
allowed to use the seal.  The seal maker signs the DER of ``SEQUENCE { esealInfo, cert,
signAlgID }``; the signer signs the DER of ``toSign``.  Every SM2 signature is made and
checked through :mod:`certarchive.crypto.sm` with the default signer ID.

Reading checks what a relying party must: the header, the maker's signature, that the
signing certificate is one of the seal's, and the seal's validity at the signing time.
Problems come back in words, Chinese first, never as exceptions.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import core, x509

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.i18n import _, message_of
from certarchive.signing import algorithms
from certarchive.signing.certificates import public_key_of
from certarchive.signing.chain import check_path

VERSION = 4
HEADER_ID = "ES"
VENDOR_ID = "certarchive"
#: 印章类型: 1 单位印章 (GB/T 38540 §…: 1 official seal, 2 personal).
SEAL_TYPE_OFFICIAL = 1
CERT_LIST_CERTIFICATES = 1
#: Bounds for reading an outside SES_Signature (ours are about 40 KB with the seal image).
MAX_SES_BYTES = 1 * 2**20


class SesError(ValueError):
    """An SESeal or SES_Signature that cannot be read or is refused; message in words."""


class ExtData(core.Sequence):
    _fields: ClassVar[list] = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SealHeader(core.Sequence):
    _fields: ClassVar[list] = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class PropertyInfo(core.Sequence):
    _fields: ClassVar[list] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", CertInfoList),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class PictureInfo(core.Sequence):
    _fields: ClassVar[list] = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SealInfo(core.Sequence):
    _fields: ClassVar[list] = [
        ("header", SealHeader),
        ("es_id", core.IA5String),
        ("property", PropertyInfo),
        ("picture", PictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):
    _fields: ClassVar[list] = [
        ("eseal_info", SealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TBSSign(core.Sequence):
    _fields: ClassVar[list] = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SESSignature(core.Sequence):
    _fields: ClassVar[list] = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


@dataclass(frozen=True)
class SealDescription:
    """What the seal says about itself (H-3.1): its number is the esID."""

    number: str
    name: str
    picture_png: bytes
    width_mm: int
    height_mm: int
    created: datetime.datetime
    valid_from: datetime.datetime
    valid_to: datetime.datetime


def _maker_message(info: SealInfo, maker_cert: bytes) -> bytes:
    return core.Sequence(
        value=None,
        contents=info.dump()
        + core.OctetString(maker_cert).dump()
        + core.ObjectIdentifier(algorithms.SM2_WITH_SM3).dump(),
    ).dump()


def make_seseal(
    seal: SealDescription,
    seal_certificates: list[x509.Certificate],
    maker_key: SM2PrivateKey,
    maker_certificate: x509.Certificate,
) -> bytes:
    """An SESeal (DER) for ``seal``, usable with ``seal_certificates``, signed by its maker."""
    if public_key_of(maker_certificate) != maker_key.public_key:
        raise SesError(_("制章人证书与密钥不匹配"))
    info = SealInfo(
        {
            "header": {"id": HEADER_ID, "version": VERSION, "vid": VENDOR_ID},
            "es_id": seal.number,
            "property": {
                "type": SEAL_TYPE_OFFICIAL,
                "name": seal.name,
                "cert_list_type": CERT_LIST_CERTIFICATES,
                "cert_list": [cert.dump() for cert in seal_certificates],
                "create_date": seal.created,
                "valid_start": seal.valid_from,
                "valid_end": seal.valid_to,
            },
            "picture": {
                "type": "PNG",
                "data": seal.picture_png,
                "width": seal.width_mm,
                "height": seal.height_mm,
            },
        }
    )
    maker = maker_certificate.dump()
    signed = maker_key.sign(_maker_message(info, maker))
    return SESeal(
        {
            "eseal_info": info,
            "cert": maker,
            "sign_alg_id": algorithms.SM2_WITH_SM3,
            "signed_value": signed,
        }
    ).dump()


def _loaded(spec: type[core.Sequence], der: bytes, what: str) -> core.Sequence:
    if len(der) > MAX_SES_BYTES:
        raise SesError(_("${what}超出大小限制", mapping={"what": what}))
    try:
        value = spec.load(der, strict=True)
        value.native  # noqa: B018 - parse every field now, so errors surface here
    except (ValueError, TypeError, KeyError, OverflowError):
        raise SesError(_("无法解析${what}", mapping={"what": what})) from None
    return value


def read_seseal(der: bytes) -> SESeal:
    """An SESeal from outside: parsed, header and maker signature checked."""
    seal = _loaded(SESeal, der, _("电子印章 SESeal"))
    info = seal["eseal_info"]
    header = info["header"]
    if header["id"].native != HEADER_ID or header["version"].native != VERSION:
        raise SesError(_("电子印章不是第4版（GB/T 38540）"))
    if seal["sign_alg_id"].dotted != algorithms.SM2_WITH_SM3:
        raise SesError(_("电子印章签名算法不是SM2"))
    try:
        maker = x509.Certificate.load(seal["cert"].native)
        maker_key = public_key_of(maker)
    except Exception:
        raise SesError(_("电子印章的制章人证书无法读取")) from None
    if not maker_key.verify(_maker_message(info, seal["cert"].native), seal["signed_value"].native):
        raise SesError(_("电子印章的制章人签名无效"))
    return seal


def seal_maker(seal: SESeal) -> x509.Certificate:
    """The certificate of whoever made (signed) the seal: an e-seal system, or the
    demonstration CA for a seal certarchive made itself."""
    return x509.Certificate.load(seal["cert"].native)


def seal_validity(seal: SESeal) -> tuple[datetime.datetime, datetime.datetime]:
    """(valid_start, valid_end) of the seal itself, apart from any certificate's."""
    prop = seal["eseal_info"]["property"]
    return prop["valid_start"].native, prop["valid_end"].native


def maker_problems(
    seal: SESeal,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    at: datetime.datetime,
) -> list[str]:
    """Problems with the seal maker's certificate at ``at`` (empty: fine).

    A seal counts only if whoever made it is trusted: its certificate is one of the roots
    (the demonstration CA makes the seals of a registry that has no e-seal system) or
    chains to one, valid at ``at`` like any certificate on a path.
    """
    maker = seal_maker(seal)
    if any(maker.dump() == root.dump() for root in roots):
        problems = (
            []
            if maker.not_valid_before <= at <= maker.not_valid_after
            else [_("证书在签名时不在有效期内")]
        )
    else:
        problems = check_path(maker, intermediates, roots, at)
    if not problems:
        return []
    return [
        _("电子印章的制章人证书不受信任"),
        *problems,
    ]


def seal_certificates(seal: SESeal) -> list[bytes]:
    """The DER of the certificates the seal may be used with (certListType 1)."""
    prop = seal["eseal_info"]["property"]
    if prop["cert_list_type"].native != CERT_LIST_CERTIFICATES:
        return []
    return [item.native for item in prop["cert_list"]]


def sign_ses(
    seseal: bytes,
    data_hash: bytes,
    property_info: str,
    moment: datetime.datetime,
    key: SM2PrivateKey,
    certificate: x509.Certificate,
) -> bytes:
    """An SES_Signature (DER) over ``data_hash`` with the seal ``seseal``."""
    to_sign = TBSSign(
        {
            "version": VERSION,
            "eseal": SESeal.load(seseal),
            "time_info": moment.astimezone(datetime.UTC).replace(microsecond=0),
            "data_hash": data_hash,
            "property_info": property_info,
        }
    )
    return SESSignature(
        {
            "to_sign": to_sign,
            "cert": certificate.dump(),
            "signature_alg_id": algorithms.SM2_WITH_SM3,
            "signature": key.sign(to_sign.dump()),
        }
    ).dump()


@dataclass(frozen=True)
class ReadSignature:
    """A checked SES_Signature: what it signs, when, with which seal and certificate."""

    data_hash: bytes
    property_info: str
    signed_at: datetime.datetime
    certificate: x509.Certificate
    seal: SESeal
    problems: tuple[str, ...]


def read_ses_signature(der: bytes) -> ReadSignature:
    """Parse and check an SES_Signature; :class:`SesError` if it cannot be read at all."""
    value = _loaded(SESSignature, der, _("签章数据 SES_Signature"))
    to_sign = value["to_sign"]
    problems: list[str] = []
    try:
        certificate = x509.Certificate.load(value["cert"].native)
        key = public_key_of(certificate)
    except Exception:
        raise SesError(_("签章者证书无法读取")) from None
    if to_sign["version"].native != VERSION:
        problems.append(_("签章数据不是第4版"))
    if value["signature_alg_id"].dotted != algorithms.SM2_WITH_SM3:
        problems.append(_("签章算法不是SM2"))
    elif not key.verify(to_sign.dump(), value["signature"].native):
        problems.append(_("签章的SM2签名无效"))
    signed_at = to_sign["time_info"].native
    try:
        seal = read_seseal(to_sign["eseal"].dump())
    except SesError as error:
        problems.append(message_of(error))
        seal = to_sign["eseal"]
    else:
        if value["cert"].native not in seal_certificates(seal):
            problems.append(_("签章者证书不在电子印章的证书列表中"))
        valid_from, valid_to = seal_validity(seal)
        if not valid_from <= signed_at <= valid_to:
            problems.append(_("签章时电子印章不在有效期内"))
    return ReadSignature(
        data_hash=to_sign["data_hash"].native,
        property_info=to_sign["property_info"].native,
        signed_at=signed_at,
        certificate=certificate,
        seal=seal,
        problems=tuple(problems),
    )
