"""Chunks: a database's plaintext stream cut into pieces, SM4-GCM encrypted, named by SM3.

The AAD binds each chunk to its repository, snapshot, database and position, so a valid
chunk moved anywhere else fails to decrypt.  The SM3 in the signed manifest binds the
chunk to the backup key's SM2 signature, which the symmetric GCM tag alone cannot do, and
names the file, so most damage (a flipped bit, a truncated or swapped file) is recognised
without the key.

Encryption and hashing run on helper threads, a couple of chunks behind the caller that
fills them (or ahead of the caller that parses them).  OpenSSL's SM3 and SM4 (cryptography
releases the GIL for payloads of 2 KiB and more) and file I/O all release the GIL, so on
two cores the stages overlap instead of adding up, and memory stays at a few chunks
whatever the size of the database.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from certarchive.backup.keys import BackupKey
from certarchive.backup.manifest import FORMAT
from certarchive.backup.repository import Repository
from certarchive.crypto.sm import DecryptionError, new_sm3
from certarchive.i18n import _, joined

CHUNK_SIZE = 4 << 20
_DEPTH = 2
_POLL = 0.1
T = TypeVar("T")


def chunk_aad(repository: str, snapshot: str, database: str, index: int) -> bytes:
    return f"{FORMAT}|{repository}|{snapshot}|{database}|{index}".encode()


def sm3_of(data: bytes) -> str:
    hasher = new_sm3()
    hasher.update(data)
    return hasher.hexdigest()


class _Worker:
    """One helper thread fed through a short queue; its first error is re-raised to the feeder."""

    def __init__(self, handle: Callable[[Any], None]) -> None:
        self._handle = handle
        self._queue: queue.Queue[Any] = queue.Queue(_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._handle(item)
                except BaseException as error:  # handed to the feeding thread
                    self._error = error

    def put(self, item: Any) -> None:
        self.check()
        self._queue.put(item)

    def join(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.check()

    def check(self) -> None:
        if self._error is not None:
            raise self._error


class ChunkPipeline:
    """Encrypts, hashes and stores chunks on two helper threads, for every stream of an export.

    The caller fills chunks (:meth:`stream`); one thread encrypts the previous chunk, the
    other hashes and stores the one before.  Use it as a context manager: leaving it waits
    for the threads, and after a failure chunks already written stay unreferenced.
    """

    def __init__(self, repository: Repository, key: BackupKey) -> None:
        self._repository = repository
        self._key = key
        self._store_worker = _Worker(self._store)
        self._encrypt_worker = _Worker(self._encrypt)

    def __enter__(self) -> ChunkPipeline:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        failing = kind is not None
        for worker in (self._encrypt_worker, self._store_worker):
            with contextlib.suppress(Exception) if failing else contextlib.nullcontext():
                worker.join()  # while another failure propagates, that one matters

    def stream(
        self,
        aad: Callable[[int], bytes],
        chunk_size: int = CHUNK_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> ChunkStream:
        return ChunkStream(self, aad, chunk_size, progress)

    def submit(self, item: tuple[Any, ...] | threading.Event) -> None:
        self._encrypt_worker.put(item)

    def check(self) -> None:
        self._encrypt_worker.check()
        self._store_worker.check()

    def _encrypt(self, item: tuple[Any, ...] | threading.Event) -> None:
        if isinstance(item, threading.Event):  # a stream's end: pass it along in order
            self._store_worker.put(item)
            return
        plaintext, aad, stream = item
        self._store_worker.put((self._key.encrypt(plaintext, aad), stream))

    def _store(self, item: tuple[bytes, ChunkStream] | threading.Event) -> None:
        if isinstance(item, threading.Event):
            item.set()
            return
        ciphertext, stream = item
        digest = sm3_of(ciphertext)
        self._repository.write_chunk(digest, ciphertext)
        stream.stored(digest, len(ciphertext))


class ChunkStream:
    """One database's stream: a file-like ``write``, and ``close`` for the chunk list."""

    def __init__(
        self,
        pipeline: ChunkPipeline,
        aad: Callable[[int], bytes],
        chunk_size: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        self._pipeline = pipeline
        self._aad = aad
        self._chunk_size = chunk_size
        self._progress = progress
        self._buffer = bytearray(chunk_size)
        self._filled = 0
        self._sealed = 0
        self.chunks: list[list[Any]] = []
        self.plaintext_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data``; every full ``chunk_size`` of plaintext is sealed at once.

        The chunk is a buffer of its final size filled in place: no buffer grows by
        reallocation, so the heap does not fragment however long the export runs.
        """
        view = memoryview(data)
        while view:
            size = min(self._chunk_size - self._filled, len(view))
            self._buffer[self._filled : self._filled + size] = view[:size]
            self._filled += size
            view = view[size:]
            if self._filled == self._chunk_size:
                self._seal()

    def _seal(self) -> None:
        plaintext = memoryview(self._buffer)[: self._filled]
        self._buffer, self._filled = bytearray(self._chunk_size), 0
        self.plaintext_bytes += len(plaintext)
        self._pipeline.submit((plaintext, self._aad(self._sealed), self))
        self._sealed += 1

    def stored(self, digest: str, size: int) -> None:
        """Called on the storing thread, in order, once a chunk is on disk."""
        self.chunks.append([digest, size])
        if self._progress is not None:
            self._progress(size)

    def close(self) -> list[list[Any]]:
        """Seal the last (possibly short) chunk and wait until all are on disk."""
        if self._filled or not self._sealed:
            self._seal()
        done = threading.Event()
        self._pipeline.submit(done)
        while not done.wait(_POLL):
            self._pipeline.check()
        self._pipeline.check()
        return self.chunks


class ChunkFault(Exception):
    """One chunk is missing or damaged: which file, and what is wrong with it."""

    def __init__(self, index: int, path: Path, kind: str, message: str) -> None:
        super().__init__(joined("${path}: ${message}", path=str(path), message=message))
        self.index = index
        self.path = path
        self.kind = kind
        self.message = message


def _classify(
    index: int, path: Path, digest: str, size: int, known: Mapping[str, str]
) -> tuple[bytes | None, ChunkFault | None]:
    """Read one chunk file and check its length and SM3 against the manifest's entry."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, ChunkFault(index, path, "missing", _("缺失"))
    except OSError as error:
        return None, ChunkFault(
            index, path, "unreadable", _("无法读取（${error}）", mapping={"error": error})
        )
    actual = sm3_of(data)
    if actual == digest and len(data) == size:
        return data, None
    if len(data) < size and actual != digest:
        message = _("被截断（${len_data}，${size}）", mapping={"len_data": len(data), "size": size})
        return None, ChunkFault(index, path, "truncated", message)
    if actual in known:
        message = _("内容为另一分块（${known}）", mapping={"known": known[actual]})
        return None, ChunkFault(index, path, "misplaced", message)
    if len(data) > size:
        message = _("被加长（${len_data}，${size}）", mapping={"len_data": len(data), "size": size})
        return None, ChunkFault(index, path, "extended", message)
    message = _("已被改动")
    return None, ChunkFault(index, path, "altered", message)


def _ahead(items: Iterator[T]) -> Iterator[T]:
    """Produce ``items`` on a helper thread, a couple ahead of the consumer."""
    results: queue.Queue[tuple[bool, Any]] = queue.Queue(_DEPTH)
    stop = threading.Event()

    def offer(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((False, None))
        except BaseException as error:  # handed to the consumer
            offer((False, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # stops an inner _ahead stage too

    threading.Thread(target=run, daemon=True).start()
    try:
        while True:
            ok, item = results.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()


def read_chunks(
    repository: Repository,
    key: BackupKey | None,
    aad: Callable[[int], bytes],
    chunks: Sequence[Sequence[Any]],
    known: Mapping[str, str] | None = None,
    start: int = 0,
) -> Iterator[bytes]:
    """Each chunk's plaintext in order from ``start``; ChunkFault at the first bad one.

    Without a key only names, lengths and SM3 are checked and empty plaintexts yielded
    (what ``verify`` can still say when the key is the wrong one).  ``known`` maps other
    chunks' SM3 to a label, to say which chunk a misplaced file really holds.  Reading and
    hashing run on one helper thread, decryption on another, ahead of the caller.
    """

    def checked() -> Iterator[tuple[int, bytes]]:
        for index in range(start, len(chunks)):
            digest, size = chunks[index]
            path = repository.chunk_path(digest)
            data, fault = _classify(index, path, digest, size, known or {})
            if fault is not None:
                raise fault
            yield index, data or b""

    def decrypted(items: Iterator[tuple[int, bytes]]) -> Iterator[bytes]:
        for index, data in items:
            if key is None:
                yield b""
                continue
            try:
                yield key.decrypt(data, aad(index))
            except DecryptionError:
                path = repository.chunk_path(chunks[index][0])
                message = _("无法解密：数据来自其他快照、数据库或位置，或使用了其他密钥加密")
                raise ChunkFault(index, path, "undecryptable", message) from None

    return _ahead(decrypted(_ahead(checked())))
