"""``certarchive user …`` and ``certarchive client …``: who may act, and how."""

from __future__ import annotations

import sys

import click

from certarchive.cli.common import CliState, emit_json, opened_runtime
from certarchive.content.principals import ALL_ROLES, ROLES, SCOPES
from certarchive.i18n import _, bilingual
from certarchive.services.accounts import change_role, disable_user, enable_user, reset_password
from certarchive.services.identity import (
    TOTP_ROLES,
    enroll_totp,
    list_clients,
    list_users,
    revoke_client,
    unlock_user,
)
from certarchive.services.permissions import SYSTEM
from certarchive.services.setup import add_client, add_user

pass_state = click.make_pass_decorator(CliState)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")


@click.group()
def user() -> None:
    """Staff users (admins sign in with a TOTP second factor)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ALL_ROLES), required=True)
@click.option("--agency", default=None, help="limit the user to one agency")
@click.option(
    "--institution",
    default=None,
    help="role institution: the API client (key id or name) whose clerk this is",
)
@click.option(
    "--institution-admin", is_flag=True, help="the clerk adds and disables its institution's clerks"
)
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_state
def user_add(
    state: CliState,
    name: str,
    role: str,
    agency: str | None,
    institution: str | None,
    institution_admin: bool,
    password_stdin: bool,
) -> None:
    """Add a staff user or an institution's clerk; admins and clerks also get a TOTP
    secret, printed once."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with opened_runtime(state) as runtime:
        runtime.run(add_user, SYSTEM, name, role, password, agency, institution, institution_admin)
        totp = runtime.run(enroll_totp, SYSTEM, name) if role in TOTP_ROLES else None
    click.echo(bilingual(_("用户已添加（${name}，${role}）", mapping={"name": name, "role": role})))
    if totp:
        click.echo(f"TOTP (shown once, add it to the authenticator app): {totp['uri']}")


@user.command("totp")
@click.argument("name")
@pass_state
def user_totp(state: CliState, name: str) -> None:
    """Give a user a new TOTP secret (the old one stops working); printed once."""
    with opened_runtime(state) as runtime:
        totp = runtime.run(enroll_totp, SYSTEM, name)
    click.echo(f"TOTP (shown once, add it to the authenticator app): {totp['uri']}")


@user.command("unlock")
@click.argument("name")
@pass_state
def user_unlock(state: CliState, name: str) -> None:
    """Lift the lock that repeated failed logins put on an account."""
    with opened_runtime(state) as runtime:
        runtime.run(unlock_user, SYSTEM, name)
    click.echo(bilingual(_("已解锁（${name}）", mapping={"name": name})))


@user.command("disable")
@click.argument("name")
@click.option("--reason", default="", help="why (goes into the audit entry)")
@pass_state
def user_disable(state: CliState, name: str, reason: str) -> None:
    """Stop a user from signing in; their open sessions end at once."""
    with opened_runtime(state) as runtime:
        runtime.run(disable_user, SYSTEM, name, reason)
    click.echo(bilingual(_("已停用（${name}）", mapping={"name": name})))


@user.command("enable")
@click.argument("name")
@pass_state
def user_enable(state: CliState, name: str) -> None:
    """Let a disabled user sign in again."""
    with opened_runtime(state) as runtime:
        runtime.run(enable_user, SYSTEM, name)
    click.echo(bilingual(_("已启用（${name}）", mapping={"name": name})))


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@pass_state
def user_role(state: CliState, name: str, role: str) -> None:
    """Give a user another role (a new admin's TOTP secret is printed once)."""
    with opened_runtime(state) as runtime:
        totp = runtime.run(change_role, SYSTEM, name, role)
    click.echo(bilingual(_("角色已更改（${name}，${role}）", mapping={"name": name, "role": role})))
    if totp:
        click.echo(f"TOTP (shown once, add it to the authenticator app): {totp['uri']}")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_state
def user_password(state: CliState, name: str, password_stdin: bool) -> None:
    """Set a new password; the user's sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    with opened_runtime(state) as runtime:
        runtime.run(reset_password, SYSTEM, name, password)
    click.echo(bilingual(_("密码已重设（${name}）", mapping={"name": name})))


@user.command("list")
@json_option
@pass_state
def user_list(state: CliState, as_json: bool) -> None:
    """Users with role, agency, lock and TOTP state."""
    with opened_runtime(state) as runtime:
        users = runtime.run(list_users, SYSTEM)
    if as_json:
        emit_json(users)
    else:
        for each in users:
            flags = " locked" if each["locked"] else ""
            click.echo(f"{each['name']}\t{each['role']}\t{each['agency'] or '*'}{flags}")


@click.group()
def client() -> None:
    """API clients: the upstream registration system, banks, agencies."""


@client.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True)
@click.option("--agency", default=None, help="limit the client to one agency")
@json_option
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
            bilingual(
                _(
                    "客户端（${name}，${scopes_join}，${created_key}）",
                    mapping={
                        "name": name,
                        "scopes_join": " ".join(scopes),
                        "created_key": created["key"],
                    },
                )
            )
        )


@client.command("list")
@json_option
@pass_state
def client_list(state: CliState, as_json: bool) -> None:
    """Clients with key id, scopes and whether they are revoked (never their keys)."""
    with opened_runtime(state) as runtime:
        clients = runtime.run(list_clients, SYSTEM)
    if as_json:
        emit_json(clients)
    else:
        for each in clients:
            state_text = "revoked" if each["revoked"] else "active"
            click.echo(
                f"{each['key_id']}\t{each['name']}\t{' '.join(each['scopes'])}\t{state_text}"
            )


@client.command("revoke")
@click.argument("key_id")
@click.option("--reason", default=None, help="why (goes into the audit entry)")
@pass_state
def client_revoke(state: CliState, key_id: str, reason: str | None) -> None:
    """Revoke a client's key: every later call with it is refused."""
    with opened_runtime(state) as runtime:
        runtime.run(revoke_client, SYSTEM, key_id, reason)
    click.echo(bilingual(_("已吊销（${key_id}）", mapping={"key_id": key_id})))
