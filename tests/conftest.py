"""Shared fixtures: a real registry on FileStorage in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from certarchive.audit.log import get_log
from certarchive.audit.queue import get_outbox
from certarchive.config import Settings, load_settings
from certarchive.services.permissions import SYSTEM, client_actor, staff_actor
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise

# Speed is measured by benchmarks (bench/), never by a test's clock: on a busy machine
# Hypothesis's default 200 ms deadline fails examples that are merely slow.
hypothesis_settings.register_profile("certarchive", deadline=None)
hypothesis_settings.load_profile("certarchive")

UPSTREAM = client_actor("upstream", ("cases:write",))
REGISTRAR = staff_actor("li.registrar", "registrar")
ARCHIVIST = staff_actor("wang.archivist", "archivist")


def log_entries(ctx: Any, name: str = "audit") -> list[dict[str, Any]]:
    """Every entry of log ``name``: sequenced, then still queued (in the outbox too)."""
    return list(get_log(ctx.conn, name).iter_entries(outbox=get_outbox(ctx.conn)))


def file_settings(var: Path, **overrides: str) -> dict[str, str]:
    """Raw ini settings for a registry on FileStorage under ``var``."""
    raw = {
        "certarchive.zodb.main": f"file://{var}/Data.fs?blobstorage_dir={var}/blobs",
        "certarchive.zodb.audit": f"file://{var}/Audit.fs",
        "certarchive.zodb.sharing": f"file://{var}/Sharing.fs",
        "certarchive.keys_dir": str(var / "keys"),
        "certarchive.public_base_url": "http://127.0.0.1:6543",
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(file_settings(tmp_path / "var"))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime.open(settings, create_keys=True)
    runtime.run(initialise, SYSTEM, settings.agency)
    yield runtime
    runtime.close()


@pytest.fixture
def run(runtime: Runtime) -> Any:
    """``run(fn, *args, actor=...)``: one service call in its own transaction."""

    def call(fn: Any, *args: Any, actor: Any = UPSTREAM, **kwargs: Any) -> Any:
        return runtime.run(fn, actor, *args, **kwargs)

    return call


def write_ini(path: Path, raw: dict[str, str]) -> Path:
    """A PasteDeploy ini file carrying ``raw`` settings, as an operator would write it."""
    lines = ["[app:main]", "use = egg:certarchive"]
    lines += [f"{key} = {value.replace('%', '%%')}" for key, value in raw.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    """An ini file for a registry under tmp_path/var (not yet initialised)."""
    return write_ini(tmp_path / "certarchive.ini", file_settings(tmp_path / "var"))


@pytest.fixture
def cli_run(ini: Path) -> Any:
    """``cli_run("init", "--demo", "2")``: the real command line, in-process."""
    from click.testing import CliRunner

    from certarchive.cli.main import cli

    def invoke(*args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(cli, ["-c", str(ini), *args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def runtime_of(ini: Path) -> Any:
    """``runtime_of()``: a runtime on the registry the ``ini`` file describes (open it
    after the commands that create it have run)."""

    def open_runtime() -> Runtime:
        from pyramid.paster import get_appsettings

        return Runtime.open(load_settings(get_appsettings(str(ini), name="main")))

    return open_runtime
