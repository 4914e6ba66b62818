"""Opening the three ZODB databases as one multi-database.

``main`` holds the registry, ``audit`` the audit log and ``sharing`` the sharing-service
log (H-5.2.5).  They are opened with one shared ``databases`` mapping so that a single
transaction can span them and commit them with two-phase commit (the log entries of a
change commit with it, in the main database's outbox or, with ``audit_queue = log``, in
the logs' own databases: see :mod:`certarchive.audit.queue`).  Which storage backs each
database (FileStorage, ZEO, RelStorage) is a zodburi URI in the configuration, never code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import transaction
import zodburi
from ZODB import DB
from ZODB.Connection import Connection

from certarchive.config import DATABASE_NAMES, ConfigError


def _prepare_file_uri(uri: str) -> None:
    """Create the folders a ``file://`` URI needs (var/ is created on demand)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return
    Path(parts.path).parent.mkdir(parents=True, exist_ok=True)
    blob_dir = dict(parse_qsl(parts.query)).get("blobstorage_dir")
    if blob_dir:
        Path(blob_dir).mkdir(parents=True, exist_ok=True, mode=0o700)


def open_databases(uris: Mapping[str, str]) -> DB:
    """Open every configured database; return the ``main`` one (the others hang off it)."""
    databases: dict[str, DB] = {}
    try:
        for name in DATABASE_NAMES:
            uri = uris[name]
            _prepare_file_uri(uri)
            try:
                storage_factory, dbkw = zodburi.resolve_uri(uri)
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"setting certarchive.zodb.{name}: {exc}") from None
            dbkw = {k: v for k, v in dbkw.items() if k != "database_name"}
            DB(storage_factory(), database_name=name, databases=databases, **dbkw)
    except BaseException:  # a later one failed (locked, unreachable): release the others
        for database in databases.values():
            database.close()
        raise
    return databases["main"]


def changes_pending(conn: Connection) -> bool:
    """Whether ``conn`` holds changed or added objects that its transaction will store.

    ZODB offers no public call for this; a Connection has kept them in these two
    attributes since ZODB 3."""
    return bool(conn._registered_objects or conn._added)


def pack_databases(db: DB, days: float) -> dict[str, tuple[int, int]]:
    """Pack every database: drop the revisions older than ``days`` that are no longer
    current, and objects nothing reaches any more, with their blobs.  Returns each
    database's size in bytes, as its storage reports it, before and after.

    Nothing certarchive keeps depends on old revisions (versions and histories are
    records of their own), and no object refers across databases, so each database can
    be collected on its own."""
    sizes = {}
    for name in DATABASE_NAMES:
        database = db.databases[name]
        before = database.getSize()
        database.pack(days=days)
        sizes[name] = (before, database.getSize())
    return sizes


def close_databases(db: DB) -> None:
    for each in set(db.databases.values()):
        each.close()


def open_connection(db: DB, tm: transaction.TransactionManager | None = None) -> Connection:
    """A connection to ``main``; ``conn.get_connection('audit')`` reaches the others."""
    return db.open(transaction_manager=tm) if tm is not None else db.open()
