"""``certarchive verify FILE``: check a certificate file, PDF or OFD (H-5.1.2, H-5.2.6).

Offline, with ``--certificate CHAIN.pem`` (the seal's chain as ``seal certificate``
writes it: the file must be signed by its leaf's key and chain to its root) or with
``--public-key PEM`` (the seal's key alone: no chain is checked), it opens no database:
the file and what it is given are all it needs, and it says that the certificate's
revocation status was not checked.  Otherwise it reads the configured registry too and
reports the certificate's status and whether the file is the one the registry stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.crypto.sm import SM2PublicKey, sm3_hex
from certarchive.documents.verify import Trust, verify_pdf
from certarchive.i18n import _, bilingual
from certarchive.ofd.verify import is_ofd, verify_ofd
from certarchive.services.permissions import SYSTEM
from certarchive.services.verification import revocation_stamp, signature_facts, signer_lines
from certarchive.services.verification import verify_file as verify_with_registry
from certarchive.signing.certificates import CertificateError, load_certificates, public_key_of

pass_state = click.make_pass_decorator(CliState)
MAX_FILE = 20 * 1024 * 1024
STATUS_NOT_CHECKED = _("未查询登记簿，证照是否已注销未核实")


def offline_result(pdf: bytes, trust: Trust) -> dict[str, Any]:
    report = verify_ofd(pdf, trust) if is_ofd(pdf) else verify_pdf(pdf, trust)
    signature = signature_facts(report)
    return {
        # A broken signature decides: a stamp in a tampered file proves nothing.
        "result": "invalid" if not report.valid else "revoked" if report.revoked else "valid",
        "file_sm3": sm3_hex(pdf),
        "signature": signature,
        "chain_checked": trust.check_chain,
        "revocation_status_checked": False,
        "revocation_stamp": revocation_stamp(report),
        "annotated_copy": (
            {"text": report.shared.text, "valid_until": report.shared.valid_until.isoformat()}
            if report.shared
            else None
        ),
        "metadata": report.metadata,
        "problems": report.problems,
        "summary": [
            *signer_lines(signature),
            *(
                [_("加注件：${text}", mapping={"text": report.shared.text})]
                if report.shared
                else []
            ),
            STATUS_NOT_CHECKED,
        ],
    }


def offline_trust(certificate: str | None, public_key: str | None) -> Trust:
    """What the operator gave: a chain (its leaf's key, chained to its root) or a key."""
    if certificate:
        try:
            chain = load_certificates(Path(certificate).read_bytes())
            key = public_key_of(chain[0])
        except CertificateError as error:
            fail(_("证书文件无效（${error}）", mapping={"error": error}), 2)
        return Trust(
            seal_keys=(key,), roots=(chain[-1],), check_chain=True, intermediates=tuple(chain[1:-1])
        )
    try:
        key = SM2PublicKey.from_pem(Path(str(public_key)).read_bytes())
    except ValueError:
        fail(_("公钥文件无效"), 2)
    return Trust(seal_keys=(key,), check_chain=False)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--certificate",
    type=click.Path(exists=True, dir_okay=False),
    help="the seal's certificate chain (PEM, leaf first): verify offline, without the registry",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="the seal's public key (PEM): verify offline, without the registry or a chain",
)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def verify(
    state: CliState, file: str, certificate: str | None, public_key: str | None, as_json: bool
) -> None:
    """Verify a certificate file; exit 0 when valid, 1 when not."""
    if certificate and public_key:
        fail(_("--certificate 与 --public-key 只能选一个"), 2)
    path = Path(file)
    if path.stat().st_size > MAX_FILE:
        fail(_("文件过大（${max_file}）", mapping={"max_file": MAX_FILE // 2**20}), 2)
    pdf = path.read_bytes()
    if certificate or public_key:
        result = offline_result(pdf, offline_trust(certificate, public_key))
    else:
        with opened_runtime(state) as runtime:
            result = runtime.run(verify_with_registry, SYSTEM, pdf)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{path.name}: {result['result']}  (SM3 {result['file_sm3']})")
        for line in result.get("summary", []) + result["problems"]:
            click.echo(f"  {bilingual(line)}")
    if result["result"] != "valid":
        raise SystemExit(1)
