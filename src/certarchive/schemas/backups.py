"""The backup API's bodies and answers (CONTRACT.md "Operating a running registry"),
declared once for /api/openapi.json and for the tests that validate real answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from certarchive.schemas.answers import Answer, Open


def _time(description: str | None = None) -> Any:
    """An optional ISO 8601 time."""
    return Field(default=None, json_schema_extra={"format": "date-time"}, description=description)


class BackupStart(BaseModel):
    """Start an export: full unless ``incremental``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    incremental: bool = Field(default=False, strict=True)


class BackupStarted(Answer):
    job: int = Field(description="watch it at /api/v1/backups/jobs/{job}")


class BackupProgress(Open):
    phase: str | None = Field(
        default=None, examples=["queued", "export", "prune", "copy", "verify copy", "finished"]
    )
    bytes: int | None = Field(default=None, description="plaintext stream bytes written so far")
    databases: dict[str, int] | None = None
    expected_bytes: int | None = Field(
        default=None, description="a full export's estimate: what the previous full one wrote"
    )


class BackupJob(Open):
    """A job's state; an interrupted job is failed with ``interrupted``."""

    id: int
    kind: Literal["export", "verify", "drill"]
    state: Literal["running", "done", "failed"]
    progress: BackupProgress
    snapshot: str | None = Field(default=None, description="the snapshot written (export)")
    error: str | None = Field(
        default=None, description="in the request's language (Accept-Language or the lang cookie)"
    )
    interrupted: bool = False
    incremental: bool | None = Field(default=None, description="null: scheduled (auto)")
    trigger: Literal["web", "api", "schedule"] | None = None
    requested_at: str | None = _time()
    started_at: str | None = _time()
    finished_at: str | None = _time()
    steps: list[str] = Field(default_factory=list)


class Snapshot(Open):
    id: str = Field(examples=["000042-20261120T020000Z"])
    sequence: int | None = None
    kind: Literal["full", "incremental"] | None
    created_at: str | None = _time()
    bytes: int | None = Field(description="chunk bytes it added")
    verified_at: str | None = _time("last verification that passed it")
    unreadable: bool = False


class BackupListing(Answer):
    repository: str
    snapshots: list[Snapshot] = Field(description="newest first")
    last_drill: dict[str, Any] | None = None


MODELS = (BackupStart, BackupStarted, BackupJob, BackupListing)
