"""Shared inputs for the documents tests: one seal key, one file per kind and stage.

Plain cached functions rather than fixtures, so that every test module gets the very
same objects and the suite renders, signs and revokes each kind once per process.
Also the helpers that run the real command-line tools (poppler, zbar, qpdf, openssl).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
import subprocess
import tempfile
from pathlib import Path

from asn1crypto import cms, x509
from PIL import Image

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents.model import (
    CHINA_TIME,
    KIND_PROOF,
    KIND_RIGHT,
    STATEMENT_PROOF,
    STATEMENT_RIGHT,
    AgencyStamp,
    CertificateDocument,
)
from certarchive.documents.render import render_certificate
from certarchive.documents.signature import sign_pdf
from certarchive.documents.verify import Trust
from certarchive.documents.watermark import stamp_revoked
from certarchive.signing.certificates import (
    CA_PROFILE,
    SEAL_PROFILE,
    build_name,
    issue_certificate,
)
from certarchive.signing.signer import Signer

AGENCY = AgencyStamp(
    province="豫",
    county="潢川县",
    agency_name="潢川县自然资源局",
    seal_name="潢川县自然资源局不动产登记专用章",
    seal_number="4115260012345",
    statement=STATEMENT_RIGHT,
)
SIGNED_AT = datetime.datetime(2026, 11, 21, 10, 30, tzinfo=CHINA_TIME)
REVOKED_AT = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA_TIME)
REVOKED_ON = datetime.date(2026, 12, 1)
CAUSE = "转移登记"
PRIVATE_VALUES = ("411526199001011234", "41152619910202123X", "13800000000", "13900000000")

RIGHT = CertificateDocument(
    kind=KIND_RIGHT,
    serial="豫(2026)潢川县不动产权第0000123号",
    licence_id="1141152600000000XY-0000123-2026",
    print_number="41008862451",
    issued_at=datetime.datetime(2026, 11, 21, 10, 30, tzinfo=CHINA_TIME),
    data={
        "holders": [
            {
                "name": "张三",
                "id_type": "resident_id",
                "id_number": PRIVATE_VALUES[0],
                "phone": PRIVATE_VALUES[2],
                "share": "1/2",
            },
            {
                "name": "李四",
                "id_type": "resident_id",
                "id_number": PRIVATE_VALUES[1],
                "phone": PRIVATE_VALUES[3],
                "share": "1/2",
            },
        ],
        "co_ownership": "按份共有",
        "location": "潢川县春申街道跃进路88号金色家园3号楼2单元1502室",
        "unit_number": "411526001001GB00123F00030015",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/商品房",
        "use": "城镇住宅用地/住宅",
        "area": "共有宗地面积2520.38㎡/房屋建筑面积125.87㎡",
        "term": "国有建设用地使用权 2010年01月01日起2080年12月31日止",
        "other_status": "专有建筑面积108.45㎡，分摊建筑面积17.42㎡；房屋结构：钢筋混凝土结构；"
        "房屋总层数18层，所在层15层。",
        "notes": "本证书记载的房屋系商品房。",
    },
    verify_url="https://bdc.example.gov.cn/v/3q2-7wEjRk6M1xYb0aPz_A",
    version=1,
    record_digest="66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    agency=AGENCY,
)

PROOF = CertificateDocument(
    kind=KIND_PROOF,
    serial="豫(2026)潢川县不动产证明第0000045号",
    licence_id="1141152600000000XY-0000045-2026",
    print_number="41008862452",
    issued_at=datetime.datetime(2026, 11, 21, 10, 30, tzinfo=CHINA_TIME),
    data={
        "proved_right": "抵押权",
        "holders": [
            {
                "name": "中国工商银行股份有限公司潢川支行",
                "id_type": "credit_code",
                "id_number": "91411526MA9XXXXX1A",
            }
        ],
        "obligors": [{"name": "张三", "id_type": "resident_id", "id_number": PRIVATE_VALUES[0]}],
        "location": "潢川县春申街道跃进路88号金色家园3号楼2单元1502室",
        "unit_number": "411526001001GB00123F00030015",
        "other": "抵押方式：一般抵押；担保债权数额：80万元；"
        "债务履行期限：2026年11月20日起2046年11月19日止",
        "notes": "本证明依据抵押合同HC-2026-0088办理。",
    },
    verify_url="https://bdc.example.gov.cn/v/Zx9_kP0qTn4wLm2sVb7yRg",
    version=1,
    record_digest="0c3ce2b4c4f0e3c2a6df5a87e4b1d5f7f7aa6c3f2e1f0a9b8c7d6e5f4a3b2c1d",
    agency=dataclasses.replace(AGENCY, statement=STATEMENT_PROOF),
)

DOCS = {KIND_RIGHT: RIGHT, KIND_PROOF: PROOF}


def document(kind: str, **data_changes: object) -> CertificateDocument:
    """The sample document of ``kind`` with some certificate data replaced."""
    base = DOCS[kind]
    return dataclasses.replace(base, data={**base.data, **data_changes})


@dataclasses.dataclass(frozen=True)
class Pki:
    """A throwaway CA and seal: the root, the seal key and its certificate."""

    ca_key: SM2PrivateKey
    root: x509.Certificate
    seal_key: SM2PrivateKey
    leaf: x509.Certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return (self.leaf, self.root)


ROOT_NAME = build_name({"country_name": "CN", "common_name": "测试根证书 TEST ROOT"})
SEAL_NAME = build_name(
    {"country_name": "CN", "organization_name": AGENCY.agency_name, "common_name": AGENCY.seal_name}
)
VALID_FROM = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
VALID_UNTIL = datetime.datetime(2031, 1, 1, tzinfo=datetime.UTC)


def make_pki(
    *, valid_from: datetime.datetime = VALID_FROM, valid_until: datetime.datetime = VALID_UNTIL
) -> Pki:
    """A new CA and seal whose certificate is valid between the given times."""
    ca_key, key = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    root = issue_certificate(
        subject=ROOT_NAME,
        subject_key=ca_key.public_key,
        issuer=ROOT_NAME,
        issuer_key=ca_key,
        serial_number=1,
        not_before=VALID_FROM,
        not_after=datetime.datetime(2046, 1, 1, tzinfo=datetime.UTC),
        profile=CA_PROFILE,
    )
    leaf = issue_certificate(
        subject=SEAL_NAME,
        subject_key=key.public_key,
        issuer=ROOT_NAME,
        issuer_key=ca_key,
        serial_number=2,
        not_before=valid_from,
        not_after=valid_until,
        profile=SEAL_PROFILE,
    )
    return Pki(ca_key, root, key, leaf)


@functools.cache
def pki() -> Pki:
    return make_pki()


@functools.cache
def other_pki() -> Pki:
    return make_pki()


def seal_key() -> SM2PrivateKey:
    return pki().seal_key


def signer(of: Pki | None = None) -> Signer:
    of = of or pki()
    return Signer(of.seal_key, of.chain, AGENCY.seal_name)


def trust(of: Pki | None = None) -> Trust:
    """What a relying party that trusts ``of``'s root (default: the test CA) relies on."""
    of = of or pki()
    return Trust(seal_keys=(of.seal_key.public_key,), roots=(of.root,))


