"""The backup operators' part of the OpenAPI document: ``/api/v1/backups…`` (CONTRACT.md
"Operating a running registry").  Its bodies and answers are the models of
:mod:`certarchive.schemas.backups`; :mod:`.openapi` merges the paths and adds the models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from certarchive.schemas.backups import (
    MODELS,
    BackupJob,
    BackupListing,
    BackupStart,
    BackupStarted,
)

__all__ = ["BACKUP_PATHS", "MODELS"]

JSON = "application/json"
SECURITY = [{"bearerKey": []}, {"staffSession": []}]
TAG = "backups"


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _model(model: type[BaseModel]) -> dict[str, str]:
    """A reference to a model of :mod:`certarchive.schemas.backups`, whose schemas
    :mod:`.openapi` adds to the components (:data:`MODELS`)."""
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_REFUSED = {"401": _error("Unauthorized"), "403": _error("Forbidden")}
_STARTED = {
    "202": _json(_model(BackupStarted), "queued: watch it at /api/v1/backups/jobs/{job}"),
    "400": _error("BadRequest"),
    "409": _error("Conflict"),
    **_REFUSED,
}
_START_BODY = {"required": False, "content": {JSON: {"schema": _model(BackupStart)}}}


def _start(summary: str, description: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": [TAG],
        "security": SECURITY,
        "description": description,
        "responses": {**_STARTED, "422": _error("Invalid")} if body else _STARTED,
    }
    if body:
        op["requestBody"] = body
    return op


BACKUP_PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/backups": {
        "post": _start(
            "开始导出 / start an export",
            "Backup operators (session) or scope backups:run. One job at a time (409 while "
            "one is queued or running). The server runs it in the background: the caller "
            "may go away.",
            _START_BODY,
        ),
        "get": {
            "summary": "快照列表 / snapshots with sizes and last verification",
            "tags": [TAG],
            "security": SECURITY,
            "responses": {"200": _json(_model(BackupListing), "OK"), **_REFUSED},
        },
    },
    "/api/v1/backups/verify": {
        "post": _start(
            "校验全部快照 / start a verification of the whole repository",
            "Reads and decrypts every chunk (`backup verify`); passed snapshots get verified_at.",
        )
    },
    "/api/v1/backups/drill": {
        "post": _start(
            "恢复演练 / start a restore drill",
            "Restores the newest snapshot into a temporary folder and compares it with the "
            "live registry (`backup drill`); the result is last_drill in GET /api/v1/backups.",
        )
    },
    "/api/v1/backups/jobs/{job}": {
        "get": {
            "summary": "任务状态 / a backup job's state and progress",
            "tags": [TAG],
            "security": SECURITY,
            "parameters": [
                {"name": "job", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": _json(_model(BackupJob), "OK"),
                "404": _error("NotFound"),
                **_REFUSED,
            },
        }
    },
}
