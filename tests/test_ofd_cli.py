"""The command line with OFD files: ``verify`` reads them (with the registry and offline),
and ``seal import --eseal`` takes the SESeal an e-seal system made, refusing in words one
that does not belong to the seal or does not verify."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import core

from certarchive.crypto.sm import SM2PrivateKey
from certarchive.documents.seal_image import seal_png
from certarchive.services.ofd_files import current_ofd, eseal
from certarchive.services.permissions import SYSTEM
from certarchive.services.seals import demo_authority
from certarchive.signing.certificates import (
    SEAL_PROFILE,
    build_name,
    issue_certificate,
    load_certificates,
)
from certarchive.signing.ses import SealDescription, make_seseal

MAKER_NAME = build_name({"country_name": "CN", "common_name": "测试电子印章系统 TEST E-SEAL MAKER"})


@pytest.fixture(name="demo")
def demo_registry(cli_run: Any) -> Any:
    """A registry made by ``init --demo 2``: two issued certificates, the demo CA's seal."""
    assert cli_run("init", "--demo", "2").exit_code == 0
    return cli_run


def _run(runtime_of: Any, fn: Any) -> Any:
    runtime = runtime_of()
    try:
        return runtime.run(fn, SYSTEM)
    finally:
        runtime.close()


def _first(ctx: Any) -> Any:
    return next(iter(ctx.agency().certificates.values()))


def _fresh_ofd(ctx: Any) -> bytes:
    cert = _first(ctx)
    cert.ofd_files = None  # as if issued before OFD: made again, with the current SESeal
    return current_ofd(ctx, cert)


def test_verify_reads_an_ofd_with_the_registry_and_offline(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    package = tmp_path / "certificate.ofd"
    package.write_bytes(_run(runtime_of, lambda ctx: current_ofd(ctx, _first(ctx))))
    online = json.loads(demo("verify", str(package), "--json").output)
    assert online["result"] == "valid", online
    assert online["signature"]["format"] == "ofd" and online["file_format"] == "ofd"
    demo("seal", "certificate", "--out", str(tmp_path / "chain.pem"))
    offline = demo("verify", str(package), "--certificate", str(tmp_path / "chain.pem"))
    assert offline.exit_code == 0, offline.output
    broken = bytearray(package.read_bytes())
    broken[len(broken) // 3] ^= 0xFF
    package.write_bytes(bytes(broken))
    assert demo("verify", str(package)).exit_code == 1


def _maker(runtime_of: Any, *, trusted: bool = True) -> tuple[SM2PrivateKey, Any]:
    """An e-seal system's key and certificate: issued by the registry's CA (trusted), or
    self-signed by a maker nobody configured (not trusted)."""
    key = SM2PrivateKey.generate()
    issuer_key, issuer = _run(runtime_of, demo_authority) if trusted else (key, None)
    now = datetime.datetime.now(datetime.UTC)
    cert = issue_certificate(
        subject=MAKER_NAME,
        subject_key=key.public_key,
        issuer=issuer.subject if trusted else MAKER_NAME,
        issuer_key=issuer_key,
        serial_number=7,
        not_before=now - datetime.timedelta(days=1),
        not_after=now + datetime.timedelta(days=3650),
        profile=SEAL_PROFILE,
    )
    return key, cert


def _seseal(
    seal_cert: Any, number: str, maker: tuple[SM2PrivateKey, Any], *, days: int = 3650
) -> bytes:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    description = SealDescription(
        number=number,
        name="潢川县自然资源局不动产登记专用章",
        picture_png=seal_png("外部印章", "外部", number, None),
        width_mm=42,
        height_mm=42,
        created=now,
        valid_from=now - datetime.timedelta(days=1),
        valid_to=now + datetime.timedelta(days=days),
    )
    return make_seseal(description, [seal_cert], *maker)


def test_an_eseal_from_an_e_seal_system_is_imported_and_carried(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    demo("seal", "certificate", "--out", str(tmp_path / "chain.pem"))
    leaf = load_certificates((tmp_path / "chain.pem").read_bytes())[0]
    number = json.loads(demo("seal", "show", "--json").output)["number"]
    maker = _maker(runtime_of)
    der = _seseal(leaf, number, maker)
    (tmp_path / "seal.eseal").write_bytes(der)
    imported = demo("seal", "import", "--eseal", str(tmp_path / "seal.eseal"))
    assert imported.exit_code == 0, imported.output
    assert "SESeal" in imported.output
    assert _run(runtime_of, lambda ctx: eseal(ctx, ctx.agency())) == der
    package = tmp_path / "after.ofd"
    package.write_bytes(_run(runtime_of, _fresh_ofd))
    result = json.loads(demo("verify", str(package), "--json").output)
    assert result["result"] == "valid", result
    # the SESeal in the new file's SES_Signature is the imported one (read by hand)
    from tests.ofd_support import unzip

    ses = unzip(package.read_bytes())["Doc_0/Signs/Sign_0/SignedValue.dat"]
    to_sign = core.Sequence.load(core.Sequence.load(ses)[0].dump())
    assert to_sign[1].dump() == der


def test_an_eseal_that_is_not_this_seals_is_refused_in_words(
    demo: Any, runtime_of: Any, tmp_path: Path
) -> None:
    demo("seal", "certificate", "--out", str(tmp_path / "chain.pem"))
    leaf, root = load_certificates((tmp_path / "chain.pem").read_bytes())
    number = json.loads(demo("seal", "show", "--json").output)["number"]
    maker = _maker(runtime_of)
    good = _seseal(leaf, number, maker)
    tampered = bytearray(good)
    tampered[-5] ^= 0x01  # inside the maker's signature
    cases = {
        "does not belong to the seal certificate": _seseal(root, number, maker),
        "seal's number": _seseal(leaf, "9999999999999", maker),
        "does not verify": bytes(tampered),
        "cannot be parsed": b"\x30\x03\x02\x01\x04",
        "is not valid today": _seseal(leaf, number, maker, days=-1),
        "seal maker's certificate is not trusted": _seseal(
            leaf, number, _maker(runtime_of, trusted=False)
        ),
    }
    before = _run(runtime_of, lambda ctx: eseal(ctx, ctx.agency()))
    for words, data in cases.items():
        (tmp_path / "seal.eseal").write_bytes(data)
        refused = demo("seal", "import", "--eseal", str(tmp_path / "seal.eseal"))
        assert refused.exit_code == 1, (words, refused.output)
        assert words in refused.output, (words, refused.output)
    assert _run(runtime_of, lambda ctx: eseal(ctx, ctx.agency())) == before
    assert demo("seal", "import").exit_code == 2


def test_check_verifies_the_ofd_files_and_names_a_falsified_one(demo: Any, runtime_of: Any) -> None:
    """``check`` reads every OFD file like the PDFs: digest, seal and metadata (H-5.2.6)."""
    report = json.loads(demo("check", "--json").output)
    assert report["ok"] and report["files"] >= 4  # a PDF and an OFD per certificate

    def falsify(ctx: Any) -> str:
        cert = _first(ctx)
        log = cert.file_log("ofd")
        log._records[1] = dict(log[1], digest="0" * 64)
        return cert.serial

    serial = _run(runtime_of, falsify)
    result = demo("check")
    assert result.exit_code == 1
    assert f"{serial} OFD文件 1" in result.output and "digest differs" in result.output
