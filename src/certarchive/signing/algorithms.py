"""The national algorithms' object identifiers, registered with asn1crypto once.

asn1crypto knows RSA, DSA and ECDSA with the SHA family but none of the Chinese
national algorithms, so every module that reads or writes certificates or CMS imports
this one first.  Names stay asn1crypto-style (``sm3``, ``sm2_sm3``) so that the rest of
the code reads like any other algorithm's.
"""

from __future__ import annotations

from asn1crypto import algos, cms, core, keys, x509

SM3 = "1.2.156.10197.1.401"
SM2_WITH_SM3 = "1.2.156.10197.1.501"
SM2_CURVE = "1.2.156.10197.1.301"
#: GB/T 35275's own content types, accepted when verifying (we write RFC 5652's).
GBT_35275_DATA = "1.2.156.10197.6.1.4.2.1"
GBT_35275_SIGNED_DATA = "1.2.156.10197.6.1.4.2.2"
#: RFC 9336 id-kp-documentSigning.
DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"


def _register(oid_type: type[core.ObjectIdentifier], oid: str, name: str) -> None:
    oid_type._map[oid] = name
    if oid_type._reverse_map is not None:
        oid_type._reverse_map[name] = oid


_register(algos.DigestAlgorithmId, SM3, "sm3")
_register(algos.SignedDigestAlgorithmId, SM2_WITH_SM3, "sm2_sm3")
_register(cms.ContentType, GBT_35275_DATA, "gbt35275_data")
_register(cms.ContentType, GBT_35275_SIGNED_DATA, "gbt35275_signed_data")
_register(x509.KeyPurposeId, DOCUMENT_SIGNING, "document_signing")
cms.ContentInfo._oid_specs["gbt35275_signed_data"] = cms.SignedData
if SM2_CURVE not in keys.NamedCurve._map:
    keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)
