"""/v1/jobs: indexing jobs with their progress; admins may cancel one."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from rag.api.deps import AdminKey, ServiceDep
from rag.jobs import JobNotFound

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
STATUS_PATTERN = "^(queued|running|succeeded|failed|cancelled)$"


class FileError(BaseModel):
    path: str = Field(description="The file, its folder and file names anonymized.")
    reason: str
    document_id: int | None = None
    raw_path: str | None = Field(
        default=None, description="The path as it is on disk; only with reveal_paths=true."
    )


class JobOut(BaseModel):
    id: int
    kind: str = Field(description="scan, reembed or reprocess")
    source_id: int | None
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    done: int = Field(description="Files done.")
    total: int = Field(description="Files to do.")
    chunks_written: int
    current: str | None = Field(description="The file being read now.")
    errors: list[FileError] = Field(description="Files that failed; the job went on.")
    error: str | None = Field(description="Why the job itself failed.")
    attempts: int
    cancel_requested: bool
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


@router.get("", response_model=list[JobOut], summary="Recent jobs, newest first")
def list_jobs(
    service: ServiceDep,
    _: AdminKey,
    limit: int = Query(default=50, ge=1, le=500),
    status: str | None = Query(default=None, pattern=STATUS_PATTERN),
) -> list[JobOut]:
    return [JobOut(**job) for job in service.jobs.list(limit, status)]


@router.get("/{job_id}", response_model=JobOut, summary="One job and its progress")
def get_job(
    job_id: int,
    service: ServiceDep,
    _: AdminKey,
    reveal_paths: bool = Query(
        default=False, description="Add each failed file's path as it is on disk (raw_path)."
    ),
) -> JobOut:
    try:
        return JobOut(**service.jobs.get(job_id, reveal_paths=reveal_paths))
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/{job_id}/cancel", response_model=JobOut, summary="Cancel a job")
def cancel_job(job_id: int, service: ServiceDep, _: AdminKey) -> JobOut:
    """A queued job is cancelled at once; a running one stops after its current file."""
    try:
        return JobOut(**service.jobs.cancel(job_id))
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
