"""``certarchive verify FILE.pdf``: check a certificate file (H-5.1.2, H-5.2.6).

With ``--public-key`` it works fully offline: the file and the seal's public key are
all it needs.  Otherwise it reads the configured registry too and reports the
certificate's status and whether the file is the one the registry stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.crypto.sm import SM2PublicKey, sm3_hex
from certarchive.documents.verify import VerificationReport, verify_pdf
from certarchive.services.permissions import SYSTEM
from certarchive.services.verification import verify_file

pass_state = click.make_pass_decorator(CliState)
MAX_FILE = 20 * 1024 * 1024


def offline_result(pdf: bytes, key: SM2PublicKey) -> dict[str, Any]:
    report: VerificationReport = verify_pdf(pdf, key)
    revoked = report.revoked
    return {
        # A broken signature decides: a stamp in a tampered file proves nothing.
        "result": "invalid" if not report.valid else "revoked" if revoked else "valid",
        "file_sm3": sm3_hex(pdf),
        "signer_fingerprint": key.fingerprint(),
        "signatures": [
            {"signer": s.signer_name, "reason": s.reason, "intact": s.intact}
            for s in report.signatures
        ],
        "revocation_stamp": (
            {"revoked_on": revoked.revoked_on.isoformat(), "cause": revoked.cause}
            if revoked
            else None
        ),
        "metadata": report.metadata,
        "problems": report.problems,
    }


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    help="the seal's public key (PEM): verify offline, without the registry",
)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def verify(state: CliState, file: str, public_key: str | None, as_json: bool) -> None:
    """Verify a certificate file; exit 0 when valid, 1 when not."""
    path = Path(file)
    if path.stat().st_size > MAX_FILE:
        fail(f"文件过大 / file larger than {MAX_FILE // 2**20} MiB", 2)
    pdf = path.read_bytes()
    if public_key:
        try:
            key = SM2PublicKey.from_pem(Path(public_key).read_bytes())
        except ValueError:
            fail("公钥文件无效 / not an SM2 public key PEM", 2)
        result = offline_result(pdf, key)
    else:
        with opened_runtime(state) as runtime:
            result = runtime.run(verify_file, SYSTEM, pdf)
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{path.name}: {result['result']}  (SM3 {result['file_sm3']})")
        for line in result.get("summary", []) + result["problems"]:
            click.echo(f"  {line}")
    if result["result"] != "valid":
        raise SystemExit(1)
