"""Shared pieces of the benchmarks: timing, a registry in a folder, sample payments."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from certarchive.config import load_settings
from certarchive.services.permissions import SYSTEM, client_actor
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise

UPSTREAM = client_actor("bench-upstream", ("cases:write",))
PAYMENT = {"receipt_no": "BENCH", "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}


#: In a registry's folder: the storages, when they are not the folder's FileStorage files
#: (a JSON object of ``certarchive.zodb.*`` settings, written by bench/build_imported.py
#: for a registry on RelStorage with PostgreSQL).
STORAGES = "storages.json"


def raw_settings(var: Path) -> dict[str, str]:
    """The settings of the registry in folder ``var``: its keys there, its databases the
    folder's FileStorage files unless the folder names others in :data:`STORAGES`."""
    storages = var / STORAGES
    return {
        "certarchive.zodb.main": f"file://{var}/Data.fs?blobstorage_dir={var}/blobs",
        "certarchive.zodb.audit": f"file://{var}/Audit.fs",
        "certarchive.zodb.sharing": f"file://{var}/Sharing.fs",
        "certarchive.keys_dir": str(var / "keys"),
        "certarchive.public_base_url": "http://127.0.0.1:6543",
        **(json.loads(storages.read_text()) if storages.exists() else {}),
    }


def open_registry(var: Path, **extra: str) -> Runtime:
    runtime = Runtime.open(load_settings({**raw_settings(var), **extra}), create_keys=True)
    runtime.run(initialise, SYSTEM, runtime.settings.agency)
    return runtime


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Seconds per call, ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def percentile_ms(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
