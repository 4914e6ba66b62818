"""The backup operators' part of the OpenAPI document: ``/api/v1/backups…`` (CONTRACT.md
"Operating a running registry").  Self-contained (plain schemas, references only to the
document's shared error responses) so that :mod:`.openapi` merges it with one line.
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"
SECURITY = [{"bearerKey": []}, {"staffSession": []}]
TAG = "backups"


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


_REFUSED = {"401": _error("Unauthorized"), "403": _error("Forbidden")}
_STARTED = {
    "202": _json(
        {"type": "object", "required": ["job"], "properties": {"job": {"type": "integer"}}},
        "queued: watch it at /api/v1/backups/jobs/{job}",
    ),
    "400": _error("BadRequest"),
    "409": _error("Conflict"),
    **_REFUSED,
}
_PROGRESS = {
    "type": "object",
    "properties": {
        "phase": {
            "type": "string",
            "examples": ["queued", "export", "prune", "copy", "verify copy", "finished"],
        },
        "bytes": {"type": "integer", "description": "plaintext stream bytes written so far"},
        "databases": {"type": "object", "additionalProperties": {"type": "integer"}},
        "expected_bytes": {
            "type": "integer",
            "description": "a full export's estimate: what the previous full snapshot wrote",
        },
    },
}
_JOB = {
    "type": "object",
    "required": ["state", "progress"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": ["export", "verify", "drill"]},
        "state": {
            "enum": ["running", "done", "failed"],
            "description": "running includes queued; an interrupted job is failed",
        },
        "progress": _PROGRESS,
        "snapshot": {"type": "string", "description": "the snapshot written (export, done)"},
        "error": {"type": "string", "description": "中文 / English"},
        "interrupted": {"type": "boolean", "description": "the server stopped while it ran"},
        "incremental": {"type": ["boolean", "null"], "description": "null: scheduled (auto)"},
        "trigger": {"enum": ["web", "api", "schedule"]},
        "requested_at": {"type": "string", "format": "date-time"},
        "started_at": {"type": ["string", "null"]},
        "finished_at": {"type": ["string", "null"]},
        "steps": {"type": "array", "items": {"type": "string"}},
    },
}
_SNAPSHOT = {
    "type": "object",
    "required": ["id", "kind", "created_at", "bytes"],
    "properties": {
        "id": {"type": "string", "examples": ["000042-20261120T020000Z"]},
        "sequence": {"type": "integer"},
        "kind": {"enum": ["full", "incremental", None]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "bytes": {"type": ["integer", "null"], "description": "chunk bytes it added"},
        "verified_at": {"type": "string", "description": "last verification that passed it"},
        "unreadable": {"type": "boolean"},
    },
}
_LISTING = {
    "type": "object",
    "required": ["repository", "snapshots"],
    "properties": {
        "repository": {"type": "string"},
        "snapshots": {"type": "array", "items": _SNAPSHOT, "description": "newest first"},
        "last_drill": {"type": ["object", "null"]},
    },
}
_START_BODY = {
    "required": False,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "properties": {"incremental": {"type": "boolean", "default": False}},
            }
        }
    },
}


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
            "responses": {"200": _json(_LISTING, "OK"), **_REFUSED},
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
            "responses": {"200": _json(_JOB, "OK"), "404": _error("NotFound"), **_REFUSED},
        }
    },
}
