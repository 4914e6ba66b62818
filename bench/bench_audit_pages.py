"""The auditors' page over a long log (issue #17): one page of entries, filtered or not.

    .venv/bin/python bench/bench_audit_pages.py [--entries 200000] [--repeat 5]

A log of N entries (1 in 100 a ``certificate.revoke``, the rest ``certificate.issue``) is
built in a FileStorage as ``bench_audit.py`` builds it; then :func:`audit_browse.browse`
answers, cold (a fresh connection, nothing cached) and warm, for: no filter (a slice of the
log), an action filter matching 1 % (one pass over the log), and a date range starting
today (the pass stops at the first entry sequenced before it: here none, so the same
pass).  Prints medians.  The service runs with a stand-in for the request's context
(the actor, the log's connection, a no-op audit entry): the reading is the real one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_audit import build_log
from ZODB import DB
from ZODB.FileStorage import FileStorage

from certarchive.services import audit_browse
from certarchive.services.issuance import CHINA
from certarchive.services.permissions import staff_actor


class StandIn:
    """What :func:`audit_browse.browse` asks of a context, over one opened log."""

    def __init__(self, connection: Any) -> None:
        self.actor = staff_actor("bench", "auditor")
        self.conn = SimpleNamespace(get_connection=lambda name: connection)
        self.registry = SimpleNamespace(agencies={}, users={}, clients={})

    def require(self, permission: str) -> None:
        assert permission in self.actor.permissions

    def audit(self, *args: Any, **kwargs: Any) -> None:
        """Browsing is audited in the real context; one queued entry is not measured."""


def timed(db: DB, params: dict[str, str], repeat: int) -> tuple[float, float, int]:
    """Median seconds cold and warm, and the matching count."""
    cold, warm = [], []
    total = 0
    for _ in range(repeat):
        db.cacheMinimize()
        connection = db.open()
        connection.cacheMinimize()
        for into in (cold, warm):
            start = time.perf_counter()
            total = audit_browse.browse(StandIn(connection), params)["total"]
            into.append(time.perf_counter() - start)
        connection.close()
    return statistics.median(cold), statistics.median(warm), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    actions = ("certificate.issue",) * 99 + ("certificate.revoke",)
    today = datetime.now(UTC).astimezone(CHINA).date().isoformat()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Audit.fs"
        built = build_log(path, args.entries, actions)
        db = DB(FileStorage(str(path), read_only=True))
        print(f"log of {args.entries} entries, built in {built:.0f} s")
        for label, params in (
            ("no filter, page 1", {}),
            ("no filter, middle page", {"page": str(args.entries // 100)}),
            ("action = revoke (1 %)", {"action": "certificate.revoke"}),
            ("from today", {"from": today}),
        ):
            cold, warm, total = timed(db, params, args.repeat)
            times = f"cold {cold * 1000:8.1f} ms, warm {warm * 1000:8.1f} ms"
            print(f"{label:24} {total:>8} match: {times}")
        db.close()


if __name__ == "__main__":
    main()
