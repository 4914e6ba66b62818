"""Packing the registry's databases, with its audit entry.

A function of the runtime (not of one transaction's context) because packing works on
the databases themselves; ``Runtime.invoke`` runs it in the command's process, or in the
running server when that holds the FileStorages (see :mod:`certarchive.door`): FileStorage
packs while its own process goes on committing.
"""

from __future__ import annotations

from certarchive.services.context import Context
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime
from certarchive.storage import pack_databases


def pack_registry(runtime: Runtime, days: float) -> dict[str, tuple[int, int]]:
    """Pack main, audit and sharing, then write the ``admin.pack`` entry with each size
    before and after."""
    sizes = pack_databases(runtime.db, days)
    detail = {"days": days, "bytes": {name: list(pair) for name, pair in sizes.items()}}

    def record(ctx: Context) -> None:
        ctx.audit("admin.pack", "databases", detail=detail)

    runtime.run(record, SYSTEM)
    return sizes
