"""The server's end of the admin door: a thread accepting local commands' requests.

Each connection is one command; its requests run one after another, each as the command
would have run it on its own: ``run`` is ``Runtime.run`` (one transaction, retried on
conflict), ``invoke`` calls a function given the runtime (e.g. packing, which needs the
databases themselves).  A refusal (``ServiceError``) goes back to the command, which
reports it as it always did; anything else is logged by its type only (values may be
personal data) and reported as a failure.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from pathlib import Path
from typing import Any

from certarchive.door.address import socket_address
from certarchive.door.protocol import DoorClosed, receive, resolve, send
from certarchive.services.errors import ServiceError
from certarchive.services.runtime import Runtime

log = logging.getLogger(__name__)
PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(conn: socket.socket) -> int:
    """The user id the kernel vouches for at the other end of a Unix socket."""
    _pid, uid, _gid = PEERCRED.unpack(
        conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, PEERCRED.size)
    )
    return uid


class AdminDoor:
    """Listens on ``path`` (mode 0600) and runs what local commands ask of ``runtime``."""

    def __init__(self, runtime: Runtime, path: Path) -> None:
        self.runtime = runtime
        self.path = path
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def open(self) -> None:
        """Bind and listen, then accept in a daemon thread.  Whoever runs this holds the
        FileStorage lock, so a socket left at ``path`` is a stopped server's: replace it.
        The umask makes the socket 0600 from its first instant (serve is still single
        threaded here)."""
        self.path.unlink(missing_ok=True)
        previous = os.umask(0o177)
        try:
            with socket_address(self.path) as address:
                self._listener.bind(address)
        finally:
            os.umask(previous)
        self._listener.listen(16)
        threading.Thread(target=self._accept, name="admin-door", daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        allowed = {os.getuid(), 0}
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            if peer_uid(conn) not in allowed:
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    send(conn, self.answer(receive(conn, restricted=True)))
            except DoorClosed:
                return
            except Exception as exc:  # a malformed request: drop the connection
                log.warning("admin door: bad request: %s", type(exc).__name__)

    def answer(self, request: Any) -> tuple[str, Any]:
        """``("ok", value)``, ``("refused", ServiceError)`` or ``("failed", type name)``."""
        kind, name, actor, args, kwargs = request
        try:
            fn = resolve(name)
            if kind == "run":
                value = self.runtime.run(fn, actor, *args, **kwargs)
            elif kind == "invoke":
                value = fn(self.runtime, *args, **kwargs)
            else:
                raise LookupError(kind)
        except ServiceError as exc:
            return ("refused", exc)
        except Exception as exc:
            log.warning("admin door: %s failed: %s", name, type(exc).__name__)
            return ("failed", type(exc).__name__)
        return ("ok", value)
