"""Shared fixtures: a real registry on FileStorage in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from certarchive.config import Settings, load_settings
from certarchive.services.permissions import SYSTEM, client_actor, staff_actor
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise

SHARED = Path(__file__).resolve().parents[2] / "shared"
UPSTREAM = client_actor("upstream", ("cases:write",))
REGISTRAR = staff_actor("li.registrar", "registrar")
ARCHIVIST = staff_actor("wang.archivist", "archivist")


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
