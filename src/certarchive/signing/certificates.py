"""X.509 v3 certificates and PKCS#10 requests for SM2 keys, signed SM2-with-SM3 (GM/T 0015).

asn1crypto encodes and decodes the structures; the signatures come from
:mod:`certarchive.crypto.sm` with the default signer ID, which is what GM/T 0015 and
OpenSSL (``-vfyopt distid:1234567812345678``) use for certificates.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asn1crypto import csr, keys, pem, x509

from certarchive.crypto.sm import SM2PrivateKey, SM2PublicKey, sm3, sm3_hex
from certarchive.i18n import _
from certarchive.signing import algorithms

_ALGORITHM = {"algorithm": "sm2_sm3"}
#: PEM files we read hold a seal chain: a handful of certificates, never megabytes.
MAX_PEM_BYTES = 256 * 1024
MAX_CHAIN = 8


class CertificateError(ValueError):
    """A certificate or request that cannot be used, with the reason in plain words."""


def public_key_info(key: SM2PublicKey) -> keys.PublicKeyInfo:
    """SubjectPublicKeyInfo of an SM2 key: id-ecPublicKey on the curve sm2p256v1."""
    return keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("named", "sm2p256v1")},
            "public_key": key.to_bytes(),
        }
    )


def public_key_of(cert: x509.Certificate) -> SM2PublicKey:
    """The certificate's SM2 public key; :class:`CertificateError` if it holds another kind."""
    try:
        info = cert["tbs_certificate"]["subject_public_key_info"]
        algorithm = info["algorithm"]
        if algorithm["algorithm"].dotted != "1.2.840.10045.2.1" or (
            algorithm["parameters"].chosen.dotted != algorithms.SM2_CURVE
        ):
            raise CertificateError(_("证书的公钥不是SM2公钥"))
        return SM2PublicKey.from_bytes(bytes(info["public_key"]))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        if isinstance(error, CertificateError):
            raise
        raise CertificateError(_("证书的公钥无法读取")) from None


def same_name(first: x509.Name, second: x509.Name) -> bool:
    """Names compared as DER: a CA copies its subject into the certificates it issues, and
    asn1crypto's RFC 4518 comparison costs more than the signature check it guards."""
    return first.dump() == second.dump()


def key_identifier(key: SM2PublicKey) -> bytes:
    """A 20-byte key identifier: SM3 of the public key, truncated (RFC 5280 §4.2.1.2 leaves
    the method open)."""
    return sm3(key.to_bytes())[:20]


def build_name(attributes: dict[str, str]) -> x509.Name:
    """A distinguished name from asn1crypto attribute names (UTF8String where text)."""
    return x509.Name.build(attributes, use_printable=False)


@dataclass(frozen=True)
class CertificateProfile:
    """What differs between a CA certificate and a seal (document-signing) certificate."""

    is_ca: bool
    key_usage: frozenset[str]
    extended_key_usage: tuple[str, ...] = ()


CA_PROFILE = CertificateProfile(True, frozenset({"key_cert_sign", "crl_sign"}))
SEAL_PROFILE = CertificateProfile(
    False, frozenset({"digital_signature", "non_repudiation"}), ("document_signing",)
)


def _time(moment: datetime.datetime) -> x509.Time:
    """UTCTime until 2049, GeneralizedTime after (RFC 5280 §4.1.2.5)."""
    return x509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def issue_certificate(
    *,
    subject: x509.Name,
    subject_key: SM2PublicKey,
    issuer: x509.Name,
    issuer_key: SM2PrivateKey,
    serial_number: int,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    profile: CertificateProfile,
) -> x509.Certificate:
    """A certificate for ``subject_key`` signed by ``issuer_key`` (self-signed when equal)."""
    extensions: list[dict[str, Any]] = [
        {
            "extn_id": "basic_constraints",
            "critical": True,
            "extn_value": {
                "ca": profile.is_ca,
                "path_len_constraint": 0 if profile.is_ca else None,
            },
        },
        {"extn_id": "key_usage", "critical": True, "extn_value": set(profile.key_usage)},
        {"extn_id": "key_identifier", "critical": False, "extn_value": key_identifier(subject_key)},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": key_identifier(issuer_key.public_key)},
        },
    ]
    if profile.extended_key_usage:
        extensions.append(
            {
                "extn_id": "extended_key_usage",
                "critical": False,
                "extn_value": list(profile.extended_key_usage),
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial_number,
            "signature": _ALGORITHM,
            "issuer": issuer,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": public_key_info(subject_key),
            "extensions": extensions,
        }
    )
    built = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _ALGORITHM,
            "signature_value": issuer_key.sign(tbs.dump()),
        }
    )
    # Parsed back from its bytes: asn1crypto re-encodes a built object on every dump().
    return x509.Certificate.load(built.dump())


