"""``backup drill``: prove the newest snapshot restores to the registry it was taken from.

The newest snapshot is restored into a temporary folder with every check of
:mod:`.restore`; then the live databases are opened read-only *as of the snapshot's
boundary transactions* (historical connections, ``DB.open(at=tid)``), so writes since the
export do not count as differences, and the two censuses are compared: certificates,
versions, files (down to the SM3 of every stored blob), log sizes and checkpoints, and
the root objects of each database.

History-free RelStorage keeps no older states: there the drill can only compare while
nothing the snapshot holds has changed since, so run it right after an export.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ZODB import DB
from ZODB.POSException import POSError

from certarchive.backup.census import Census, differing_certificates, take_census
from certarchive.backup.keys import BackupKey
from certarchive.backup.restore import Progress, open_layout, restore_snapshot
from certarchive.backup.source import open_sources
from certarchive.config import DATABASE_NAMES
from certarchive.crypto.keyring import Keyring
from certarchive.i18n import _


@dataclass
class DrillReport:
    snapshot: str
    restored: Census
    live: Census | None = None
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.live is not None and not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


@contextlib.contextmanager
def _live_at(uris: Mapping[str, str], boundaries: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Read-only connections to the live databases, each as of its snapshot boundary."""
    with open_sources(uris) as sources:
        dbs = [DB(sources[name].storage) for name in DATABASE_NAMES]
        try:
            yield {
                name: db.open(at=bytes.fromhex(boundaries[name]))
                for name, db in zip(DATABASE_NAMES, dbs, strict=True)
            }
        finally:
            for db in dbs:
                db.close()


def _differences(restored: Census, live: Census) -> list[str]:
    a, b = restored.comparable(), live.comparable()
    return [f"{name}: restored {a[name]!r}, live {b[name]!r}" for name in a if a[name] != b[name]]


def run_drill(
    uris: Mapping[str, str],
    path: Path,
    key: BackupKey,
    data_keys: Keyring | None = None,
    progress: Progress | None = None,
) -> DrillReport:
    """Restore the newest snapshot into a temporary folder and compare it with the live one.

    Raises what :func:`.restore.restore_snapshot` raises when the snapshot does not restore.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="certarchive-drill-") as folder:
        target = Path(folder) / "var"
        restored = restore_snapshot(path, key, target, data_keys=data_keys, progress=progress)
        report = DrillReport(restored.snapshot, restored.census)
        boundaries = {name: restored.databases[name]["last_tid"] for name in DATABASE_NAMES}
        try:
            with _live_at(uris, boundaries) as live:
                report.live = take_census(live)
                report.differences = _differences(restored.census, report.live)
                if report.restored.digest != report.live.digest:
                    with open_layout(target) as copy:
                        report.differences += [
                            f"certificate {difference}"
                            for difference in differing_certificates(
                                copy["main"], live["main"], ("restored copy", "live registry")
                            )
                        ]
        except POSError as error:
            report.differences.append(
                _("在线库自快照后已变且无历史（${name}）", mapping={"name": type(error).__name__})
            )
    report.seconds = round(time.monotonic() - started, 3)
    return report
