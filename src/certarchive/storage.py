"""Opening the three ZODB databases as one multi-database.

``main`` holds the registry, ``audit`` the audit log and ``sharing`` the sharing-service
log (H-5.2.5).  They are opened with one shared ``databases`` mapping so that a single
transaction can span them and commit them with two-phase commit (the log entries of a
change commit with it, in the main database's outbox or, with ``audit_queue = log``, in
the logs' own databases: see :mod:`certarchive.audit.queue`).  Which storage backs each
database (FileStorage, ZEO, RelStorage) is a zodburi URI in the configuration, never code.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import transaction
import zodburi
from ZODB import DB
from ZODB.Connection import Connection

from certarchive.config import DATABASE_NAMES, ConfigError, Settings
from certarchive.i18n import _

#: The process umask of every certarchive process (commands, servers): files and folders
#: it creates are its own user's only.  Data.fs holds every verification token in clear
#: and the logs hold who did what; no other account on the machine may read them.
PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
#: What FileStorage writes beside a ``.fs`` file.
FILE_STORAGE_SUFFIXES = ("", ".index", ".lock", ".tmp", ".old")


def restrict_new_files() -> None:
    """Make everything this process creates from now on private to its user."""
    os.umask(PRIVATE_UMASK)


def _file_path(uri: str) -> tuple[Path, Path | None] | None:
    """The ``.fs`` path and blob folder of a ``file://`` URI (None for other schemes)."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    blob_dir = dict(parse_qsl(parts.query)).get("blobstorage_dir")
    return Path(parts.path), Path(blob_dir) if blob_dir else None


def _prepare_file_uri(uri: str) -> list[Path]:
    """Create the folders a ``file://`` URI needs (var/ is created on demand), private;
    return the storage's files that do not exist yet, to be made private once created."""
    paths = _file_path(uri)
    if paths is None:
        return []
    path, blob_dir = paths
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if blob_dir:
        blob_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    candidates = [Path(f"{path}{suffix}") for suffix in FILE_STORAGE_SUFFIXES]
    return [candidate for candidate in candidates if not candidate.exists()]


def _make_private(created: list[Path]) -> None:
    """Explicit modes for the files a FileStorage just created, whatever the umask of
    the process that opened it (a test, an embedding application)."""
    for path in created:
        if path.exists():
            path.chmod(FILE_MODE)


def loose_modes(settings: Settings) -> list[str]:
    """Warnings naming every data file or folder that other users may read or write:
    the FileStorage files, blob folders, their folder and the keys folder with its files."""
    paths: list[Path] = []
    for uri in settings.databases.values():
        found = _file_path(uri)
        if found is None:
            continue
        path, blob_dir = found
        paths += [path.parent, *(Path(f"{path}{suffix}") for suffix in FILE_STORAGE_SUFFIXES)]
        paths += [blob_dir] if blob_dir else []
    keys_dir = Path(settings.keys_dir)
    paths.append(keys_dir)
    if keys_dir.is_dir():
        paths += sorted(keys_dir.iterdir())
    warnings = []
    for path in dict.fromkeys(paths):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            wanted = DIR_MODE if path.is_dir() else FILE_MODE
            warnings.append(
                _(
                    "${path}: 权限 ${mode} 允许其他用户访问，应为 ${wanted}（${wanted2}）",
                    mapping={
                        "path": path,
                        "mode": format(mode, "04o"),
                        "wanted": format(wanted, "04o"),
                        "wanted2": format(wanted, "o"),
                    },
                )
            )
    return warnings


def open_databases(uris: Mapping[str, str]) -> DB:
    """Open every configured database; return the ``main`` one (the others hang off it)."""
    databases: dict[str, DB] = {}
    try:
        for name in DATABASE_NAMES:
            uri = uris[name]
            created = _prepare_file_uri(uri)
            try:
                storage_factory, dbkw = zodburi.resolve_uri(uri)
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"setting certarchive.zodb.{name}: {exc}") from None
            dbkw = {k: v for k, v in dbkw.items() if k != "database_name"}
            DB(storage_factory(), database_name=name, databases=databases, **dbkw)
            _make_private(created)
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
