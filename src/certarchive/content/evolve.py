"""Named, recorded schema evolution steps (after Substance D's evolve).

A new registry is created at the latest generation.  An older one is brought forward by
``certarchive init``, which runs every step it has not run yet, each recorded with its
name and time in ``registry.evolved``; servers refuse to start on an outdated registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from BTrees.OOBTree import OOBTree
from ZODB.Connection import Connection

from certarchive.audit.queue import LOG_NAMES, create_outbox
from certarchive.content.records import RecordLog
from certarchive.content.registry import ROOT_KEY, Registry
from certarchive.content.shares import ShareBook
from certarchive.crypto.keyring import Keyring
from certarchive.i18n import _
from certarchive.messaging.outbox import Outbox


def _web_state_trees(conn: Connection, _keyring: Keyring) -> None:
    """Server-side sessions, holder sign-in attempts and per-agency correction requests."""
    registry = conn.root()[ROOT_KEY]
    for name in ("sessions", "holder_attempts"):
        if not hasattr(registry, name):
            setattr(registry, name, OOBTree())
    for agency_name in registry.agencies:
        agency = registry.agencies[agency_name]
        if not hasattr(agency, "corrections"):
            agency.corrections = OOBTree()


def _audit_merkle_nodes(conn: Connection, _keyring: Keyring) -> None:
    """Keep the logs' large perfect subtree hashes, so that proofs stop hashing every entry."""
    for name in LOG_NAMES:
        log = conn.get_connection(name).root().get("log")
        if log is not None:
            log.rebuild_nodes()


def _log_outbox(conn: Connection, _keyring: Keyring) -> None:
    """The outbox where log entries commit with their change (``audit_queue = main``),
    and queues with narrow inner nodes in the logs' own databases."""
    create_outbox(conn)
    for name in LOG_NAMES:
        log = conn.get_connection(name).root().get("log")
        if log is not None:
            log.narrow_queue()


def _message_outbox(conn: Connection, _keyring: Keyring) -> None:
    """The outbox of messages to holders (Z-4), and holders' WeChat bindings."""
    registry = conn.root()[ROOT_KEY]
    if getattr(registry, "messages", None) is None:
        registry.messages = Outbox()
    if getattr(registry, "wechat_bindings", None) is None:
        registry.wechat_bindings = OOBTree()


def _share_book(conn: Connection, _keyring: Keyring) -> None:
    """The holders' shares with institutions (授权用证)."""
    registry = conn.root()[ROOT_KEY]
    if getattr(registry, "shares", None) is None:
        registry.shares = ShareBook()


def _library_reports(conn: Connection, _keyring: Keyring) -> None:
    """The message outbox's indexes of reports to the e-licence library."""
    outbox = conn.root()[ROOT_KEY].messages
    if getattr(outbox, "reports_due", None) is None:
        outbox.add_reports()


def _search_indexes(conn: Connection, keyring: Keyring) -> None:
    """The kind index and the keyed indexes of parties' names and address words, filled
    from every certificate's current version (the ID-number index is rebuilt with them)."""
    from certarchive.services.search_index import rebuild

    registry = conn.root()[ROOT_KEY]
    for agency_name in registry.agencies:
        rebuild(registry.agencies[agency_name], keyring)


def _long_number_pieces(conn: Connection, _keyring: Keyring) -> None:
    """The number index with four- and five-character pieces beside the three-character
    ones (``PIECE_LENGTHS``)."""
    from certarchive.services.search_index import rebuild_numbers

    registry = conn.root()[ROOT_KEY]
    for agency_name in registry.agencies:
        rebuild_numbers(registry.agencies[agency_name])


#: Each step takes the ``main`` connection (the other databases are reached through it)
#: and the keyring (for steps that read encrypted data or compute keyed index values).
STEPS: tuple[tuple[str, Callable[[Connection, Keyring], None]], ...] = (
    ("web-state-trees", _web_state_trees),
    ("audit-merkle-nodes", _audit_merkle_nodes),
    ("log-outbox", _log_outbox),
    ("message-outbox", _message_outbox),
    ("share-book", _share_book),
    ("library-reports", _library_reports),
    ("search-indexes", _search_indexes),
    ("long-number-pieces", _long_number_pieces),
)
LATEST = len(STEPS)


class RegistryOutdated(Exception):
    """The registry's schema is older than the code: run ``certarchive init``."""


def evolve(conn: Connection, now: datetime, keyring: Keyring) -> list[str]:
    """Run the steps the registry has not run yet; return their names."""
    registry = conn.root()[ROOT_KEY]
    done = []
    if not hasattr(registry, "evolved"):  # registries made before steps were recorded
        registry.evolved = RecordLog()
    for number in range(registry.generation, LATEST):
        name, step = STEPS[number]
        step(conn, keyring)
        registry.evolved.append({"step": name, "generation": number + 1, "at": now.isoformat()})
        registry.generation = number + 1
        done.append(name)
    return done


def require_current(registry: Registry) -> None:
    if registry.generation < LATEST:
        raise RegistryOutdated(
            _(
                "登记库结构需要升级（${generation}，${latest}）",
                mapping={"generation": registry.generation, "latest": LATEST},
            )
        )
