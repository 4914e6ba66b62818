"""``certarchive agency …``: the counties one registry serves (a province may host many)."""

from __future__ import annotations

from typing import Any

import click

from certarchive.cli.common import CliState, emit_json, fail, opened_runtime
from certarchive.config import PREFIX, ConfigError, agency_config
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.permissions import SYSTEM
from certarchive.services.setup import add_agency

pass_state = click.make_pass_decorator(CliState)


def agencies(ctx: Context) -> list[dict[str, Any]]:
    return [
        {"name": a.name, **a.settings, "seal": a.seal.number if a.seal else None}
        for a in ctx.visible_agencies()
    ]


@click.group()
def agency() -> None:
    """Registration agencies (counties), each with its own seal and serials."""


@agency.command("add")
@click.argument("name")
@click.option("--province", required=True, help="province abbreviation, e.g. 豫")
@click.option("--county", required=True, help="county as printed in serials, e.g. 光山县")
@click.option("--county-code", required=True, help="6-digit administrative division code")
@click.option("--agency-name", required=True)
@click.option("--seal-name", required=True)
@click.option("--seal-number", required=True)
@click.option("--serial-width", default="7", show_default=True)
@click.option("--credit-code", default=None, help="the agency's unified social credit code")
@pass_state
def add(state: CliState, name: str, **options: str | None) -> None:
    """Add an agency with a new seal key; its serials start at 1."""
    raw = {f"{PREFIX}agency.name": name}
    raw.update({f"{PREFIX}agency.{key}": value for key, value in options.items() if value})
    try:
        config = agency_config(raw)
    except ConfigError as exc:
        fail(_("参数错误（${exc}）", mapping={"exc": exc}), 2)
    with opened_runtime(state) as runtime:
        created = runtime.run(add_agency, SYSTEM, config)
    click.echo(_("已创建（${created_join}）", mapping={"created_join": ", ".join(created)}))


@agency.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def list_agencies(state: CliState, as_json: bool) -> None:
    """The agencies with their settings and seal numbers."""
    with opened_runtime(state) as runtime:
        found = runtime.run(agencies, SYSTEM)
    if as_json:
        emit_json(found)
    else:
        for each in found:
            click.echo(
                f"{each['name']}\t{each['county_code']}\t{each['agency_name']}\t{each['seal']}"
            )
