"""The plaintext stream of one database's transactions, as the storage API yields them.

Encoding is a flat sequence of frames, so it can be written and read front to back in
constant memory and cut into chunks anywhere (a frame may straddle two chunks)::

    "CAS1"                                                      magic, version 1
    "T" tid:8 status:1 len:4 ×3  user description extension    a transaction begins
    "R" oid:8 flags:1 [data_txn:8] [len:4 data] [size:8 blob]   one record
    "E"                                                         the transaction ends
    "Z" transactions:8 records:8 blobs:8 blob_bytes:8           trailer, then nothing

``flags``: 1 data_txn present (an undo back-pointer), 2 the record deletes the object
(no data), 4 a blob follows.  A record carries the pickle exactly as stored; the
registry's personal data and files inside it are data-key ciphertexts, which the backup
key cannot open.  Blob bytes are copied in pieces, never held whole.  Nothing in the stream
carries its own digest: every byte of it is authenticated by its chunk's GCM tag and by
the chunk's SM3 in the signed manifest, and a second hash here would cost a third of the
export's time for no added assurance.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from BTrees.LLBTree import LLTreeSet
from ZODB.utils import u64

MAGIC = b"CAS1"
FLAG_DATA_TXN = 1
FLAG_DELETED = 2
FLAG_BLOB = 4
PIECE = 1 << 20

_TXN = struct.Struct(">8scIII")
_REC = struct.Struct(">8sB")
_LEN = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_TRAILER = struct.Struct(">QQQQ")


class StreamError(Exception):
    """The decrypted stream is not what the encoder writes: a bug or a forged chunk."""


@dataclass
class Counts:
    """What a stream holds; the manifest records it and restore checks the disk against it."""

    transactions: int = 0
    records: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    missing_blobs: int = 0
    first_tid: bytes | None = None
    last_tid: bytes | None = None
    oids: LLTreeSet = field(default_factory=LLTreeSet)  # ~8 bytes per object, in C

    @property
    def objects(self) -> int:
        return len(self.oids)

    def transaction(self, tid: bytes) -> None:
        if self.last_tid is not None and tid <= self.last_tid:
            raise StreamError(f"transaction {tid.hex()} does not follow {self.last_tid.hex()}")
        self.first_tid = self.first_tid or tid
        self.last_tid = tid
        self.transactions += 1

    def record(self, oid: bytes) -> None:
        self.records += 1
        self.oids.insert(u64(oid))

    def trailer(self) -> tuple[int, int, int, int]:
        return (self.transactions, self.records, self.blobs, self.blob_bytes)

    def as_manifest(self) -> dict[str, int | str | None]:
        return {
            "first_tid": self.first_tid.hex() if self.first_tid else None,
            "transactions": self.transactions,
            "records": self.records,
            "objects": self.objects,
            "blobs": self.blobs,
            "blob_bytes": self.blob_bytes,
            "missing_blobs": self.missing_blobs,
        }


class StreamWriter:
    """Encode transactions into ``write`` (a :class:`~.chunks.ChunkStream`'s)."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self.counts = Counts()
        write(MAGIC)

    def begin(self, tid: bytes, status: str, user: bytes, description: bytes, ext: bytes) -> None:
        self.counts.transaction(tid)
        self._write(b"T" + _TXN.pack(tid, status.encode(), len(user), len(description), len(ext)))
        self._write(user + description + ext)

    def record(
        self,
        oid: bytes,
        data: bytes | None,
        data_txn: bytes | None,
        blob: BinaryIO | None = None,
    ) -> None:
        """One record; ``blob`` an open blob file, read here in pieces and hashed."""
        self.counts.record(oid)
        flags = (
            (FLAG_DATA_TXN if data_txn else 0)
            | (FLAG_DELETED if data is None else 0)
            | (FLAG_BLOB if blob is not None else 0)
        )
        header = b"R" + _REC.pack(oid, flags)
        if data_txn:
            header += data_txn
        if data is not None:
            header += _LEN.pack(len(data))
        self._write(header)
        if data:
            self._write(data)
        if blob is not None:
            self._blob(blob)

    def _blob(self, blob: BinaryIO) -> None:
        blob.seek(0, 2)
        size = blob.tell()
        blob.seek(0)
        self._write(_U64.pack(size))
        copied = 0
        while piece := blob.read(PIECE):
            self._write(piece)
            copied += len(piece)
        if copied != size:
            raise OSError(f"blob file {blob.name} changed size while being read")
        self.counts.blobs += 1
        self.counts.blob_bytes += size

    def end(self) -> None:
        self._write(b"E")

    def finish(self) -> Counts:
        self._write(b"Z" + _TRAILER.pack(*self.counts.trailer()))
        return self.counts


class Sink(Protocol):
    """Where :func:`decode` delivers a stream: a storage being restored, or nothing."""

    def begin(self, tid: bytes, status: str, user: bytes, description: bytes, ext: bytes) -> None:
        """A transaction begins."""

    def blob_file(self) -> tuple[BinaryIO, str | None]:
        """A new writable file for the next blob's bytes, and its path (None: discarded)."""

    def record(
        self, oid: bytes, data: bytes | None, data_txn: bytes | None, blob: str | None
    ) -> None:
        """One record; ``blob`` is the path of its complete, closed blob file."""

    def end(self) -> None:
        """The transaction is complete."""


class Discard:
    """A sink that keeps nothing: what ``verify`` decodes into."""

    def begin(self, tid: bytes, status: str, user: bytes, description: bytes, ext: bytes) -> None:
        pass

    def blob_file(self) -> tuple[BinaryIO, str | None]:
        return _NullFile(), None

    def record(
        self, oid: bytes, data: bytes | None, data_txn: bytes | None, blob: str | None
    ) -> None:
        pass

    def end(self) -> None:
        pass


class _NullFile:
    def write(self, data: bytes | memoryview) -> int:
        return len(data)

    def close(self) -> None:
        pass


class _Reader:
    """Exact reads across chunk boundaries, one chunk in memory at a time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._chunk = memoryview(b"")
        self._pos = 0

    def _refill(self) -> bool:
        while self._pos >= len(self._chunk):
            nxt = next(self._chunks, None)
            if nxt is None:
                return False
            self._chunk, self._pos = memoryview(nxt), 0
        return True

    def read(self, n: int) -> bytes:
        end = self._pos + n
        if end <= len(self._chunk):
            self._pos = end
            return bytes(self._chunk[end - n : end])
        parts = []
        self.copy(n, parts.append)
        return b"".join(parts)

    def copy(self, n: int, write: Callable[[memoryview], object]) -> None:
        while n:
            if not self._refill():
                raise StreamError("the stream ends in the middle of a frame")
            piece = self._chunk[self._pos : self._pos + n]
            write(piece)
            self._pos += len(piece)
            n -= len(piece)

    def at_end(self) -> bool:
        return not self._refill()


def _read_blob(reader: _Reader, sink: Sink, counts: Counts) -> str | None:
    (size,) = _U64.unpack(reader.read(_U64.size))
    out, path = sink.blob_file()
    try:
        reader.copy(size, out.write)
    finally:
        out.close()
    counts.blobs += 1
    counts.blob_bytes += size
    return path


def decode(chunks: Iterator[bytes], sink: Sink) -> Counts:
    """Replay a stream into ``sink``; StreamError on anything the encoder would not write."""
    reader = _Reader(chunks)
    counts = Counts()
    if reader.read(len(MAGIC)) != MAGIC:
        raise StreamError("not a certarchive backup stream")
    in_transaction = False
    while True:
        tag = reader.read(1)
        if tag == b"T" and not in_transaction:
            tid, status, *lengths = _TXN.unpack(reader.read(_TXN.size))
            counts.transaction(tid)
            user, description, ext = (reader.read(n) for n in lengths)
            sink.begin(tid, status.decode("ascii"), user, description, ext)
            in_transaction = True
        elif tag == b"R" and in_transaction:
            oid, flags = _REC.unpack(reader.read(_REC.size))
            counts.record(oid)
            data_txn = reader.read(8) if flags & FLAG_DATA_TXN else None
            data = None
            if not flags & FLAG_DELETED:
                data = reader.read(_LEN.unpack(reader.read(_LEN.size))[0])
            blob = _read_blob(reader, sink, counts) if flags & FLAG_BLOB else None
            sink.record(oid, data, data_txn, blob)
        elif tag == b"E" and in_transaction:
            sink.end()
            in_transaction = False
        elif tag == b"Z" and not in_transaction:
            if _TRAILER.unpack(reader.read(_TRAILER.size)) != counts.trailer():
                raise StreamError("the trailer's counts do not match the stream")
            if not reader.at_end():
                raise StreamError("data after the trailer")
            return counts
        else:
            raise StreamError(f"unexpected frame {tag!r}")