@functools.cache
def rendered(kind: str) -> bytes:
    return render_certificate(DOCS[kind])


@functools.cache
def signed(kind: str) -> bytes:
    return sign_pdf(rendered(kind), signer(), "颁发", signed_at=SIGNED_AT)


@functools.cache
def revoked(kind: str) -> bytes:
    return stamp_revoked(signed(kind), signer(), REVOKED_ON, CAUSE, signed_at=REVOKED_AT)


def run_tool(args: list[str], pdf: bytes, *, name: str = "file.pdf") -> subprocess.CompletedProcess:
    """Run a command-line tool on ``pdf`` written to a temporary file (``{pdf}`` in args)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(pdf)
        command = [arg.replace("{pdf}", str(path)) for arg in args]
        return subprocess.run(command, capture_output=True, text=True, cwd=folder, check=False)


def pdftotext(pdf: bytes, *options: str) -> str:
    result = run_tool(["pdftotext", *options, "{pdf}", "-"], pdf)
    assert result.returncode == 0, result.stderr
    return result.stdout


def page_image(pdf: bytes, page: int, dpi: int) -> Image.Image:
    """One page rasterised by ``pdftoppm``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(dpi),
                "-png",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(path),
                str(Path(folder) / "page"),
            ],
            check=True,
        )
        with Image.open(Path(folder) / "page.png") as image:
            return image.convert("RGB")


def decode_qr(image: Image.Image) -> list[str]:
    """What ``zbarimg`` reads in ``image`` (one entry per symbol)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.png"
        image.save(path)
        result = subprocess.run(
            ["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True, check=False
        )
    return result.stdout.split()


def openssl_verify(
    folder: Path, public_pem: bytes, data: bytes, der: bytes
) -> subprocess.CompletedProcess:
    """``openssl pkeyutl`` verifying an SM2 signature with the default signer ID."""
    (folder / "seal.pem").write_bytes(public_pem)
    (folder / "data.bin").write_bytes(data)
    (folder / "sig.der").write_bytes(der)
    return subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-rawin",
            "-digest",
            "sm3",
            "-pubin",
            "-inkey",
            "seal.pem",
            "-pkeyopt",
            "distid:1234567812345678",
            "-sigfile",
            "sig.der",
            "-in",
            "data.bin",
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )


def signed_parts(pdf: bytes, byte_range: tuple[int, int, int, int]) -> tuple[bytes, bytes]:
    """(covered bytes, the CMS DER without its zero padding) for one signature of ``pdf``."""
    _, a, b, c = byte_range
    raw = bytes.fromhex(pdf[a + 1 : b - 1].decode())
    length = cms.ContentInfo.load(raw, strict=False).dump()
    return pdf[:a] + pdf[b : b + c], raw[: len(length)]


def cms_signature(der: bytes) -> tuple[bytes, bytes, bytes, x509.Certificate]:
    """(signed attributes as the SET they are signed as, SM2 signature DER, messageDigest,
    signer certificate), read with asn1crypto alone."""
    signed_data = cms.ContentInfo.load(der)["content"]
    info = signed_data["signer_infos"][0]
    attributes = info["signed_attrs"]
    digest = next(
        a["values"][0].native for a in attributes if a["type"].dotted == "1.2.840.113549.1.9.4"
    )
    serial = info["sid"].chosen["serial_number"].native
    certificate = next(
        c.chosen for c in signed_data["certificates"] if c.chosen.serial_number == serial
    )
    return b"\x31" + attributes.dump()[1:], info["signature"].native, digest, certificate


def squeeze(text: str) -> str:
    """Text without any whitespace: wrapped lines and layout gaps do not matter."""
    return re.sub(r"\s+", "", text)
