"""``certarchive seal …``: the agency's electronic seal, its key and certificates (H-3.1,
H-5.1.1).

``show`` and ``export-public`` describe the seal; ``certificate`` writes its chain for
relying parties; ``request`` and ``import`` are how a registration centre replaces the
demonstration certificate with one from its CA (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.crypto.sm import SM2PublicKey
from certarchive.i18n import _, bilingual
from certarchive.services import ofd_files, seals
from certarchive.services.context import Context
from certarchive.services.permissions import SYSTEM

pass_state = click.make_pass_decorator(CliState)
agency_option = click.option("--agency", default=None, help="agency name (default: the only one)")


def seal_summary(ctx: Context, agency_name: str | None) -> dict[str, Any]:
    agency = ctx.agency(agency_name)
    if agency.seal is None:
        return {"agency": agency.name, "seal": None}
    public_key = SM2PublicKey.from_bytes(agency.seal.public_key)
    return {
        "agency": agency.name,
        "agency_name": agency.settings["agency_name"],
        "name": agency.seal.name,
        "number": agency.seal.number,
        "algorithm": "SM2 (sm2p256v1) with SM3, signer ID 1234567812345678",
        "public_key_pem": public_key.to_pem().decode(),
        "fingerprint_sm3": public_key.fingerprint(),
        "certificates": seals.chains_summary(agency),
    }


def existing_seal(state: CliState, agency: str | None) -> dict[str, Any]:
    with opened_runtime(state) as runtime:
        summary = runtime.run(seal_summary, SYSTEM, agency)
    if "public_key_pem" not in summary:
        fail(_("该机构尚无印章，请先运行 init"), 1)
    return summary


@click.group()
def seal() -> None:
    """The electronic seal: name, number and SM2 public key."""


@seal.command()
@agency_option
@click.option("--json", "as_json", is_flag=True)
@pass_state
def show(state: CliState, agency: str | None, as_json: bool) -> None:
    """Seal name, number and SM2 public key."""
    summary = existing_seal(state, agency)
    if as_json:
        emit_json(summary)
    else:
        click.echo(f"{summary['name']}  No. {summary['number']}")
        click.echo(f"SM3 fingerprint: {summary['fingerprint_sm3']}")
        for cert in summary["certificates"]:
            mark = "*" if cert["current"] else " "
            click.echo(
                f"{mark} {cert['subject']}  serial {cert['serial_number']}  "
                f"{cert['not_before'][:10]}..{cert['not_after'][:10]}  ({cert['source']})"
            )
        click.echo(summary["public_key_pem"], nl=False)


@seal.command("export-public")
@agency_option
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@pass_state
def export_public(state: CliState, agency: str | None, out: str) -> None:
    """Write the seal's public key as PEM (``openssl pkey -pubin`` reads it)."""
    summary = existing_seal(state, agency)
    Path(out).write_text(summary["public_key_pem"], encoding="ascii")
    click.echo(bilingual(_("已导出（${out}）", mapping={"out": out})))


def _export(state: CliState, make: Any, agency: str | None, out: str, what: str) -> None:
    """Write what the service function ``make(ctx, agency)`` returns to ``out``."""
    with opened_runtime(state) as runtime:
        data = runtime.run(make, SYSTEM, agency)
    try:
        Path(out).write_bytes(data)
    except OSError as error:
        fail(
            _("无法写入（${out}，${strerror}）", mapping={"out": out, "strerror": error.strerror}),
            2,
        )
    click.echo(bilingual(_("已导出${what}（${out}）", mapping={"what": what, "out": out})))


@seal.command("certificate")
@agency_option
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@pass_state
def certificate(state: CliState, agency: str | None, out: str) -> None:
    """Write the seal's certificate chain as PEM, leaf first, root last."""
    _export(state, seals.chain_pem, agency, out, "证书链")


@seal.command("request")
@agency_option
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@pass_state
def request(state: CliState, agency: str | None, out: str) -> None:
    """Write a PKCS#10 certificate request signed by the seal key, for a CA."""
    _export(state, seals.request_pem, agency, out, "证书请求")


@seal.command("import")
@agency_option
@click.option(
    "--certificate",
    "certificate_file",
    type=click.Path(exists=True, dir_okay=False),
    help="the seal certificate the CA issued (PEM or DER; may hold the chain)",
)
@click.option(
    "--chain",
    type=click.Path(exists=True, dir_okay=False),
    help="the CA's certificates up to its root (PEM)",
)
@click.option(
    "--eseal",
    "eseal_file",
    type=click.Path(exists=True, dir_okay=False),
    help="the GB/T 38540 electronic seal (SESeal, DER or PEM) the e-seal system issued",
)
@pass_state
def import_certificate(
    state: CliState,
    agency: str | None,
    certificate_file: str | None,
    chain: str | None,
    eseal_file: str | None,
) -> None:
    """Take the certificate a CA issued for the seal key and/or the SESeal an e-seal system
    made for it; refuse either (exit 1) if it does not belong to this seal or does not
    verify.  Given both, the certificate is imported first and the SESeal must list it."""
    if not certificate_file and not eseal_file:
        fail(_("请给出 --certificate 或 --eseal"), 2)
    with opened_runtime(state) as runtime:
        if certificate_file:
            certificate_bytes = Path(certificate_file).read_bytes()
            chain_bytes = Path(chain).read_bytes() if chain else None
            summary = runtime.run(
                seals.import_chain, SYSTEM, agency, certificate_bytes, chain_bytes
            )
            click.echo(
                bilingual(
                    _(
                        "已导入（${summary_subject}，${summary_serial_number}，${summary_not_before}，${summary_not_after}）",
                        mapping={
                            "summary_subject": summary["subject"],
                            "summary_serial_number": summary["serial_number"],
                            "summary_not_before": summary["not_before"][:10],
                            "summary_not_after": summary["not_after"][:10],
                        },
                    )
                )
            )
        if eseal_file:
            data = Path(eseal_file).read_bytes()
            found = runtime.run(ofd_files.import_eseal, SYSTEM, agency, data)
            click.echo(
                bilingual(
                    _(
                        "已导入电子印章（${found_name}，${found_es_id}）",
                        mapping={"found_name": found["name"], "found_es_id": found["es_id"]},
                    )
                )
            )
