"""The agencies' seals: keys, certificates, the demonstration CA and what verifiers trust.

Each agency's seal key (H-3.1) has an X.509 certificate (H-5.1.1).  A registration centre
obtains it from a CA of its own choosing: ``seal request`` writes a PKCS#10 request and
``seal import`` takes the certificate and chain back.  Until then ``init`` makes a local
demonstration CA, whose names say 演示 / DEMO, and issues the seal a certificate from it,
so that files are standard from the first day.  Every chain a seal has had stays on the
seal, oldest first: files signed under an earlier certificate keep verifying, and the
roots of all of them are what the registry trusts.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from asn1crypto import pem, x509

from certarchive.content.agency import Agency
from certarchive.content.registry import DemoAuthority
from certarchive.crypto.keyring import Keyring
from certarchive.crypto.sm import SM2PrivateKey, SM2PublicKey
from certarchive.documents.verify import Trust
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Invalid, NotFound
from certarchive.signing.certificates import (
    CA_PROFILE,
    SEAL_PROFILE,
    CertificateError,
    CertificateSummary,
    build_name,
    certificate_request,
    issue_certificate,
    load_certificates,
    public_key_of,
    same_name,
    to_pem,
)
from certarchive.signing.chain import check_path
from certarchive.signing.signer import Signer

DEMO_CA_AAD = b"demo-ca"
DEMO_ROOT_YEARS = 20
DEMO_SEAL_YEARS = 5
#: Certificates start a day early, so that a clock a little behind the CA's still
#: finds them valid.
BACKDATE = datetime.timedelta(days=1)
SOURCE_DEMO = "demo"
SOURCE_IMPORTED = "imported"


def seal_aad(agency: Agency) -> bytes:
    return f"seal:{agency.name}".encode()


def seal_key(ctx: Context, agency: Agency) -> SM2PrivateKey:
    assert agency.seal is not None, "init creates the seal"
    return _unsealed(ctx.keyring, agency.seal.private_key_sealed, seal_aad(agency))


@lru_cache(maxsize=64)
def _unsealed(keyring: Keyring, sealed: bytes, aad: bytes) -> SM2PrivateKey:
    """A key, decrypted once per process: building it computes its public key, which is
    most of the cost of signing."""
    return SM2PrivateKey.from_bytes(keyring.decrypt("seal", sealed, aad))


def seal_subject(agency: Agency) -> x509.Name:
    """The seal certificate's subject: the agency and the seal, by name and number."""
    settings = agency.settings
    assert agency.seal is not None
    return build_name(
        {
            "country_name": "CN",
            "locality_name": settings["county"],
            "organization_name": settings["agency_name"],
            "common_name": agency.seal.name,
            "serial_number": agency.seal.number,
        }
    )


def _years(moment: datetime.datetime, years: int) -> datetime.datetime:
    return moment.replace(year=moment.year + years, month=1, day=1)


def _serial_number() -> int:
    return secrets.randbits(126) | (1 << 126)  # positive, 16 bytes, never zero


def demo_authority(ctx: Context) -> tuple[SM2PrivateKey, x509.Certificate]:
    """The demonstration CA's key and root certificate, created on first use."""
    registry = ctx.registry
    if registry.demo_authority is None:
        key = SM2PrivateKey.generate()
        name = build_name(
            {
                "country_name": "CN",
                # i18n: keep (the certificate's own names, in both languages)
                "organization_name": "certarchive 演示证书机构 / DEMO certificate authority",
                # i18n: keep
                "organizational_unit_name": "仅供演示，非正式CA / for demonstration only",
                # i18n: keep
                "common_name": "certarchive 演示根证书 / DEMO ROOT CA",
            }
        )
        now = ctx.now()
        root = issue_certificate(
            subject=name,
            subject_key=key.public_key,
            issuer=name,
            issuer_key=key,
            serial_number=_serial_number(),
            not_before=now - BACKDATE,
            not_after=_years(now, DEMO_ROOT_YEARS),
            profile=CA_PROFILE,
        )
        registry.demo_authority = DemoAuthority(
            root.dump(), ctx.keyring.encrypt("seal", key.to_bytes(), DEMO_CA_AAD)
        )
    authority = registry.demo_authority
    key = _unsealed(ctx.keyring, authority.key_sealed, DEMO_CA_AAD)
    return key, x509.Certificate.load(authority.certificate)


def ensure_seal_certificates(ctx: Context) -> list[str]:
    """Give every seal without a certificate one from the demonstration CA; return what was
    created, for the caller's audit entries."""
    created = []
    for name in ctx.registry.agencies:
        agency = ctx.registry.agencies[name]
        if agency.seal is None or agency.seal.chains:
            continue
        ca_key, root = demo_authority(ctx)
        now = ctx.now()
        leaf = issue_certificate(
            subject=seal_subject(agency),
            subject_key=seal_key(ctx, agency).public_key,
            issuer=root.subject,
            issuer_key=ca_key,
            serial_number=_serial_number(),
            not_before=now - BACKDATE,
            not_after=min(_years(now, DEMO_SEAL_YEARS), root.not_valid_after),
            profile=SEAL_PROFILE,
        )
        _record_chain(ctx, agency, (leaf, root), SOURCE_DEMO)
        created.append(f"demo seal certificate {agency.seal.number}")
    return created


def _record_chain(
    ctx: Context, agency: Agency, chain: tuple[x509.Certificate, ...], source: str
) -> None:
    assert agency.seal is not None
    agency.seal.add_chain(tuple(cert.dump() for cert in chain), source, ctx.now().isoformat())


