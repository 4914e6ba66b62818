"""``backup restore``: replay a snapshot chain into new FileStorage files, check, install.

Order of work, so that a wrong key or a damaged chain writes nothing into DIR:

1. check the chain of manifests (:func:`.verify.check_chain`) and that every chunk file
   of the snapshots needed is present with its listed length — no data decrypted yet;
2. replay the base full snapshot and the incrementals after it, in a staging folder
   beside DIR, through the storage restore API (``restore`` / ``restoreBlob``, as
   ``ZODB.blob.copyTransactionsFromTo`` does), each chunk's SM3 and GCM tag checked as it
   is read and each stream's counts compared with its manifest;
3. reopen the new files and count again, per snapshot range, what is on disk against the
   signed manifests; open the registry and take its census (every certificate's versions
   and file blobs readable, both logs replayed; with the data keys, every version and file
   decrypted and checked against its SM3);
4. only then move the files into DIR.  Any fault on the way removes the staging folder.

DIR gets the layout of ``etc/certarchive.ini``: ``Data.fs`` + ``blobs/``, ``Audit.fs``,
``Sharing.fs`` (and ``audit-blobs/`` / ``sharing-blobs/`` if those hold blobs).  Key
files are never in a snapshot: to run the restored registry, copy the data keys into
``DIR/keys``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import zc.lockfile
from ZODB import DB
from ZODB.blob import is_blob_record
from ZODB.Connection import TransactionMetaData
from ZODB.FileStorage import FileStorage
from ZODB.POSException import POSKeyError

from certarchive.backup.census import Census, take_census
from certarchive.backup.chunks import ChunkFault, read_chunks
from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import Manifest
from certarchive.backup.repository import Repository
from certarchive.backup.stream import Counts, StreamError, decode
from certarchive.backup.verify import Fault, check_chain, count_faults, stream_aad
from certarchive.config import DATABASE_NAMES
from certarchive.crypto.keyring import Keyring
from certarchive.i18n import _

LAYOUT = {
    "main": ("Data.fs", "blobs"),
    "audit": ("Audit.fs", "audit-blobs"),
    "sharing": ("Sharing.fs", "sharing-blobs"),
}
_FILE_STORAGE_SUFFIXES = ("", ".index", ".lock", ".tmp", ".old")

Progress = Callable[[str, int], None]


class RestoreRefused(Exception):
    """The request itself is refused (non-empty DIR, unknown snapshot); nothing was written."""


class RestoreFailed(Exception):
    """The snapshot chain or the restored copy failed a check; nothing was installed."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        super().__init__("; ".join(str(fault) for fault in faults))
        self.faults = list(faults)


@dataclass
class RestoreReport:
    snapshot: str
    target: str
    replayed: list[str]
    databases: dict[str, dict[str, Any]] = field(default_factory=dict)
    census: Census = field(default_factory=Census)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "census": asdict(self.census)}


# --- choosing the snapshots ------------------------------------------------------------


def select(manifests: Sequence[Manifest], snapshot: str | None) -> list[Manifest]:
    """The base full snapshot and the incrementals up to ``snapshot`` (default: newest).

    ``snapshot`` is an id or a sequence number.
    """
    if not manifests:
        raise RestoreRefused(_("仓库中没有快照"))
    end = len(manifests)
    if snapshot is not None:
        matches = [
            position
            for position, m in enumerate(manifests, start=1)
            if snapshot in (m.snapshot, str(m.sequence), m.path.stem)
        ]
        if not matches:
            raise RestoreRefused(_("没有快照（${snapshot}）", mapping={"snapshot": snapshot}))
        end = matches[0]
    start = max((i for i in range(end) if manifests[i].kind == "full"), default=None)
    if start is None:
        raise RestoreRefused(_("没有全量快照（${snapshot}）", mapping={"snapshot": snapshot}))
    return list(manifests[start:end])


def _missing_chunk_faults(repository: Repository, segment: Sequence[Manifest]) -> list[Fault]:
    """Chunk files absent or of the wrong length: cheap, and checked before any writing."""
    faults = []
    for manifest in segment:
        for name, entry in manifest.databases.items():
            for index, (digest, size) in enumerate(entry["chunks"]):
                path = repository.chunk_path(digest)
                try:
                    actual = path.stat().st_size
                except FileNotFoundError:
                    faults.append(
                        Fault(
                            str(path),
                            "missing",
                            _("${name} #${index}: 缺失", mapping={"name": name, "index": index}),
                        )
                    )
                    continue
                if actual != size:
                    kind = "truncated" if actual < size else "extended"
                    message = f"{name} #{index}: {actual} of {size} bytes"
                    faults.append(Fault(str(path), kind, message, manifest.sequence))
    return faults


