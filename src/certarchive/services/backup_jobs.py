"""Backup jobs as the database records them: start, claim, progress, finish, interruption.

Every function here is one transaction (the caller's request, or ``Runtime.run`` in the
worker), and each state change that matters (started, finished, failed, interrupted)
writes its audit entry in that same transaction.  The work itself (export, verify, drill)
runs outside any transaction, in :mod:`.backup_worker`: a transaction held open for the
minutes an export takes would conflict with everything.

States: ``queued`` → ``running`` → ``done`` | ``failed``.  CONTRACT.md knows ``running``,
``done`` and ``failed``; a queued job is reported as ``running`` with the phase
``queued``.  A running job whose worker stopped (the server was killed or restarted) is
``failed`` with ``interrupted: true``: its export published no manifest (manifests are
written last), so no snapshot of it looks complete.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from certarchive.content.backups import BackupState, backup_state
from certarchive.i18n import _
from certarchive.services.context import Context
from certarchive.services.errors import Conflict, Invalid, NotFound

KINDS = {"export": "backup.export", "verify": "backup.verify", "drill": "backup.verify"}
ACTIVE = ("queued", "running")
STALE = timedelta(seconds=60)  # a running job whose heartbeat is older was interrupted
INTERRUPTED = _("任务中断：服务器在任务进行中停止，未生成完整快照")


def _state(ctx: Context, create: bool = False) -> BackupState | None:
    return backup_state(ctx.conn, create)


def _put(state: BackupState, record: dict[str, Any]) -> dict[str, Any]:
    state.jobs[record["id"]] = record
    return dict(record)


def active_job(state: BackupState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    for number in reversed(list(state.jobs.keys())[-20:]):
        record = state.jobs[number]
        if record["state"] in ACTIVE:
            return dict(record)
    return None


def start_job(
    ctx: Context, kind: str, incremental: bool | None = False, trigger: str = "web"
) -> dict[str, Any]:
    """Queue a job for the worker; refused while another is queued or running (one at a
    time: two exports into one repository would only race for its lock)."""
    if kind not in KINDS:
        raise Invalid(_("未知的任务类型"), {"kind": "export, verify or drill"})
    ctx.require(KINDS[kind])
    state = _state(ctx, create=True)
    assert state is not None
    busy = active_job(state)
    if busy is not None:
        raise Conflict(
            _(
                "备份任务 ${busy_id} 正在进行，请待其结束后再试（${busy_kind}，${busy_state}）",
                mapping={
                    "busy_id": busy["id"],
                    "busy_kind": busy["kind"],
                    "busy_state": busy["state"],
                },
            )
        )
    now = ctx.now().isoformat()
    record = {
        "id": state.next_number(),
        "kind": kind,
        "incremental": incremental,
        "trigger": trigger,
        "requested_by": ctx.actor.name,
        "requested_at": now,
        "state": "queued",
        "progress": {"phase": "queued", "bytes": 0, "databases": {}},
        "owner": None,
        "heartbeat": now,
        "started_at": None,
        "finished_at": None,
        "snapshot": None,
        "error": None,
        "interrupted": False,
        "steps": [],
    }
    detail = {"job": record["id"], "trigger": trigger}
    if kind == "export":
        detail["incremental"] = incremental
    ctx.audit(f"backup.{kind}.start", f"backup-job:{record['id']}", detail=detail)
    return _put(state, record)


def get_job(ctx: Context, number: int) -> dict[str, Any]:
    ctx.require("backup.status")
    state = _state(ctx)
    record = state.jobs.get(number) if state is not None else None
    if record is None:
        raise NotFound(_("备份任务不存在"))
    return dict(record)


def recent_jobs(ctx: Context, limit: int = 20) -> list[dict[str, Any]]:
    ctx.require("backup.status")
    state = _state(ctx)
    if state is None:
        return []
    numbers = list(state.jobs.keys())[-limit:]
    return [dict(state.jobs[n]) for n in reversed(numbers)]


def is_stale(record: dict[str, Any], now: datetime) -> bool:
    return (
        record["state"] == "running" and now - datetime.fromisoformat(record["heartbeat"]) > STALE
    )


def public_view(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A job as CONTRACT.md shows it: state running|done|failed, progress, snapshot?, error?."""
    interrupted = record["interrupted"] or is_stale(record, now)
    state = "failed" if interrupted else record["state"]
    view: dict[str, Any] = {
        "id": record["id"],
        "kind": record["kind"],
        "state": "running" if state == "queued" else state,
        "progress": record["progress"],
        "trigger": record["trigger"],
        "requested_at": record["requested_at"],
        "started_at": record["started_at"],
        "finished_at": record["finished_at"],
        "interrupted": interrupted,
        "steps": list(record["steps"]),
    }
    if record["kind"] == "export":
        view["incremental"] = record["incremental"]
    if record["snapshot"]:
        view["snapshot"] = record["snapshot"]
    if interrupted:
        view["error"] = record["error"] or INTERRUPTED
    elif record["error"]:
        view["error"] = record["error"]
    return view


# --- the worker's side ----------------------------------------------------------------


def claim_next(ctx: Context, owner: str) -> dict[str, Any] | None:
    """Mark the oldest queued job running under ``owner``; None if there is none or a job
    runs already.  Two workers claiming at once conflict, and the retried one finds the
    job taken."""
    state = _state(ctx)
    busy = active_job(state)
    if state is None or busy is None or busy["state"] != "queued":
        return None
    now = ctx.now().isoformat()
    record = dict(
        busy,
        state="running",
        owner=owner,
        heartbeat=now,
        started_at=now,
        progress={"phase": busy["kind"], "bytes": 0, "databases": {}},
    )
    return _put(state, record)