def certificate_request(subject: x509.Name, key: SM2PrivateKey) -> csr.CertificationRequest:
    """A PKCS#10 request for ``key``, signed by it (``openssl req -verify`` checks it)."""
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": subject,
            "subject_pk_info": public_key_info(key.public_key),
            "attributes": [],
        }
    )
    return csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": _ALGORITHM,
            "signature": key.sign(info.dump()),
        }
    )


def signature_verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key made ``cert``'s SM2-with-SM3 signature."""
    return _signed_by(cert.dump(), issuer.dump())


@lru_cache(maxsize=1024)
def _signed_by(cert_der: bytes, issuer_der: bytes) -> bool:
    """The answer for two certificates' bytes: every file of a seal repeats the same pair,
    and an SM2 verification costs a millisecond or two."""
    try:
        cert, issuer = x509.Certificate.load(cert_der), x509.Certificate.load(issuer_der)
        if cert["signature_algorithm"]["algorithm"].dotted != algorithms.SM2_WITH_SM3:
            return False
        key = public_key_of(issuer)
        return key.verify(cert["tbs_certificate"].dump(), bytes(cert["signature_value"]))
    except (ValueError, TypeError, KeyError):
        return False


def to_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(pem.armor("CERTIFICATE", cert.dump()) for cert in certs)


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM (one or several blocks) or one DER certificate, in file order."""
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(_("证书文件过大"))
    blocks = [match.group(0) for match in _PEM_BLOCK.finditer(data)]
    try:
        if blocks:
            ders = []
            for block in blocks:
                kind, _headers, der = pem.unarmor(block)
                if kind != "CERTIFICATE":
                    raise CertificateError(
                        _("文件中有非证书内容（${kind}）", mapping={"kind": kind})
                    )
                ders.append(der)
        else:
            ders = [data]
        certs = [x509.Certificate.load(der, strict=True) for der in ders]
        for cert in certs:
            cert.native  # noqa: B018 - parse every field now, so errors surface here
    except (ValueError, TypeError, KeyError) as error:
        if isinstance(error, CertificateError):
            raise
        raise CertificateError(_("不是有效的X.509证书")) from None
    if not certs:
        raise CertificateError(_("文件中没有证书"))
    if len(certs) > MAX_CHAIN:
        raise CertificateError(_("证书链超过${max_chain}张", mapping={"max_chain": MAX_CHAIN}))
    return certs


@dataclass(frozen=True)
class CertificateSummary:
    """What a person is told about a certificate: who, which, and when it is valid."""

    subject: str
    issuer: str
    serial_number: str  # hexadecimal
    not_before: datetime.datetime
    not_after: datetime.datetime
    sm3: str  # of the DER

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertificateSummary:
        return _summary(cert.dump())

    @classmethod
    def _made(cls, cert: x509.Certificate) -> CertificateSummary:
        return cls(
            subject=cert.subject.human_friendly,
            issuer=cert.issuer.human_friendly,
            serial_number=format(cert.serial_number, "x"),
            not_before=cert.not_valid_before,
            not_after=cert.not_valid_after,
            sm3=sm3_hex(cert.dump()),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial_number": self.serial_number,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sm3": self.sm3,
        }


@lru_cache(maxsize=256)
def _summary(der: bytes) -> CertificateSummary:
    """A certificate's summary, made once per certificate: every file of a seal names it."""
    return CertificateSummary._made(x509.Certificate.load(der))
