"""``certarchive seal …``: the agency's electronic seal and its public key (H-3.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.crypto.sm import SM2PublicKey
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
    }


def existing_seal(state: CliState, agency: str | None) -> dict[str, Any]:
    with opened_runtime(state) as runtime:
        summary = runtime.run(seal_summary, SYSTEM, agency)
    if "public_key_pem" not in summary:
        fail("该机构尚无印章，请先运行 init / the agency has no seal: run init", 1)
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
        click.echo(summary["public_key_pem"], nl=False)


@seal.command("export-public")
@agency_option
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@pass_state
def export_public(state: CliState, agency: str | None, out: str) -> None:
    """Write the seal's public key as PEM (``openssl pkey -pubin`` reads it)."""
    summary = existing_seal(state, agency)
    Path(out).write_text(summary["public_key_pem"], encoding="ascii")
    click.echo(f"已导出 / written: {out}")
