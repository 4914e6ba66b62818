"""The door's wire format: length-prefixed pickles, and the names of service functions.

Pickle, because the values that cross are the services' own (actors, reports, bytes of a
PDF) and both ends are the same code.  The server unpickles requests with
:class:`RequestUnpickler`, which builds only certarchive's own classes and a few plain
standard ones, so a request can name data but never make the server call anything
beyond the service function it names; and only a peer of the server's own user (or
root), who could read the key files anyway, gets that far.
"""

from __future__ import annotations

import importlib
import io
import pickle
import socket
import struct
from collections.abc import Callable
from typing import Any

HEADER = struct.Struct(">Q")
MAX_FRAME = 256 * 2**20  # a 20 MiB certificate file to verify fits many times over
PACKAGE = "certarchive"
PLAIN = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "object"),
    ("copyreg", "_reconstructor"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("pathlib", "PosixPath"),
}


class DoorClosed(Exception):
    """The other end went away (a server stopping, a command interrupted)."""


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


class RequestUnpickler(pickle.Unpickler):
    """Builds certarchive's classes and the plain types in :data:`PLAIN`, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in PLAIN:
            return super().find_class(module, name)
        if _ours(module):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"not allowed through the door: {module}.{name}")


def function_name(fn: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level certarchive function (what the server runs)."""
    module, qualname = getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")
    if not _ours(module) or "<" in qualname:
        raise TypeError(f"{fn!r} is not a module-level certarchive function")
    return f"{module}:{qualname}"


def resolve(name: str) -> Callable[..., Any]:
    """The function :func:`function_name` named; ``LookupError`` for anything else."""
    module, _, qualname = name.partition(":")
    if not _ours(module) or not qualname or "<" in qualname:
        raise LookupError(name)
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not callable(found) or isinstance(found, type):
        raise LookupError(name)
    return found


def send(sock: socket.socket, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 2**20))
        if not chunk:
            raise DoorClosed
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket, restricted: bool) -> Any:
    """The next value; ``DoorClosed`` at the end of the stream or on an oversized frame."""
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if size > MAX_FRAME:
        raise DoorClosed
    data = _read_exactly(sock, size)
    if restricted:
        return RequestUnpickler(io.BytesIO(data)).load()
    return pickle.loads(data)  # noqa: S301 - the answer of our own server, see the module doc
