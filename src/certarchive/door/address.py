"""Unix socket addresses of any length.

A socket's path must fit in 107 bytes, which a registry deep in a file system (or a
test's temporary folder) exceeds.  Linux resolves ``/proc/self/fd/N/name`` through the
open folder ``N``, so binding and connecting there reach the same file whatever the
folder's own path is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_PATH = 100


@contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """An address for ``path`` that ``bind`` and ``connect`` accept, valid in the block."""
    if len(os.fsencode(path)) <= MAX_PATH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)
