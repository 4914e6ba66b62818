"""Certificate paths: from a seal certificate up to a root that the verifier trusts.

Written by hand because no installed library verifies SM2 certificate signatures
(pyhanko-certvalidator and certvalidator hand signatures to the cryptography package,
which has no SM2).  It checks what a relying party needs and nothing more: each
certificate signed by the next (SM2-with-SM3), names chaining, every certificate valid at
the signing time, issuers marked as CAs that may sign certificates, the seal certificate
allowed to sign documents, and a path that ends at one of the given roots.  There is no
revocation checking (CRL or OCSP): a registry's seal certificates are few and replaced
certificates stay valid for the files they signed.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from asn1crypto import x509

from certarchive.i18n import _
from certarchive.signing.certificates import same_name, signature_verifies

MAX_DEPTH = 6
_SIGNING_USAGES = {"digital_signature", "non_repudiation"}


def _valid_at(cert: x509.Certificate, moment: datetime.datetime) -> bool:
    return cert.not_valid_before <= moment <= cert.not_valid_after


def _may_issue(cert: x509.Certificate) -> bool:
    constraints = cert.basic_constraints_value
    usage = cert.key_usage_value
    return (
        constraints is not None
        and bool(constraints["ca"].native)
        and (usage is None or "key_cert_sign" in usage.native)
    )


def _may_sign_documents(cert: x509.Certificate) -> bool:
    usage = cert.key_usage_value
    return usage is None or bool(_SIGNING_USAGES & set(usage.native))


def _issuer_of(
    cert: x509.Certificate, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    for candidate in candidates:
        if same_name(candidate.subject, cert.issuer) and signature_verifies(cert, candidate):
            return candidate
    return None


@dataclass(frozen=True)
class _Path:
    """What a path check found that does not depend on the time: its problems, and the
    certificates on it (whose validity is then compared with the signing time)."""

    problems: tuple[str, ...]
    certificates: tuple[x509.Certificate, ...]


def check_path(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: datetime.datetime,
) -> list[str]:
    """Problems with the path from ``leaf`` to one of ``roots`` at time ``at`` (empty: fine).

    ``intermediates`` are the certificates the file carries; only ``roots`` are trusted.
    The path itself is worked out once per set of certificates (every file of a seal
    carries the same ones) and only the validity at ``at`` is checked every time.
    """
    found = _path(
        leaf.dump(),
        tuple(cert.dump() for cert in intermediates),
        tuple(root.dump() for root in roots),
    )
    problems = list(found.problems)
    for cert in found.certificates:
        if not _valid_at(cert, at):
            problems.append(
                _(
                    "证书在签名时不在有效期内（${human_friendly}）",
                    mapping={"human_friendly": cert.subject.human_friendly},
                )
            )
    return problems


@lru_cache(maxsize=256)
def _path(
    leaf_der: bytes, intermediate_ders: tuple[bytes, ...], root_ders: tuple[bytes, ...]
) -> _Path:
    leaf = x509.Certificate.load(leaf_der)
    intermediates = [x509.Certificate.load(der) for der in intermediate_ders]
    roots = [x509.Certificate.load(der) for der in root_ders]
    problems: list[str] = []
    if not _may_sign_documents(leaf):
        problems.append(_("签名证书不允许用于签署文件"))
    trusted = set(root_ders)
    path = [leaf]
    current = leaf
    while current.dump() not in trusted:
        if len(path) > MAX_DEPTH:
            problems.append(_("证书链过长"))
            return _Path(tuple(problems), ())
        issuer = _issuer_of(current, [*roots, *intermediates])
        if issuer is None or issuer.dump() == current.dump():  # an untrusted self-signed root
            problems.append(_("证书链未指向受信任的根证书"))
            return _Path(tuple(problems), ())
        if not _may_issue(issuer):
            problems.append(_("证书链中的签发者不是CA证书"))
        path.append(issuer)
        current = issuer
    return _Path(tuple(problems), tuple(path))