# --- replaying -------------------------------------------------------------------------


class _StorageSink:
    """Delivers a decoded stream into a FileStorage through its restore API."""

    def __init__(self, storage: FileStorage) -> None:
        self._storage = storage
        self._txn: TransactionMetaData | None = None
        self._tid = b""

    def begin(self, tid: bytes, status: str, user: bytes, description: bytes, ext: bytes) -> None:
        self._txn, self._tid = TransactionMetaData(user, description, ext), tid
        self._storage.tpc_begin(self._txn, tid, status)

    def blob_file(self) -> tuple[BinaryIO, str | None]:
        descriptor, path = tempfile.mkstemp(dir=self._storage.temporaryDirectory())
        return os.fdopen(descriptor, "wb"), path

    def record(
        self, oid: bytes, data: bytes | None, data_txn: bytes | None, blob: str | None
    ) -> None:
        if blob is not None:
            self._storage.restoreBlob(oid, self._tid, data, blob, data_txn, self._txn)
        else:
            self._storage.restore(oid, self._tid, data, "", data_txn, self._txn)

    def end(self) -> None:
        self._storage.tpc_vote(self._txn)
        self._storage.tpc_finish(self._txn)


def _open_file_storage(folder: Path, name: str, *, read_only: bool, blobs: bool) -> FileStorage:
    file_name, blob_name = LAYOUT[name]
    return FileStorage(
        str(folder / file_name),
        create=not read_only,
        read_only=read_only,
        blob_dir=str(folder / blob_name) if blobs else None,
    )


def _open_restored(folder: Path, name: str) -> FileStorage:
    """A restored database, read-only, with its blob folder if it has one."""
    return _open_file_storage(
        folder, name, read_only=True, blobs=(folder / LAYOUT[name][1]).is_dir()
    )


def _stream(
    repository: Repository,
    key: BackupKey,
    manifest: Manifest,
    name: str,
    progress: Progress | None,
) -> Iterator[bytes]:
    chunks = manifest.databases[name]["chunks"]
    for data in read_chunks(repository, key, stream_aad(manifest, name), chunks):
        if progress is not None:
            progress(name, len(data))
        yield data


def _replay(
    repository: Repository,
    key: BackupKey,
    segment: Sequence[Manifest],
    staging: Path,
    progress: Progress | None,
) -> None:
    for name in DATABASE_NAMES:
        # A blob folder only where there are blobs, as in etc/certarchive.ini.
        blobs = any(m.databases[name]["blobs"] for m in segment)
        storage = _open_file_storage(staging, name, read_only=False, blobs=blobs)
        try:
            for manifest in segment:
                stream = _stream(repository, key, manifest, name, progress)
                try:
                    counts = decode(stream, _StorageSink(storage))
                except ChunkFault as fault:
                    where = f"{name} #{fault.index}: {fault.message}"
                    raise RestoreFailed([Fault(str(fault.path), fault.kind, where)]) from None
                except StreamError as error:
                    where = f"{manifest.path} ({name})"
                    raise RestoreFailed([Fault(where, "stream", str(error))]) from None
                problems = count_faults(manifest.databases[name], counts)
                if problems:
                    where = f"{manifest.path} ({name})"
                    raise RestoreFailed([Fault(where, "counts", p) for p in problems])
        finally:
            storage.close()


# --- checking the copy -----------------------------------------------------------------


def _recount(folder: Path, name: str, segment: Sequence[Manifest]) -> list[Fault]:
    """Read the new file back and compare each snapshot's range with its manifest."""
    ranges = [(m, Counts()) for m in segment]
    ends = [m.databases[name]["last_tid"] for m in segment]
    storage = _open_restored(folder, name)
    try:
        position = 0
        for txn in storage.iterator():
            while position < len(ends) and txn.tid.hex() > ends[position]:
                position += 1
            if position == len(ends):
                return [Fault(str(folder), "counts", f"{name}: a transaction past the snapshot")]
            counts = ranges[position][1]
            counts.transaction(txn.tid)
            for record in txn:
                counts.record(record.oid)
                if is_blob_record(record.data):
                    try:
                        size = os.path.getsize(storage.loadBlob(record.oid, record.tid))
                    except (POSKeyError, OSError):
                        continue
                    counts.blobs += 1
                    counts.blob_bytes += size
    finally:
        storage.close()
    return [
        Fault(f"{folder / LAYOUT[name][0]}", "counts", f"{m.snapshot} {name}: {problem}")
        for m, counts in ranges
        for problem in count_faults(m.databases[name], counts)
    ]


