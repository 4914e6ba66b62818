"""The backup operator's page: start an export or a verification, watch the job, see the
snapshots, the last restore drill, the schedule and retention, and every run's outcome.

Forms queue a job exactly as ``POST /api/v1/backups`` does (:func:`.backup_api.queue_job`)
and come back to the page, which refreshes itself every few seconds while a job is queued
or running (a meta refresh: the pages use no scripts).  Admins see the page without its
forms.  Restore is not here on purpose: it replaces the databases, so it runs from the
command line on a stopped registry (the page says so).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config

from certarchive.backup.keys import default_key_path
from certarchive.i18n import _
from certarchive.services import backup_jobs
from certarchive.services.errors import NotFound
from certarchive.views.backup_api import queue_job

STARTS = {"export-full": ("export", False), "export-incremental": ("export", True)}
STARTS |= {"verify": ("verify", None), "drill": ("drill", None)}


def backups_page(request: Request) -> dict[str, Any]:
    ctx = request.ctx
    now = ctx.now()
    settings = ctx.runtime.settings
    jobs = [backup_jobs.public_view(r, now) for r in backup_jobs.recent_jobs(ctx, 15)]
    permissions = ctx.actor.permissions
    return {
        "listing": backup_jobs.list_snapshots(ctx),
        "jobs": jobs,
        "active": next((j for j in jobs if j["state"] == "running"), None),
        "alarm": backup_jobs.failure_alarm(ctx),
        "drill": backup_jobs.last_drill(ctx),
        "schedule": settings.backups.schedule.describe() if settings.backups.schedule else None,
        "keep": " ".join(f"{k}={v}" for k, v in settings.backups.keep.items()),
        "copy_to": str(settings.backups.copy_to) if settings.backups.copy_to else None,
        "key_path": str(default_key_path(settings.keys_dir)),
        "can_export": "backup.export" in permissions,
        "can_verify": "backup.verify" in permissions,
        "started": request.params.get("job"),
    }


@view_config(
    route_name="staff.backups",
    request_method="GET",
    renderer="backups.jinja2",
    permission="backup.status",
)
def backups(request: Request) -> dict[str, Any]:
    return backups_page(request)


@view_config(route_name="staff.backups.start", request_method="POST", permission="backup.verify")
def start(request: Request) -> Response:
    if request.matchdict["kind"] not in STARTS:
        raise NotFound(_("未找到"))
    kind, incremental = STARTS[request.matchdict["kind"]]
    record = queue_job(request, kind, incremental)
    return HTTPFound(location=request.route_path("staff.backups", _query={"job": record["id"]}))
