"""The server's backup worker: one thread per process that runs queued backup jobs.

Requests only queue a job (:func:`.backup_jobs.start_job`) and return 202; this thread
claims it in a transaction, runs the export, verification or drill with the same
functions as ``certarchive backup …`` (outside any transaction), and records the outcome
with its audit entry.  A client that goes away changes nothing: the job belongs to the
server.  While a job runs, a ticker writes its progress and a heartbeat every
:data:`TICK` seconds, so every process shows the same progress, and a job whose heartbeat
stops is known to be interrupted.

The same thread queues scheduled exports (``certarchive.backup_schedule``), then prunes
(``backup_keep``) and copies to the second repository (``backup_copy_to``), verifying the
copy there.  At start it declares interrupted the jobs an earlier process on this machine
left running (the process is gone, or it is this process under an older start token).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from certarchive.backup.drill import run_drill
from certarchive.backup.export import ExportRefused, export_snapshot, key_for_export
from certarchive.backup.keys import BackupKey, BackupKeyError, default_key_path
from certarchive.backup.manifest import Manifest, ManifestError
from certarchive.backup.mirror import mirror
from certarchive.backup.repository import Repository
from certarchive.backup.restore import RestoreFailed, RestoreRefused
from certarchive.backup.retention import PruneRefused, prune
from certarchive.backup.verify import VerifyReport, verify_repository
from certarchive.i18n import _, message_of
from certarchive.services import backup_jobs
from certarchive.services.context import utc_now
from certarchive.services.permissions import SYSTEM
from certarchive.services.runtime import Runtime

log = logging.getLogger(__name__)

TICK = 2.0  # seconds between progress writes of a running job
POLL = 5.0  # seconds between looks for queued jobs (a request wakes the worker at once)
FULL_EVERY = timedelta(days=7)  # a scheduled export is full when the newest full is older
EXPECTED = (
    ExportRefused,
    PruneRefused,
    BackupKeyError,
    ManifestError,
    RestoreRefused,
    RestoreFailed,
    OSError,
)


class JobFailed(Exception):
    """The job ran and failed; the message is for the operator (no personal data)."""


@dataclass
class Progress:
    """What a running job has done so far, updated by the export's callback."""

    phase: str
    databases: dict[str, int] = field(default_factory=dict)
    expected: int | None = None  # a full export: about what the previous full one wrote
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, database: str, size: int) -> None:
        with self.lock:
            self.databases[database] = self.databases.get(database, 0) + size

    def set_phase(self, phase: str) -> None:
        with self.lock:
            self.phase = phase

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            done = {
                "phase": self.phase,
                "bytes": sum(self.databases.values()),
                "databases": dict(self.databases),
            }
            if self.expected:
                done["expected_bytes"] = self.expected
            return done


@dataclass
class Outcome:
    ok: bool = True
    snapshot: str | None = None
    error: str | None = None
    steps: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    drill: dict[str, Any] | None = None


def _verified_snapshots(report: VerifyReport) -> list[str]:
    """Snapshots whose chain and data up to them passed (faults name their position)."""
    worst = min((f.position if f.position is not None else 0 for f in report.faults), default=None)
    return [
        s["snapshot"]
        for position, s in enumerate(report.snapshots, start=1)
        if worst is None or position < worst
    ]


def _fault_text(report: VerifyReport) -> str:
    shown = "; ".join(f"[{f.kind}] {f}" for f in report.faults[:3])
    more = f" (+{len(report.faults) - 3})" if len(report.faults) > 3 else ""
    count = len(report.faults)
    return _(
        "校验发现 ${count} 处错误（${shown}，${more}）",
        mapping={"count": count, "shown": shown, "more": more},
    )


