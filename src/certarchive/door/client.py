"""The command's end of the admin door: a stand-in for :class:`Runtime`.

A command written against ``Runtime`` (``run``, ``invoke``, ``settings``, ``keyring``)
works unchanged with :class:`RemoteRuntime`: its transactions happen in the server.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeVar

from certarchive.config import Settings
from certarchive.crypto.keyring import Keyring
from certarchive.door import door_path
from certarchive.door.address import socket_address
from certarchive.door.protocol import DoorClosed, function_name, receive, send
from certarchive.i18n import _
from certarchive.workflow.engine import Actor

T = TypeVar("T")


class DoorError(Exception):
    """The server could not answer: it stopped mid-request, or the request failed there."""


def knock(settings: Settings) -> socket.socket | None:
    """A connection to the running server's door, or ``None`` when none answers (no
    FileStorage, no socket, or one a stopped server left behind)."""
    path = door_path(settings)
    if path is None or not path.exists():
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with socket_address(path) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        return None
    return sock


class RemoteRuntime:
    """Runs a command's transactions in the server that holds the databases."""

    def __init__(self, settings: Settings, keyring: Keyring, sock: socket.socket) -> None:
        self.settings = settings
        self.keyring = keyring
        self._sock = sock

    def _ask(
        self, kind: str, fn: Callable[..., Any], actor: Actor | None, *args: Any, **kwargs: Any
    ) -> Any:
        name = function_name(fn)
        try:
            send(self._sock, (kind, name, actor, args, kwargs))
            outcome, value = receive(self._sock, restricted=False)
        except (DoorClosed, OSError):
            raise DoorError(_("与运行中的服务器的连接中断，请核对操作是否已完成")) from None
        if outcome == "refused":
            raise value
        if outcome == "failed":
            raise DoorError(_("运行中的服务器未能执行（${value}）", mapping={"value": value}))
        return value

    def run(self, fn: Callable[..., T], actor: Actor, *args: Any, **kwargs: Any) -> T:
        """As :meth:`Runtime.run`, in the server: one transaction, retried there."""
        return self._ask("run", fn, actor, *args, **kwargs)

    def invoke(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """As :meth:`Runtime.invoke`: ``fn(the server's runtime, …)``."""
        return self._ask("invoke", fn, None, *args, **kwargs)

    def require_current_schema(self) -> None:
        """Nothing to do: the server refused to start on an outdated registry."""

    def close(self) -> None:
        self._sock.close()
