"""The server's backup jobs and what it remembers about the repository, in ``main``.

Kept in the database rather than in a process so that every server process (ZEO,
RelStorage) shows the same progress, only one job runs at a time across them (claiming
one is a transaction that conflicts with another claim), and a restarted server can tell
a finished job from one its predecessor was running when it stopped.

Job records are plain dicts, replaced whole on every change (like session records), in an
``IOBTree`` keyed by job number.  Created on first use: registries made before it need
no evolve step, and nothing reads it on the request path of other pages.
"""

from __future__ import annotations

from typing import Any

from BTrees.IOBTree import IOBTree
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from ZODB.Connection import Connection

ROOT_KEY = "certarchive.backups"


class BackupState(Persistent):
    def __init__(self) -> None:
        self.jobs = IOBTree()  # number -> job record
        self.verified = OOBTree()  # snapshot id -> ISO time of the last verify that passed it
        self.drill: dict[str, Any] | None = None  # the last restore drill's result
        self.scheduled_slot: str | None = None  # ISO time of the last schedule slot enqueued

    def next_number(self) -> int:
        return self.jobs.maxKey() + 1 if self.jobs else 1


def backup_state(conn: Connection, create: bool = False) -> BackupState | None:
    root = conn.root()
    state = root.get(ROOT_KEY)
    if state is None and create:
        state = root[ROOT_KEY] = BackupState()
    return state
