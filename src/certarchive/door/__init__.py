"""The admin door: how a command reaches the registry while ``certarchive serve`` holds it.

A FileStorage is locked by the one process that opened it for writing, so on the default
deployment a command cannot open the databases while the server runs.  The server
therefore opens a door of its own, a Unix socket beside the main database (mode 0600, and
the kernel's peer credentials must name the server's own user or root), and a command
that finds the files locked runs its transactions *in the server* through that door:
``Runtime.run(fn, actor, …)`` becomes one request naming ``fn``, answered after the
server's own runtime committed it.  The server thus sees every change at once (it is its
own database, caches and all), and each change remains one transaction with its audit
entry, made by the same service function and actor as without a server.  Everything
else a command does — reading files, prompting, printing — stays in the command.

See docs/architecture.md for why this and not read-only opens or ZEO.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from certarchive.config import DATABASE_NAMES, Settings

SUFFIX = ".admin.sock"


def door_path(settings: Settings) -> Path | None:
    """Where the server's door is: beside the first FileStorage the configuration names.

    ``None`` when no database is a FileStorage: ZEO and RelStorage let every process
    open the databases themselves, so a server there opens no door and needs none."""
    for name in DATABASE_NAMES:
        parts = urlsplit(settings.databases[name])
        if parts.scheme == "file":
            database = Path(parts.path)
            return database.with_name(database.name + SUFFIX)
    return None
