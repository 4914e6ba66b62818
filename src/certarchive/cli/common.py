"""What every command shares: loading the configuration, opening the runtime, and
turning refusals into CONTRACT.md's exit codes and messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from zc.lockfile import LockError

from certarchive.config import ConfigError, Settings, load_settings
from certarchive.content.evolve import RegistryOutdated
from certarchive.crypto.keyring import KeyringError
from certarchive.door.client import DoorError, RemoteRuntime, knock
from certarchive.i18n import _, bilingual
from certarchive.services.errors import AgencyRequired, ServiceError
from certarchive.services.runtime import Runner, Runtime, open_keyring

DEFAULT_CONFIG = "etc/certarchive.ini"

IN_USE = _("数据库文件正被另一进程使用，且无运行中的服务器应答（另一条命令？请待其结束）")


class CliState:
    def __init__(self, config: str) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = read_settings(self.config)
        return self._settings


def read_settings(config: str) -> Settings:
    from pyramid.paster import get_appsettings

    path = Path(config)
    if not path.is_file():
        fail(_("配置文件不存在（${config}）", mapping={"config": config}), 2)
    try:
        return load_settings(get_appsettings(str(path.resolve()), name="main"))
    except ConfigError as exc:
        fail(_("配置错误（${exc}）", mapping={"exc": exc}), 2)
    except LookupError as exc:
        fail(_("配置错误（${exc}）", mapping={"exc": exc}), 2)
    raise AssertionError("unreachable")


def fail(message: Any, code: int = 1) -> None:
    """Print the refusal in both languages (:func:`certarchive.i18n.bilingual`) and exit."""
    click.echo(bilingual(message), err=True)
    sys.exit(code)


def _through_the_door(state: CliState, create_keys: bool) -> RemoteRuntime:
    """The running server's runtime, when a server holds the files (see
    :mod:`certarchive.door`); the key files are opened here too, so that a command needs
    the same keys (and passphrase) with a server as without one."""
    keyring = open_keyring(state.settings, create_keys)
    sock = knock(state.settings)
    if sock is None:
        fail(IN_USE, 2)
    return RemoteRuntime(state.settings, keyring, sock)


@contextmanager
def opened_runtime(state: CliState, create_keys: bool = False) -> Iterator[Runner]:
    """The runtime, with keyring and configuration faults mapped to exit 2.  While a
    server holds a FileStorage, a stand-in that runs each transaction in that server."""
    runtime: Runner
    try:
        try:
            runtime = Runtime.open(state.settings, create_keys=create_keys)
        except LockError:
            runtime = _through_the_door(state, create_keys)
    except KeyringError as exc:
        fail(_("密钥错误（${exc}）", mapping={"exc": exc}), 2)
    except ConfigError as exc:
        fail(_("配置错误（${exc}）", mapping={"exc": exc}), 2)
    if not create_keys:  # init evolves; every other command needs a current registry
        try:
            runtime.require_current_schema()
        except RegistryOutdated as exc:
            runtime.close()
            fail(exc, 2)
    try:
        yield runtime
    except AgencyRequired as exc:  # a usage error: the --agency option is missing
        fail(exc.message, 2)
    except ServiceError as exc:
        detail = "".join(
            f"\n  {field}: {bilingual(problem)}" for field, problem in exc.fields.items()
        )
        fail(bilingual(exc.message) + detail, 1)
    except DoorError as exc:
        fail(exc, 2)
    finally:
        runtime.close()


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
