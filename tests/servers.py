"""Real servers for the tests: a ZEO server with three storages, PostgreSQL databases."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from certarchive.config import DATABASE_NAMES

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@contextmanager
def serving(ini: Path, *extra: str, log: Path | None = None) -> Iterator[str]:
    """``certarchive serve`` as an operator runs it, on a free port; yields its base URL.
    Its stderr (where an internal error is logged) goes to ``log`` when given."""
    with server_process(ini, *extra, log=log) as (base, _process):
        yield base


@contextmanager
def server_process(
    ini: Path, *extra: str, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """As :func:`serving`, yielding the server's process too (to measure it)."""
    port = free_port()
    binary = Path(sys.executable).with_name("certarchive")
    errors = log.open("wb") if log else subprocess.PIPE
    server = subprocess.Popen(
        [str(binary), "-c", str(ini), "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    text = log.read_text() if log else server.stderr.read().decode()
                    raise AssertionError(text) from None
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log:
            errors.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def zeo_server(folder: Path) -> Iterator[dict[str, str]]:
    """Start ``runzeo`` serving main/audit/sharing; yield the app's raw URI settings."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    storages = "\n".join(
        f"<filestorage {name}>\n  path {folder}/{name}.fs\n"
        f"  blob-dir {folder}/{name}-blobs\n</filestorage>"
        for name in DATABASE_NAMES
    )
    conf = folder / "zeo.conf"
    conf.write_text(f"<zeo>\n  address 127.0.0.1:{port}\n</zeo>\n{storages}\n")
    server = subprocess.Popen(
        [sys.executable, "-m", "ZEO.runzeo", "-C", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("ZEO server did not start") from None
                time.sleep(0.1)
        yield {
            f"certarchive.zodb.{name}": (
                f"zeo://127.0.0.1:{port}?storage={name}&blob_dir={folder}/client-{name}-blobs"
                f"&shared_blob_dir=false&wait_timeout=30"
            )
            for name in DATABASE_NAMES
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def postgres_databases(folder: Path) -> Iterator[dict[str, str]]:
    """Create three fresh PostgreSQL databases; drop them afterwards."""
    import psycopg2

    prefix = f"certarchive_test_{uuid.uuid4().hex[:8]}"
    names = {name: f"{prefix}_{name}" for name in DATABASE_NAMES}
    admin = psycopg2.connect(PG_DSN)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for db in names.values():
                cur.execute(f'CREATE DATABASE "{db}"')
        yield {
            f"certarchive.zodb.{name}": (
                f"postgres://postgres@127.0.0.1:5432/{db}?keep_history=false"
                f"&blob_dir={folder}/pg-{name}-blobs&shared_blob_dir=false"
            )
            for name, db in names.items()
        }
    finally:
        with admin.cursor() as cur:
            for db in names.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()