@contextlib.contextmanager
def open_layout(folder: Path) -> Iterator[dict[str, Any]]:
    """Read-only connections to the three databases of a restored folder."""
    dbs = []
    try:
        connections = {}
        for name in DATABASE_NAMES:
            db = DB(_open_restored(folder, name))
            dbs.append(db)
            connections[name] = db.open()
        yield connections
    finally:
        for db in dbs:
            db.close()


def check_copy(folder: Path, segment: Sequence[Manifest], data_keys: Keyring | None) -> Census:
    """Step 3: counts on disk, then the census; RestoreFailed naming every problem."""
    faults = [fault for name in DATABASE_NAMES for fault in _recount(folder, name, segment)]
    if faults:
        raise RestoreFailed(faults)
    with open_layout(folder) as connections:
        census = take_census(connections, data_keys, replay=True)
    if census.problems:
        raise RestoreFailed([Fault(str(folder), "census", p) for p in census.problems])
    return census


# --- installing ------------------------------------------------------------------------


def _refuse_busy(target: Path) -> contextlib.ExitStack:
    """Take every FileStorage lock in ``target``, refusing while a server holds one."""
    stack = contextlib.ExitStack()
    for file_name, _kind in LAYOUT.values():
        if (target / file_name).exists():
            try:
                lock = zc.lockfile.LockFile(str(target / f"{file_name}.lock"))
            except zc.lockfile.LockError:
                stack.close()
                raise RestoreRefused(
                    _(
                        "${target_file_name}: 正在使用",
                        mapping={"target_file_name": target / file_name},
                    )
                ) from None
            stack.callback(lock.close)
    return stack


def _install(staging: Path, target: Path) -> None:
    """Move the checked files into ``target``, replacing what they replace."""
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _refuse_busy(target):
        for file_name, blob_name in LAYOUT.values():
            for suffix in _FILE_STORAGE_SUFFIXES:
                if suffix != ".lock":
                    (target / f"{file_name}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(target / blob_name, ignore_errors=True)
            for suffix in ("", ".index"):
                staged = staging / f"{file_name}{suffix}"
                if staged.exists():
                    os.replace(staged, target / staged.name)
            if (staging / blob_name).is_dir():
                os.replace(staging / blob_name, target / blob_name)
    directory = os.open(target, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def restore_snapshot(
    path: Path,
    key: BackupKey,
    target: Path,
    force: bool = False,
    snapshot: str | None = None,
    data_keys: Keyring | None = None,
    progress: Progress | None = None,
) -> RestoreReport:
    """Restore ``snapshot`` (default: newest) of the repository at ``path`` into ``target``."""
    repository = Repository(path)
    chain = check_chain(repository, key)
    segment = select(chain.manifests, snapshot)
    faults = chain.faults_up_to(chain.manifests.index(segment[-1]) + 1)
    if faults:
        raise RestoreFailed(faults)
    target = Path(target)
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise RestoreRefused(_("${target}: 目录非空", mapping={"target": target}))
        with _refuse_busy(target):  # now, not only after the whole replay
            pass
    faults = _missing_chunk_faults(repository, segment)
    if faults:
        raise RestoreFailed(faults)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.restoring-{secrets.token_hex(4)}"
    staging.mkdir(mode=0o700)
    try:
        _replay(repository, key, segment, staging, progress)
        census = check_copy(staging, segment, data_keys)
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    newest = segment[-1]
    return RestoreReport(
        snapshot=newest.snapshot,
        target=str(target),
        replayed=[m.snapshot for m in segment],
        databases={
            name: {
                "last_tid": newest.databases[name]["last_tid"],
                "transactions": sum(m.databases[name]["transactions"] for m in segment),
                "records": sum(m.databases[name]["records"] for m in segment),
                "blobs": sum(m.databases[name]["blobs"] for m in segment),
            }
            for name in DATABASE_NAMES
        },
        census=census,
    )
