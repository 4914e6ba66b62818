"""A seal's signer: its private key and certificate chain, signing detached content."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cached_property

from asn1crypto import x509

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.i18n import _
from certarchive.signing.certificates import CertificateError, CertificateSummary, public_key_of
from certarchive.signing.cms import MAX_SIGNATURE, build_signed_data

PADDING = 8


@dataclass(frozen=True)
class Signer:
    """The seal key, its chain (leaf first; the leaf must certify the key) and the seal's
    name, which signature dictionaries show as the signer."""

    key: SM2PrivateKey
    chain: tuple[x509.Certificate, ...]
    name: str

    def __post_init__(self) -> None:
        if not self.chain or public_key_of(self.chain[0]) != self.key.public_key:
            raise CertificateError(_("证书与印章密钥不匹配"))

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @cached_property
    def summary(self) -> dict[str, str]:
        """The signing certificate, described for records and pages."""
        return CertificateSummary.of(self.certificate).as_dict()

    def sign_digest(self, digest: bytes, signing_time: datetime.datetime) -> bytes:
        """CMS SignedData (DER) over detached content whose SM3 is ``digest``."""
        return build_signed_data(digest, self.chain, self.key.sign, signing_time)

    @cached_property
    def container_size(self) -> int:
        """The space to reserve for what :meth:`sign_digest` returns: its largest size and
        a few bytes more, so that every file has some zero padding that verifiers check."""
        moment = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
        longest = bytes([0x30, MAX_SIGNATURE - 2]) + b"\x00" * (MAX_SIGNATURE - 2)
        return PADDING + len(build_signed_data(b"\x00" * 32, self.chain, lambda _: longest, moment))
