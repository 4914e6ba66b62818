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
from certarchive.services.errors import AgencyRequired, ServiceError
from certarchive.services.runtime import Runtime

DEFAULT_CONFIG = "etc/certarchive.ini"

IN_USE = (
    "数据库文件正被另一进程使用 / the database files are in use by another process "
    "(a running server?): stop it first, or serve them through ZEO or RelStorage"
)


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
        fail(f"配置文件不存在 / configuration file not found: {config}", 2)
    try:
        return load_settings(get_appsettings(str(path.resolve()), name="main"))
    except ConfigError as exc:
        fail(f"配置错误 / configuration error: {exc}", 2)
    except LookupError as exc:
        fail(f"配置错误 / configuration error: {exc}", 2)
    raise AssertionError("unreachable")


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@contextmanager
def opened_runtime(state: CliState, create_keys: bool = False) -> Iterator[Runtime]:
    """The runtime, with keyring and configuration faults mapped to exit 2."""
    try:
        runtime = Runtime.open(state.settings, create_keys=create_keys)
    except KeyringError as exc:
        fail(f"密钥错误 / key error: {exc}", 2)
    except ConfigError as exc:
        fail(f"配置错误 / configuration error: {exc}", 2)
    except LockError:
        fail(IN_USE, 2)
    if not create_keys:  # init evolves; every other command needs a current registry
        try:
            runtime.require_current_schema()
        except RegistryOutdated as exc:
            runtime.close()
            fail(str(exc), 2)
    try:
        yield runtime
    except AgencyRequired as exc:  # a usage error: the --agency option is missing
        fail(exc.message, 2)
    except ServiceError as exc:
        detail = "".join(f"\n  {field}: {problem}" for field, problem in exc.fields.items())
        fail(f"{exc.message}{detail}", 1)
    finally:
        runtime.close()


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))
