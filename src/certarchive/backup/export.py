"""``backup export``: one snapshot of main, audit and sharing, taken while the server runs.

All three boundaries (``lastTransaction``) are captured before anything is read, main's
first; each database is then streamed up to its own boundary, and transactions committed
meanwhile are simply left for the next snapshot.  Main first matters for the log outbox:
the sequencer deletes entries from the outbox (main) only after the log (audit, sharing)
holds them, so the later boundaries of the logs can show an entry in both places (the
next sequencing skips the outbox's copy), never in neither.

An incremental snapshot starts after the previous snapshot's boundary, so it holds
exactly the transactions (history-free RelStorage: the object states) written since.
The manifest is signed and published last.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ZODB.utils import p64, u64

from certarchive.backup import seen
from certarchive.backup.chunks import CHUNK_SIZE, ChunkPipeline, ChunkStream, chunk_aad
from certarchive.backup.keys import BackupKey, create_key, load_key
from certarchive.backup.manifest import FORMAT, Manifest, ManifestError, sign, snapshot_id
from certarchive.backup.repository import Repository
from certarchive.backup.source import Source, open_sources
from certarchive.backup.stream import StreamWriter
from certarchive.config import DATABASE_NAMES
from certarchive.i18n import _

Progress = Callable[[str, int], None]


class ExportRefused(Exception):
    """The export cannot go on safely; the message says why and what to do."""


def key_for_export(path: Path, repository: Repository) -> tuple[BackupKey, bool]:
    """The backup key at ``path``, created when absent and the repository holds no snapshot
    (the first export of a new installation); ``(key, created)``.  A missing key beside
    existing snapshots is never replaced: a new key could not extend their chain.

    Raises :class:`~certarchive.backup.keys.BackupKeyError` for a missing or unreadable key.
    """
    created = False
    if not path.exists() and not repository.manifest_paths():
        create_key(path)
        created = True
    return load_key(path), created


def _previous(repository: Repository, key: BackupKey) -> Manifest | None:
    """The newest snapshot, which the new one chains to; refused unless this key signed it."""
    try:
        previous = repository.newest()
    except (ManifestError, OSError) as error:
        message = _("最新快照无法读取（${error}）", mapping={"error": error})
        raise ExportRefused(message) from None
    if previous is not None and (previous.key_id != key.key_id or not previous.signature_ok(key)):
        raise ExportRefused(
            _(
                "${path}: 不是本备份密钥签名的（${key_id}）",
                mapping={"path": previous.path, "key_id": key.key_id},
            )
        )
    return previous


def _export_database(
    database: Source,
    writer: ChunkStream,
    after: bytes | None,
    boundary: bytes,
) -> dict[str, Any]:
    stream = StreamWriter(writer.write)
    start = p64(u64(after) + 1) if after is not None else None
    for txn in database.transactions(start, boundary):
        stream.begin(txn.tid, txn.status, txn.user, txn.description, txn.extension_bytes)
        for record in txn:
            try:
                blob = database.open_blob(record)
            except FileNotFoundError:
                stream.counts.missing_blobs += 1
                blob = None
            with blob or contextlib.nullcontext():
                stream.record(record.oid, record.data, record.data_txn, blob)
        stream.end()
    counts = stream.finish()
    chunks = writer.close()
    return {
        "after_tid": after.hex() if after is not None else None,
        "last_tid": boundary.hex(),
        **counts.as_manifest(),
        "stream_bytes": writer.plaintext_bytes,
        "chunks": chunks,
    }


def export_snapshot(
    uris: Mapping[str, str],
    repository: Repository,
    key: BackupKey,
    incremental: bool = False,
    progress: Progress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Manifest:
    """Write one snapshot into ``repository`` and return its manifest.

    ``incremental`` with no earlier snapshot takes a full one (the manifest says which).
    """
    repository.create()
    try:
        with repository.locked():
            return _export_locked(uris, repository, key, incremental, progress, chunk_size)
    except BlockingIOError:
        raise ExportRefused(_("另一导出正在进行")) from None


def _export_locked(
    uris: Mapping[str, str],
    repository: Repository,
    key: BackupKey,
    incremental: bool,
    progress: Progress | None,
    chunk_size: int,
) -> Manifest:
    previous = _previous(repository, key)
    base = previous if incremental else None
    repository_id = previous.repository if previous else secrets.token_hex(8)
    sequence = previous.sequence + 1 if previous else 1
    created = datetime.now(UTC)
    snapshot = snapshot_id(sequence, created)
    databases: dict[str, Any] = {}
    with open_sources(uris) as sources, ChunkPipeline(repository, key) as pipeline:
        # DATABASE_NAMES begins with main: its boundary is taken first (see above)
        boundaries = {name: sources[name].last_transaction() for name in DATABASE_NAMES}
        kinds = {name: type(sources[name].storage).__name__ for name in DATABASE_NAMES}
        for name in DATABASE_NAMES:
            after = bytes.fromhex(base.databases[name]["last_tid"]) if base else None
            if after is not None and boundaries[name] < after:
                raise ExportRefused(_("数据库 ${name} 比上一快照旧", mapping={"name": name}))
            writer = pipeline.stream(
                lambda index, name=name: chunk_aad(repository_id, snapshot, name, index),
                chunk_size,
                (lambda n, name=name: progress(name, n)) if progress else None,
            )
            databases[name] = _export_database(sources[name], writer, after, boundaries[name])
    document = {
        "format": FORMAT,
        "repository": repository_id,
        "snapshot": snapshot,
        "sequence": sequence,
        "kind": "incremental" if base else "full",
        "previous": {"snapshot": previous.snapshot, "sm3": previous.digest} if previous else None,
        "created": created.isoformat(timespec="seconds"),
        "completed": datetime.now(UTC).isoformat(timespec="seconds"),
        "chunk_size": chunk_size,
        "sources": kinds,
        "databases": databases,
    }
    raw = sign(document, key)
    manifest = Manifest(repository.write_manifest(snapshot, raw), raw, document)
    seen.remember(key, manifest)
    return manifest
