"""An export killed at random points never harms earlier snapshots and never leaves a
snapshot that looks complete (issue 6).

The real command line runs in a child process and gets SIGKILL (no clean-up of any kind)
at a random moment while it writes chunks; afterwards the earlier snapshot's files are
byte for byte the same and every manifest in the repository verifies in full.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from certarchive.backup.keys import load_key
from certarchive.backup.repository import Repository
from certarchive.backup.verify import verify_repository
from certarchive.crypto.sm import sm3_hex
from tests.backup_support import add_bulk_blobs, backend, opened, populate
from tests.conftest import file_settings, write_ini
from tests.i18n_support import both_text

KILLS = 4
PROGRAM = (  # `certarchive -c INI backup ARGS…`, without importing the unrelated commands
    "import sys; from certarchive.cli.backup import backup; "
    "from certarchive.cli.common import CliState; "
    "backup(sys.argv[2:], obj=CliState(sys.argv[1]))"
)


def _files(repository: Repository) -> dict[str, str]:
    return {
        str(p.relative_to(repository.path)): sm3_hex(p.read_bytes())
        for p in repository.path.rglob("*")
        if p.is_file() and p.name != "lock"
    }


def _chunk_files(repository: Repository) -> int:
    return sum(1 for _ in repository.chunk_dir.rglob("*"))


def _start(ini: Path, repository: Repository) -> tuple[subprocess.Popen[bytes], float]:
    """Start an export; return it once it has begun writing chunks, and when that was."""
    before = _chunk_files(repository)
    command = [str(ini), "export", "--out", str(repository.path)]
    child = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while _chunk_files(repository) == before and child.poll() is None:
        time.sleep(0.002)
    return child, time.monotonic()


def test_export_killed_at_random_points_leaves_earlier_snapshots_whole(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with backend("file", tmp_path) as settings, opened(settings) as runtime:
        populate(runtime, cases=2)
        add_bulk_blobs(runtime, 16)
    ini = write_ini(tmp_path / "certarchive.ini", file_settings(tmp_path / "var"))
    repository = Repository(tmp_path / "backups")

    child, writing = _start(ini, repository)
    assert child.wait(timeout=120) == 0
    window = time.monotonic() - writing
    first = _files(repository)
    key = load_key(settings.keys_dir / "backup.key")

    interrupted = False
    delays = [0.0] + [rng.uniform(0, window) for _ in range(KILLS - 1)]  # the first: surely mid-way
    for attempt, delay in enumerate(delays):
        child, _ = _start(ini, repository)
        time.sleep(delay)
        child.kill()
        child.wait()
        report = verify_repository(repository.path, key, remember=False)
        context = f"seed {seed}, kill {attempt}: {report.faults}"
        assert report.ok, context
        now = _files(repository)
        assert {name: now.get(name) for name in first} == first, context
        assert len(report.snapshots) <= 2 + attempt
        interrupted |= any("interrupted exports left" in both_text(n) for n in report.notes)
    assert interrupted, f"seed {seed}: no kill landed while chunks were being written"
