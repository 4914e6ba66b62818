"""Helpers the backup tests share (this module holds no tests).

A demo registry in the states a restore must reproduce (issued, revoked with a watermarked
second file, downloaded, both logs integrated and checkpointed), bulk blobs to make an
export take long enough to race with, the ``backup`` command group run in-process, and a
full dump of a registry to compare two of them field by field, decrypted.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import transaction
from BTrees.OOBTree import OOBTree
from click.testing import CliRunner, Result
from ZODB.blob import Blob

from certarchive.audit.log import get_log
from certarchive.audit.queue import LOG_NAMES, get_outbox
from certarchive.cli.backup import backup
from certarchive.cli.common import CliState
from certarchive.config import Settings, load_settings
from certarchive.services import certificates
from certarchive.services.audit import sequence_logs
from certarchive.services.certdata import read_data, read_file
from certarchive.services.context import Context
from certarchive.services.demo import load_demo
from certarchive.services.permissions import SYSTEM, holder_actor
from certarchive.services.runtime import Runtime
from certarchive.services.setup import initialise
from tests.conftest import REGISTRAR, file_settings

HOLDER = holder_actor("backup-test")
CERTIFICATE_FIELDS = (
    "serial",
    "state",
    "kind",
    "case_no",
    "unit_number",
    "token",
    "issued_at",
    "first_downloaded_at",
    "paper_status",
    "revocation",
    "replaces",
    "replaced_by",
)


def serials(runtime: Runtime, state: str = "issued") -> list[str]:
    def find(ctx: Context) -> list[str]:
        return [c.serial for c in ctx.agency().certificates.values() if c.state == state]

    return runtime.run(find, SYSTEM)


def _on(serial: str, fn: Any, *args: Any) -> Any:
    return lambda ctx: fn(ctx, certificates.get_certificate(ctx, serial), *args)


def populate(runtime: Runtime, cases: int = 3) -> None:
    """``cases`` paid demo cases, one certificate revoked, one downloaded, logs checkpointed."""
    load_demo(runtime, cases)
    first, second, *_ = serials(runtime)
    runtime.run(_on(first, certificates.revoke, "cancellation", "注销登记"), REGISTRAR)
    runtime.run(_on(second, certificates.download_by_holder), HOLDER)
    sequence_logs(runtime)


def add_bulk_blobs(runtime: Runtime, megabytes: int, seed: int = 0) -> None:
    """Random blobs of 1 MiB under the main root, 8 per transaction: data for a slow export."""
    rng = random.Random(seed)
    tm = transaction.TransactionManager(explicit=True)
    conn = runtime.db.open(transaction_manager=tm)
    try:
        for start in range(0, megabytes, 8):
            with tm:
                bulk = conn.root().setdefault("bulk", OOBTree())
                for n in range(start, min(start + 8, megabytes)):
                    blob = Blob()
                    with blob.open("w") as out:
                        out.write(rng.randbytes(1 << 20))
                    bulk[f"{seed}-{n}"] = blob
    finally:
        conn.close()


def invoke(ini: Path, *args: str) -> Result:
    """``certarchive -c INI backup ARGS…`` in-process (whether or not main.py registers it)."""
    return CliRunner().invoke(backup, list(args), obj=CliState(str(ini)), catch_exceptions=False)


def restored_settings(folder: Path, keys_dir: Path) -> Settings:
    """Settings for a restored var/ folder, with the registry's data keys copied beside it."""
    shutil.copytree(keys_dir, folder / "keys", dirs_exist_ok=True)
    return load_settings(file_settings(folder))


def dump(runtime: Runtime) -> dict[str, Any]:
    """Every certificate with its versions and files decrypted, every case, every log entry."""

    def collect(ctx: Context) -> dict[str, Any]:
        agency = ctx.agency()
        certs = {}
        for cert in agency.certificates.values():
            certs[cert.id] = {
                "fields": {name: getattr(cert, name) for name in CERTIFICATE_FIELDS},
                "versions": [dict(v) for v in cert.versions],
                "data": [read_data(ctx, cert, n) for n in range(1, cert.version + 1)],
                "files": [{k: v for k, v in f.items() if k != "blob"} for f in cert.files],
                "pdfs": [read_file(ctx, cert, n) for n in range(1, len(cert.files) + 1)],
                "ofds": [
                    read_file(ctx, cert, n, "ofd")
                    for n in range(1, len(cert.file_log("ofd") or ()) + 1)
                ],
                "history": list(cert.history),
            }
        logs = {}
        for name in LOG_NAMES:
            log = get_log(ctx.conn, name)
            logs[name] = {
                "entries": list(log.iter_entries(outbox=get_outbox(ctx.conn))),
                "checkpoints": list(log.checkpoints.values()),
                "size": len(log),
            }
        return {
            "certificates": certs,
            "cases": {case.case_no: case.state for case in agency.cases.values()},
            "users": sorted(ctx.registry.users.keys()),
            "logs": logs,
        }

    return runtime.run(collect, SYSTEM)


@contextlib.contextmanager
def backend(kind: str, folder: Path) -> Iterator[Settings]:
    """Settings for a registry on FileStorage, a real ZEO server or PostgreSQL (history-free)."""
    from tests.servers import postgres_databases, zeo_server

    if kind == "zeo":
        servers = zeo_server(folder / "zeo")
    elif kind == "postgres":
        servers = postgres_databases(folder)
    else:
        servers = contextlib.nullcontext({})
    with servers as uris:
        yield load_settings(file_settings(folder / "var", **uris))


@contextlib.contextmanager
def opened(settings: Settings) -> Iterator[Runtime]:
    """An initialised runtime on ``settings``, closed afterwards."""
    runtime = Runtime.open(settings, create_keys=True)
    try:
        runtime.run(initialise, SYSTEM, settings.agency)
        yield runtime
    finally:
        runtime.close()
