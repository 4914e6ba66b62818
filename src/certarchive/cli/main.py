"""``certarchive [-c CONFIG] COMMAND`` — the group and its commands."""

from __future__ import annotations

import os
import sys

import click

from certarchive.cli.agency import agency
from certarchive.cli.audit import audit
from certarchive.cli.common import DEFAULT_CONFIG, CliState, emit_json, fail, opened_runtime
from certarchive.cli.importer import import_cases
from certarchive.cli.keys import keys
from certarchive.cli.seal import seal
from certarchive.cli.verify import verify
from certarchive.content.principals import ROLES, SCOPES
from certarchive.services.audit import integrate_logs
from certarchive.services.permissions import SYSTEM
from certarchive.services.setup import add_client, add_user, initialise

pass_state = click.make_pass_decorator(CliState)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    default=lambda: os.environ.get("CERTARCHIVE_CONFIG", DEFAULT_CONFIG),
    show_default="$CERTARCHIVE_CONFIG, else etc/certarchive.ini",
    help="PasteDeploy ini file",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """certarchive: 不动产登记电子证照 — issue, archive, verify and back up e-certificates."""
    ctx.obj = CliState(config)


@cli.command()
@click.option("--demo", type=click.IntRange(0, 100_000), default=0, help="add N demo cases")
@click.option(
    "--demo-logins",
    type=click.Path(dir_okay=False),
    default=None,
    help="with --demo: also create demo staff users and append their logins to this file",
)
@pass_state
def init(state: CliState, demo: int, demo_logins: str | None) -> None:
    """Create databases, registry, agency settings and seal key if absent (idempotent)."""
    from certarchive.services.demo import create_demo_users, load_demo

    with opened_runtime(state, create_keys=True) as runtime:
        created = runtime.run(initialise, SYSTEM, state.settings.agency)
        click.echo(
            "已创建 / created: " + ", ".join(created) if created else "已是最新 / up to date"
        )
        if demo:
            added = load_demo(runtime, demo, progress=sys.stderr.isatty())
            click.echo(f"演示案卷 / demo cases added: {added}")
        if demo and demo_logins:
            logins = create_demo_users(runtime)
            with open(demo_logins, "a", encoding="utf-8", opener=_private) as out:
                out.writelines(f"{name}\t{role}\t{password}\n" for name, role, password in logins)
            click.echo(f"演示账号 / demo logins written to {demo_logins}")
        runtime.run(integrate_logs, SYSTEM)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=6543, show_default=True)
@pass_state
def serve(state: CliState, host: str, port: int) -> None:
    """Run waitress on the configured app."""
    import waitress
    from pyramid.paster import get_app, setup_logging

    state.settings  # noqa: B018  validate the configuration before anything starts
    setup_logging(state.config)
    app = get_app(os.path.abspath(state.config), "main")
    click.echo(f"serving on http://{host}:{port}/")
    waitress.serve(app, host=host, port=port, threads=8)


@cli.group()
def user() -> None:
    """Staff users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agency", default=None, help="limit the user to one agency")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_state
def user_add(
    state: CliState, name: str, role: str, agency: str | None, password_stdin: bool
) -> None:
    """Add a staff user (roles: admin, registrar, archivist, backup_operator, auditor)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with opened_runtime(state) as runtime:
        runtime.run(add_user, SYSTEM, name, role, password, agency)
    click.echo(f"用户已添加 / user added: {name} ({role})")


@cli.group()
def client() -> None:
    """API clients: the upstream registration system, banks, agencies."""


@client.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True)
@click.option("--agency", default=None, help="limit the client to one agency")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
@pass_state
def client_add(
    state: CliState, name: str, scopes: tuple[str, ...], agency: str | None, as_json: bool
) -> None:
    """Add an API client; its key is printed once and stored only as a hash."""
    with opened_runtime(state) as runtime:
        created = runtime.run(add_client, SYSTEM, name, list(scopes), agency)
    if as_json:
        emit_json(created)
    else:
        click.echo(
            f"客户端 / client {name}: {' '.join(scopes)}\nkey (shown once): {created['key']}"
        )


cli.add_command(agency)
cli.add_command(audit)
cli.add_command(keys)
cli.add_command(seal)
cli.add_command(verify)
cli.add_command(import_cases)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
@pass_state
def check(state: CliState, as_json: bool) -> None:
    """Recompute every version and file digest and compare files with the registry."""
    from certarchive.services.integrity import check_registry

    with opened_runtime(state) as runtime:
        report = runtime.run(check_registry, SYSTEM)
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(
            f"{report.certificates} certificates, {report.versions} versions, {report.files} files"
        )
        for problem in report.problems:
            click.echo(f"  ✗ {problem}")
    if not report.ok:
        fail("校验发现差异 / differences found", 1)
