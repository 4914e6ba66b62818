"""The per-process runtime: settings, the open databases, the keyring and the engine.

``Runtime.run`` is how the command line, the demo loader and the tests execute a
service function: one transaction per call, retried on a ZODB conflict, exactly as
pyramid_tm and pyramid_retry do for a web request.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import transaction
from transaction.interfaces import TransientError
from ZODB import DB

from certarchive.config import Settings
from certarchive.content.evolve import require_current
from certarchive.content.registry import ROOT_KEY
from certarchive.crypto.keyring import Keyring
from certarchive.services.context import Context
from certarchive.services.permissions import SYSTEM
from certarchive.storage import close_databases, open_databases
from certarchive.workflow.engine import Actor, WorkflowEngine

T = TypeVar("T")
ATTEMPTS = 12
PASSPHRASE_VARIABLE = "CERTARCHIVE_PASSPHRASE"  # noqa: S105 - the variable's name


def keyring_passphrase() -> str | None:
    """The KEK passphrase, for keyrings protected by one instead of a key file."""
    return os.environ.get(PASSPHRASE_VARIABLE) or None


def backoff(attempt: int) -> None:
    """Sleep a random while, longer after each conflict, so retries stop colliding."""
    ceiling_ms = min(1000, 10 * 2**attempt)
    time.sleep(secrets.randbelow(ceiling_ms) / 1000)


def open_keyring(settings: Settings, create_keys: bool = False) -> Keyring:
    """The configured keyring (created when ``create_keys`` and absent)."""
    passphrase = keyring_passphrase()
    if create_keys:
        return Keyring.open_or_create(settings.keys_dir, passphrase)
    return Keyring.open(settings.keys_dir, passphrase)


class Runner(Protocol):
    """What commands and the demo loader use of a runtime: a :class:`Runtime`, or the
    stand-in that runs each call in a running server (``certarchive.door.client``)."""

    settings: Settings
    keyring: Keyring

    def run(self, fn: Callable[..., T], actor: Actor, *args: Any, **kwargs: Any) -> T: ...

    def invoke(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def require_current_schema(self) -> None: ...

    def close(self) -> None: ...


class Runtime:
    def __init__(self, settings: Settings, db: DB, keyring: Keyring) -> None:
        from certarchive.services.lifecycle import build_engine

        self.settings = settings
        self.db = db
        self.keyring = keyring
        self.engine: WorkflowEngine = build_engine()
        self.on_close: list[Callable[[], None]] = []  # e.g. stop the backup worker first
        #: Moves after anything this process may have committed (every :meth:`run`, every
        #: web request but a cached page's): the page cache's sign to check its pages,
        #: where the database's last transaction id does not move on an own commit
        #: (RelStorage's moves only when PostgreSQL is polled).  Moving it too often
        #: costs a check, never a wrong page.
        self.changes = 0

    @classmethod
    def open(cls, settings: Settings, create_keys: bool = False) -> Runtime:
        """Open keys first: a missing or wrong key stops start-up before any database opens."""
        keyring = open_keyring(settings, create_keys)
        return cls(settings, open_databases(settings.databases), keyring)

    def require_current_schema(self) -> None:
        """Refuse to serve a registry whose schema is older than the code (RegistryOutdated)."""

        def check(ctx: Context) -> None:
            registry = ctx.conn.root().get(ROOT_KEY)
            if registry is not None:
                require_current(registry)

        self.run(check, SYSTEM)

    def close(self) -> None:
        for stop in self.on_close:
            stop()
        close_databases(self.db)

    def note_change(self) -> None:
        self.changes += 1  # one bytecode-level race loses a count at worst: it moves anyway

    def context(self, conn: Any, actor: Actor, **kw: Any) -> Context:
        return Context(self, conn, actor, **kw)

    def invoke(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(self, *args, **kwargs)``: for work that needs the runtime itself (the
        databases), written so that a command can also ask a running server to do it
        (see :mod:`certarchive.door`)."""
        return fn(self, *args, **kwargs)

    def run(
        self,
        fn: Callable[..., T],
        actor: Actor,
        *args: Any,
        request_id: str | None = None,
        client: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Run ``fn(context, *args, **kwargs)`` in one transaction; retry on conflict."""
        for attempt in range(1, ATTEMPTS + 1):
            tm = transaction.TransactionManager(explicit=True)
            conn = self.db.open(transaction_manager=tm)
            try:
                with tm:
                    ctx = self.context(conn, actor, request_id=request_id, client=client)
                    result = fn(ctx, *args, **kwargs)
                self.note_change()
                return result
            except TransientError:
                if attempt == ATTEMPTS:
                    raise
                backoff(attempt)
            finally:
                conn.close()
        raise AssertionError("unreachable")
