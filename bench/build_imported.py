"""Build a registry of paper-era certificates for the scale suite (issue #18), the way an
operator converts them: ``certarchive init``, then ``certarchive import-existing --files
on-demand`` of ``sample_existing_case`` lines (4/3 certificates a line), in its own
process, with its progress bar; then, with ``--issue N``, N certificates issued through
the normal path after them (cases recorded and paid: files made, sealed and signed).

    .venv/bin/python bench/build_imported.py --lines 750000 --var var/scale/1m --batch 500 \
        --issue 1000
    .venv/bin/python bench/build_imported.py --lines 75000 --var var/scale/100k-pg --postgres

With ``--postgres`` the three databases are PostgreSQL databases on 127.0.0.1:5432 named
after the folder (made afresh; RelStorage, history-free, as etc/certarchive-relstorage.ini),
named in the folder's ``storages.json`` so that every bench opens them.  The lines file
is kept beside the folder and reused; a second run on the same folder resumes the import.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_import import write_file
from bench.bench_scale import issue_more
from bench.common import STORAGES, raw_settings
from tests.conftest import write_ini

from certarchive.importing.pipeline import BATCH

COMMAND = Path(sys.executable).with_name("certarchive")
PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def postgres_storages(var: Path) -> dict[str, str]:
    """Three fresh databases named after the folder; their settings."""
    import psycopg2

    prefix = "certarchive_bench_" + re.sub(r"[^a-z0-9]+", "_", var.name.lower())
    admin = psycopg2.connect(PG)
    admin.autocommit = True
    with admin.cursor() as cur:
        for name in ("main", "audit", "sharing"):
            cur.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{prefix}_{name}"')
    admin.close()
    return {
        f"certarchive.zodb.{name}": (
            f"postgres://postgres@127.0.0.1:5432/{prefix}_{name}?keep_history=false"
            f"&blob_dir={var}/pg-{name}-blobs&shared_blob_dir=false"
        )
        for name in ("main", "audit", "sharing")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, required=True)
    parser.add_argument("--var", type=Path, required=True)
    parser.add_argument("--postgres", action="store_true", help="RelStorage on PostgreSQL")
    parser.add_argument("--issue", type=int, default=0, help="then issue N the normal way")
    parser.add_argument("--batch", type=int, default=BATCH, help="lines a transaction")
    args = parser.parse_args()
    var = args.var.resolve()
    lines = var.parent / f"{var.name}-existing.jsonl"
    fresh = not var.exists()
    var.mkdir(parents=True, exist_ok=True)
    if fresh and args.postgres:
        (var / STORAGES).write_text(json.dumps(postgres_storages(var), indent=1))
    if not lines.exists():
        write_file(lines, args.lines)
    ini = write_ini(var.parent / f"{var.name}.ini", raw_settings(var))
    if fresh:
        subprocess.run([COMMAND, "-c", ini, "init"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [
            COMMAND,
            "-c",
            ini,
            "import-existing",
            "--files",
            "on-demand",
            "--batch",
            str(args.batch),
            str(lines),
        ],
        check=True,
    )
    if args.issue:
        seconds = issue_more(var, args.issue)
        print(f"issued {args.issue} the normal way: {args.issue / seconds:.1f} /s")


if __name__ == "__main__":
    main()