def current_chain(agency: Agency) -> tuple[x509.Certificate, ...]:
    """The seal's newest chain, leaf first; :class:`NotFound` before ``init`` gave one."""
    if agency.seal is None or not agency.seal.chains:
        raise NotFound(_("印章尚无证书，请运行 init"))
    return _loaded(agency.seal.chains[-1]["chain"])


@lru_cache(maxsize=256)
def _loaded(ders: tuple[bytes, ...]) -> tuple[x509.Certificate, ...]:
    return tuple(x509.Certificate.load(der) for der in ders)


def signer(ctx: Context, agency: Agency) -> Signer:
    """The seal's signer with its current chain."""
    current_chain(agency)  # refuses a seal without a certificate
    assert agency.seal is not None
    return _signer(seal_key(ctx, agency), agency.seal.chains[-1]["chain"], agency.seal.name)


@dataclass(frozen=True)
class SealMaterial:
    """What a process without the database needs to sign with an agency's seal: the key
    still sealed under the keyring's ``seal`` key (so it can cross a pipe and be seen by
    nobody without the keyring), its AAD, the current chain and the seal's name."""

    sealed_key: bytes
    aad: bytes
    chain: tuple[bytes, ...]
    name: str

    def signer(self, keyring: Keyring) -> Signer:
        """The signer, unsealing the key with the process's own keyring."""
        return _signer(_unsealed(keyring, self.sealed_key, self.aad), self.chain, self.name)


def seal_material(agency: Agency) -> SealMaterial:
    current_chain(agency)  # refuses a seal without a certificate
    seal = agency.seal
    assert seal is not None
    return SealMaterial(
        seal.private_key_sealed, seal_aad(agency), tuple(seal.chains[-1]["chain"]), seal.name
    )


@lru_cache(maxsize=64)
def _signer(key: SM2PrivateKey, ders: tuple[bytes, ...], name: str) -> Signer:
    return Signer(key, _loaded(ders), name)


def registry_trust(ctx: Context) -> Trust:
    """What an online verification trusts: every agency's seal key, chained to the root of
    any chain a seal has had (the demonstration CA's included)."""
    keys: list[SM2PublicKey] = []
    roots: dict[bytes, x509.Certificate] = {}
    middle: dict[bytes, x509.Certificate] = {}
    for name in ctx.registry.agencies:
        seal = ctx.registry.agencies[name].seal
        if seal is None:
            continue
        keys.append(SM2PublicKey.from_bytes(seal.public_key))
        for record in seal.chains:
            chain = _loaded(record["chain"])
            roots[chain[-1].dump()] = chain[-1]
            middle.update((cert.dump(), cert) for cert in chain[1:-1])
    return Trust(
        seal_keys=tuple(keys), roots=tuple(roots.values()), intermediates=tuple(middle.values())
    )


def request_pem(ctx: Context, agency_name: str | None) -> bytes:
    """A PKCS#10 request for the seal key, to send to a CA."""
    agency = ctx.agency(agency_name)
    request = certificate_request(seal_subject(agency), seal_key(ctx, agency))
    return pem.armor("CERTIFICATE REQUEST", request.dump())


def import_chain(
    ctx: Context, agency_name: str | None, certificate: bytes, chain: bytes | None
) -> dict[str, str]:
    """Take the certificate (and chain) a CA issued for the seal key, after checking it.

    The leaf must certify this seal's key and be allowed to sign documents, the chain
    must end at a self-signed root and every link must verify, all valid now.
    """
    agency = ctx.agency(agency_name)
    assert agency.seal is not None
    try:
        given = load_certificates(certificate)
        rest = load_certificates(chain) if chain else []
        leaf, *intermediates = [*given, *rest]
        if public_key_of(leaf) != SM2PublicKey.from_bytes(agency.seal.public_key):
            raise CertificateError(_("证书的公钥不是本印章的公钥"))
    except CertificateError as error:
        raise Invalid(error.args[0], {"certificate": error.args[0]}) from None
    roots = [cert for cert in intermediates if cert.self_signed != "no"]
    if not roots:
        problem = _("证书链缺少根证书")
        raise Invalid(problem, {"chain": problem})
    problems = check_path(leaf, intermediates, roots, ctx.now())
    if problems:
        raise Invalid(problems[0], {"chain": "; ".join(problems)})
    _record_chain(ctx, agency, _ordered(leaf, intermediates), SOURCE_IMPORTED)
    summary = CertificateSummary.of(leaf).as_dict()
    ctx.audit(
        "seal.certificate.import",
        f"agency:{agency.name}",
        detail={"serial_number": summary["serial_number"], "sm3": summary["sm3"]},
    )
    return summary


def _ordered(
    leaf: x509.Certificate, others: list[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """``leaf`` and its issuers up to the root, in order (the input may be in any order)."""
    chain = [leaf]
    while chain[-1].self_signed == "no":
        chain.append(next(cert for cert in others if same_name(cert.subject, chain[-1].issuer)))
    return tuple(chain)


def chain_pem(ctx: Context, agency_name: str | None) -> bytes:
    """The seal's current chain as PEM, leaf first, root last."""
    return to_pem(current_chain(ctx.agency(agency_name)))


def chains_summary(agency: Agency) -> list[dict[str, Any]]:
    """Every chain the seal has had, newest last, each leaf described."""
    assert agency.seal is not None
    return [
        {
            **CertificateSummary.of(_loaded(record["chain"])[0]).as_dict(),
            "source": record["source"],
            "added_at": record["added_at"],
            "current": number == len(agency.seal.chains),
        }
        for number, record in enumerate(agency.seal.chains, start=1)
    ]
