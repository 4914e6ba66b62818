"""``certarchive keys …``: rotate data keys, re-wrap them under a new key-encryption key."""

from __future__ import annotations

import sys

import click

from certarchive.cli.common import CliState, fail
from certarchive.crypto.keyring import BLIND_INDEX, Keyring, KeyringError
from certarchive.i18n import _, bilingual
from certarchive.services.runtime import keyring_passphrase

pass_state = click.make_pass_decorator(CliState)


def _open(state: CliState) -> Keyring:
    try:
        return Keyring.open(state.settings.keys_dir, keyring_passphrase())
    except KeyringError as exc:
        fail(_("密钥错误（${exc}）", mapping={"exc": exc}), 2)
    raise AssertionError("unreachable")


@click.group()
def keys() -> None:
    """Data keys and the key-encryption key (H-5.2.7)."""


@keys.command()
@click.option("--purpose", "purposes", multiple=True, help="only these purposes (default: all)")
@pass_state
def rotate(state: CliState, purposes: tuple[str, ...]) -> None:
    """Add a new current data key per purpose; old ciphertexts stay readable.

    Running servers take the new keys up when they first meet a ciphertext made with them.
    The blind-index key is not rotated here: every holder index value depends on it.
    """
    if BLIND_INDEX in purposes:
        fail(_("盲索引密钥不可在此轮换"), 2)
    keyring = _open(state)
    try:
        created = keyring.rotate(list(purposes) or None)
    except KeyringError as exc:
        fail(_("密钥错误（${exc}）", mapping={"exc": exc}), 2)
    click.echo(_("新密钥（${created_join}）", mapping={"created_join": ", ".join(created)}))


@keys.command()
@click.option(
    "--passphrase-stdin",
    is_flag=True,
    help="protect the keys with a passphrase read from standard input instead of a key file",
)
@pass_state
def rewrap(state: CliState, passphrase_stdin: bool) -> None:
    """Wrap every data key under a new key-encryption key; no ciphertext changes."""
    keyring = _open(state)
    passphrase = sys.stdin.readline().rstrip("\n") if passphrase_stdin else None
    if passphrase is not None and len(passphrase) < 12:
        fail(_("口令至少 12 个字符"), 2)
    keyring.rewrap(passphrase)
    click.echo(bilingual(_("已重新封装")))