def _owned(ctx: Context, number: int, owner: str) -> tuple[BackupState, dict[str, Any]] | None:
    state = _state(ctx)
    record = state.jobs.get(number) if state is not None else None
    if state is None or record is None or record["owner"] != owner or record["state"] != "running":
        return None  # declared interrupted meanwhile: nothing more to record
    return state, dict(record)


def beat(ctx: Context, number: int, owner: str, progress: dict[str, Any]) -> bool:
    """Record progress and that the worker is alive; False if the job is no longer ours."""
    found = _owned(ctx, number, owner)
    if found is None:
        return False
    state, record = found
    _put(state, dict(record, progress=progress, heartbeat=ctx.now().isoformat()))
    return True


def finish(
    ctx: Context,
    number: int,
    owner: str,
    ok: bool,
    progress: dict[str, Any],
    snapshot: str | None = None,
    error: str | None = None,
    steps: list[str] | None = None,
    verified: list[str] | None = None,
    drill: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Close a job with its outcome and audit entry (``backup.export`` …, ok or failed)."""
    found = _owned(ctx, number, owner)
    if found is None:
        return None
    state, record = found
    now = ctx.now().isoformat()
    for snapshot_id in verified or ():
        state.verified[snapshot_id] = now
    if drill is not None:
        state.drill = dict(drill, at=now, job=number)
    record.update(
        state="done" if ok else "failed",
        progress=dict(progress, phase="finished"),
        finished_at=now,
        heartbeat=now,
        snapshot=snapshot,
        error=error,
        steps=list(steps or ()),
    )
    ctx.audit(
        f"backup.{record['kind']}",
        f"backup-job:{number}",
        result="ok" if ok else "failed",
        detail={
            "job": number,
            "trigger": record["trigger"],
            "requested_by": record["requested_by"],
            "snapshot": snapshot,
            "error": error,
            "steps": record["steps"],
        },
    )
    return _put(state, record)


def recover(ctx: Context, dead: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Declare interrupted every running job whose worker is gone: ``dead(record)`` says so
    for this machine's processes, and any job silent for :data:`STALE` is gone too."""
    state = _state(ctx)
    if state is None:
        return []
    now = ctx.now()
    found = []
    for number in list(state.jobs.keys())[-20:]:
        record = state.jobs[number]
        if record["state"] != "running" or not (dead(record) or is_stale(record, now)):
            continue
        _put(
            state,
            dict(
                record,
                state="failed",
                interrupted=True,
                error=INTERRUPTED,
                finished_at=now.isoformat(),
                progress=dict(record["progress"], phase="interrupted"),
            ),
        )
        ctx.audit(
            f"backup.{record['kind']}",
            f"backup-job:{number}",
            result="failed",
            detail={"job": number, "trigger": record["trigger"], "interrupted": True},
        )
        found.append(number)
    return found


def enqueue_scheduled(ctx: Context, slot: datetime) -> dict[str, Any] | None:
    """Queue the scheduled export of ``slot`` once (across processes, by conflict), unless a
    job is active: then the slot stays due and a later round queues it."""
    state = _state(ctx, create=True)
    assert state is not None
    key = slot.isoformat()
    if (state.scheduled_slot is not None and state.scheduled_slot >= key) or active_job(state):
        return None
    state.scheduled_slot = key
    return start_job(ctx, "export", None, trigger="schedule")


# --- what the pages show ----------------------------------------------------------------


def failure_alarm(ctx: Context) -> dict[str, Any] | None:
    """The newest finished export, if it failed: shown on the dashboards of admins and
    backup operators until a later export succeeds."""
    ctx.require("backup.status")
    state = _state(ctx)
    if state is None:
        return None
    now = ctx.now()
    for number in reversed(list(state.jobs.keys())[-200:]):
        record = state.jobs[number]
        if record["kind"] != "export":
            continue
        view = public_view(record, now)
        if view["state"] == "failed":
            return view
        if view["state"] == "done":
            return None
    return None


def verified_times(ctx: Context) -> dict[str, str]:
    ctx.require("backup.status")
    state = _state(ctx)
    return dict(state.verified.items()) if state is not None else {}


def last_drill(ctx: Context) -> dict[str, Any] | None:
    ctx.require("backup.status")
    state = _state(ctx)
    return dict(state.drill) if state is not None and state.drill else None


def list_snapshots(ctx: Context) -> dict[str, Any]:
    """The repository's snapshots, newest first, with sizes and when each last passed a
    verification: read from the manifests (``backup list``), which need no key."""
    from certarchive.backup.manifest import ManifestError
    from certarchive.backup.repository import Repository

    ctx.require("backup.status")
    settings = ctx.runtime.settings
    repository = Repository(settings.backups.repository_path(settings.keys_dir))
    verified = verified_times(ctx)
    snapshots = []
    for path in reversed(repository.manifest_paths()):
        try:
            manifest = repository.load(path)
        except (ManifestError, OSError):
            snapshots.append(
                {
                    "id": path.stem,
                    "kind": None,
                    "created_at": None,
                    "bytes": None,
                    "unreadable": True,
                }
            )
            continue
        entry: dict[str, Any] = {
            "id": manifest.snapshot,
            "sequence": manifest.sequence,
            "kind": manifest.kind,
            "created_at": manifest.document["created"],
            "bytes": manifest.size(),
        }
        if manifest.snapshot in verified:
            entry["verified_at"] = verified[manifest.snapshot]
        snapshots.append(entry)
    return {"repository": str(repository.path), "snapshots": snapshots}
