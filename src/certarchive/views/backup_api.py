"""Backups from the web (CONTRACT.md "Operating a running registry"): ``/api/v1/backups``.

A backup operator's session or a key with the scope ``backups:run``.  Starting a job only
queues it in the request's transaction (202 with its number); the server's worker
(:mod:`certarchive.services.backup_worker`) runs it once that transaction has committed,
so the request never waits for the export and a caller that goes away stops nothing.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config

from certarchive.i18n import _
from certarchive.services import backup_jobs
from certarchive.services.backup_worker import worker_for
from certarchive.services.errors import Invalid, NotFound
from certarchive.views.common import json_object


def queue_job(request: Request, kind: str, incremental: bool | None = None) -> dict[str, Any]:
    """Queue a job in this request's transaction and wake the worker once it commits."""
    record = backup_jobs.start_job(request.ctx, kind, incremental, _trigger(request))
    worker = worker_for(request.registry.runtime)
    request.tm.get().addAfterCommitHook(lambda committed: committed and worker.wake())
    return record


def _trigger(request: Request) -> str:
    return "api" if request.path.startswith("/api/") else "web"


def _incremental(body: dict[str, Any]) -> bool:
    value = body.get("incremental", False)
    if not isinstance(value, bool):
        raise Invalid(
            _("incremental 须为 true 或 false"),
            {"incremental": _("须为布尔值")},
        )
    return value


@view_config(
    route_name="api.backups", request_method="POST", renderer="json", permission="backup.export"
)
def start_export(request: Request) -> dict[str, Any]:
    return _started(request, "export", _incremental(json_object(request, required=False)))


@view_config(
    route_name="api.backups.verify",
    request_method="POST",
    renderer="json",
    permission="backup.verify",
)
def start_verify(request: Request) -> dict[str, Any]:
    json_object(request, required=False)
    return _started(request, "verify")


@view_config(
    route_name="api.backups.drill",
    request_method="POST",
    renderer="json",
    permission="backup.verify",
)
def start_drill(request: Request) -> dict[str, Any]:
    json_object(request, required=False)
    return _started(request, "drill")


def _started(request: Request, kind: str, *args: Any) -> dict[str, Any]:
    """Queue a job of ``kind``: 202 with its id (the client watches it, or goes away)."""
    record = queue_job(request, kind, *args)
    request.response.status = 202
    return {"job": record["id"]}


@view_config(
    route_name="api.backups", request_method="GET", renderer="json", permission="backup.status"
)
def snapshots(request: Request) -> dict[str, Any]:
    listing = backup_jobs.list_snapshots(request.ctx)
    listing["last_drill"] = backup_jobs.last_drill(request.ctx)
    return listing


def job_number(text: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise NotFound(_("备份任务不存在"))
    return int(text)


@view_config(
    route_name="api.backups.job", request_method="GET", renderer="json", permission="backup.status"
)
def job(request: Request) -> dict[str, Any]:
    record = backup_jobs.get_job(request.ctx, job_number(request.matchdict["job"]))
    return backup_jobs.public_view(record, request.ctx.now())