class BackupWorker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    # --- settings -------------------------------------------------------------------------

    @property
    def repository(self) -> Repository:
        settings = self.runtime.settings
        return Repository(settings.backups.repository_path(settings.keys_dir))

    def _key(self) -> BackupKey:
        path = default_key_path(self.runtime.settings.keys_dir)
        return key_for_export(path, self.repository)[0]

    # --- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="certarchive-backups", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception as exc:  # keep the thread alive; the next round tries again
                log.warning("backup worker round failed: %s", type(exc).__name__)
            self._wake.wait(POLL)
            self._wake.clear()

    def round(self, now: datetime | None = None) -> int | None:
        """Recover, queue a due scheduled export, run one queued job; its number, if any."""
        self.runtime.run(backup_jobs.recover, SYSTEM, self._dead)
        schedule = self.runtime.settings.backups.schedule
        if schedule is not None:
            slot = schedule.slot(now or utc_now())
            self.runtime.run(backup_jobs.enqueue_scheduled, SYSTEM, slot)
        job = self.runtime.run(backup_jobs.claim_next, SYSTEM, self.owner)
        if job is None:
            return None
        self.execute(job)
        return job["id"]

    def _dead(self, record: dict[str, Any]) -> bool:
        """Whether the process that runs ``record`` is gone (this machine's processes only;
        others are judged by their heartbeat)."""
        host, _, rest = (record.get("owner") or "").partition(":")
        pid_text = rest.partition(":")[0]
        if host != socket.gethostname() or not pid_text.isdigit():
            return False
        if int(pid_text) == os.getpid():
            return record["owner"] != self.owner
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    # --- one job ----------------------------------------------------------------------------

    def execute(self, job: dict[str, Any]) -> None:
        progress = Progress(job["kind"])
        done = threading.Event()

        def tick() -> None:
            while not done.wait(TICK):
                try:
                    self.runtime.run(
                        backup_jobs.beat, SYSTEM, job["id"], self.owner, progress.snapshot()
                    )
                except Exception as exc:
                    log.warning("backup progress not recorded: %s", type(exc).__name__)

        ticker = threading.Thread(target=tick, name="certarchive-backup-tick", daemon=True)
        ticker.start()
        try:
            outcome = self._run(job, progress)
        except JobFailed as failure:
            outcome = Outcome(False, error=message_of(failure))
        except EXPECTED as error:
            outcome = Outcome(False, error=_message(error))
        except Exception as exc:
            log.warning("backup job %s failed: %s", job["id"], type(exc).__name__)
            outcome = Outcome(
                False, error=_("内部错误（${name}）", mapping={"name": type(exc).__name__})
            )
        finally:
            done.set()
            ticker.join()
        self.runtime.run(
            backup_jobs.finish,
            SYSTEM,
            job["id"],
            self.owner,
            outcome.ok,
            progress.snapshot(),
            outcome.snapshot,
            outcome.error,
            outcome.steps,
            outcome.verified,
            outcome.drill,
        )

    def _run(self, job: dict[str, Any], progress: Progress) -> Outcome:
        runners: dict[str, Callable[[dict[str, Any], Progress], Outcome]] = {
            "export": self._export,
            "verify": self._verify,
            "drill": self._drill,
        }
        return runners[job["kind"]](job, progress)

    def _newest_full(self) -> Manifest | None:
        repository = self.repository
        for path in reversed(repository.manifest_paths()):
            manifest = repository.load(path)
            if manifest.kind == "full":
                return manifest
        return None

    def _incremental(self, job: dict[str, Any], full: Manifest | None) -> bool:
        """A scheduled export (``incremental`` None) is full when no full snapshot of the
        last :data:`FULL_EVERY` exists, so that chains, and what retention can prune, stay
        short."""
        if job["incremental"] is not None:
            return bool(job["incremental"])
        if full is None:
            return False
        return utc_now() - datetime.fromisoformat(full.document["created"]) < FULL_EVERY

    def _export(self, job: dict[str, Any], progress: Progress) -> Outcome:
        settings = self.runtime.settings
        repository = self.repository
        key = self._key()
        full = self._newest_full()
        incremental = self._incremental(job, full)
        if full is not None and not incremental:  # a guess for the progress bar, no more
            progress.expected = sum(e["stream_bytes"] for e in full.databases.values())
        manifest = export_snapshot(settings.databases, repository, key, incremental, progress.add)
        outcome = Outcome(snapshot=manifest.snapshot)
        outcome.steps.append(
            f"exported {manifest.snapshot} ({manifest.kind}, {manifest.size()} bytes)"
        )
        if settings.backups.keep:
            progress.set_phase("prune")
            pruned = prune(repository, key, settings.backups.keep)
            outcome.steps.append(f"pruned {len(pruned)}: {' '.join(pruned)}".strip())
        if settings.backups.copy_to is not None:
            progress.set_phase("copy")
            copy = Repository(settings.backups.copy_to)
            if not copy.path.is_dir():  # never fill the mount point of an absent disk
                raise JobFailed(
                    _("副本目录 ${path} 不存在（磁盘未挂载？）", mapping={"path": copy.path})
                )
            copied = mirror(repository, copy)
            outcome.steps.append(
                f"copied {copied.manifests} snapshots, {copied.chunks} chunks to {copy.path}"
            )
            progress.set_phase("verify copy")
            report = verify_repository(copy.path, key, remember=False)
            if not report.ok:
                raise JobFailed(
                    _(
                        "副本（${path}，${fault_text_report}）",
                        mapping={"path": copy.path, "fault_text_report": _fault_text(report)},
                    )
                )
            outcome.steps.append(f"verified the copy: {len(report.snapshots)} snapshots")
        return outcome

    def _verify(self, job: dict[str, Any], progress: Progress) -> Outcome:
        report = verify_repository(self.repository.path, self._key())
        outcome = Outcome(report.ok, verified=_verified_snapshots(report), steps=report.notes)
        if not report.ok:
            outcome.error = _fault_text(report)
        else:
            outcome.steps.append(f"verified {len(report.snapshots)} snapshots")
        return outcome

    def _drill(self, job: dict[str, Any], progress: Progress) -> Outcome:
        started = time.monotonic()
        report = run_drill(
            self.runtime.settings.databases,
            self.repository.path,
            self._key(),
            self.runtime.keyring,
            progress.add,
        )
        result = {
            "ok": report.ok,
            "snapshot": report.snapshot,
            "differences": report.differences[:20],
            "seconds": round(time.monotonic() - started, 1),
            "certificates": report.restored.certificates,
        }
        error = None if report.ok else _("演练发现差异")
        return Outcome(report.ok, snapshot=report.snapshot, error=error, drill=result)


def _message(error: BaseException) -> str:
    if isinstance(error, OSError):
        return _(
            "读写失败（${error}）",
            mapping={"error": error.strerror or type(error).__name__},
        )
    if isinstance(error, RestoreFailed):
        return _(
            "快照无法恢复（${len_error_faults}）", mapping={"len_error_faults": len(error.faults)}
        )
    return message_of(error)


_WORKERS: dict[int, BackupWorker] = {}
_WORKERS_LOCK = threading.Lock()


def worker_for(runtime: Runtime) -> BackupWorker:
    """The one worker of this runtime (a process serves one runtime; tests share one)."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(id(runtime))
        if worker is None or worker.runtime is not runtime:
            worker = _WORKERS[id(runtime)] = BackupWorker(runtime)
            runtime.on_close.append(worker.stop)
        return worker
