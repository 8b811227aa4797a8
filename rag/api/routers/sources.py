"""/v1/sources: admins register, list, pause, re-index and remove document folders."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from ingest.sources import SourceError, SourceNotFound
from rag.api.deps import AdminKey, ServiceDep
from rag.api.routers.jobs import JobOut
from rag.use_cases.sources import SourcePaused

router = APIRouter(prefix="/v1/sources", tags=["sources"])


class SourceIn(BaseModel):
    path: str = Field(min_length=1, description="A folder below one of ingest.allowed_roots.")
    name: str | None = Field(default=None, max_length=200, description="Default: folder name.")
    groups: list[str] = Field(default_factory=list, description="Access groups of its documents.")
    scan_interval_s: int | None = Field(default=None, ge=60, description="Re-scan period.")
    scan: bool = Field(default=True, description="Queue a first scan now.")


class SourcePatch(BaseModel):
    status: str | None = Field(default=None, pattern="^(active|paused)$")
    scan_interval_s: int | None = Field(default=None, ge=60)


class SourceOut(BaseModel):
    id: int
    name: str
    path: str
    groups: list[str]
    status: str = Field(description="active, paused, or unavailable (folder gone; docs kept)")
    managed: bool = Field(description="The uploads source the service manages itself.")
    scan_interval_s: int | None
    last_scan_at: datetime | None
    error: str | None
    documents: int = Field(description="Indexed documents.")
    chunks: int


class SourceCreated(BaseModel):
    source: SourceOut
    job: JobOut | None


def _not_found(exc: SourceNotFound) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("", response_model=list[SourceOut], summary="List sources")
def list_sources(service: ServiceDep, _: AdminKey) -> list[SourceOut]:
    return [SourceOut(**asdict(s)) for s in service.sources.list()]


@router.post(
    "", response_model=SourceCreated, status_code=status.HTTP_201_CREATED, summary="Add a source"
)
def add_source(body: SourceIn, service: ServiceDep, _: AdminKey) -> SourceCreated:
    try:
        source, job = service.sources.add(
            body.path,
            name=body.name,
            groups=body.groups,
            scan_interval_s=body.scan_interval_s,
            scan=body.scan,
        )
    except SourceError as exc:
        raise HTTPException(400, str(exc)) from exc
    return SourceCreated(source=SourceOut(**asdict(source)), job=JobOut(**job) if job else None)


@router.get("/{source_id}", response_model=SourceOut, summary="One source")
def get_source(source_id: int, service: ServiceDep, _: AdminKey) -> SourceOut:
    try:
        return SourceOut(**asdict(service.sources.get(source_id)))
    except SourceNotFound as exc:
        raise _not_found(exc) from exc


@router.patch("/{source_id}", response_model=SourceOut, summary="Pause, resume, set interval")
def change_source(source_id: int, body: SourcePatch, service: ServiceDep, _: AdminKey) -> SourceOut:
    interval = (
        {"scan_interval_s": body.scan_interval_s}
        if "scan_interval_s" in body.model_fields_set
        else {}
    )
    try:
        return SourceOut(
            **asdict(service.sources.change(source_id, status=body.status, **interval))
        )
    except SourceNotFound as exc:
        raise _not_found(exc) from exc


@router.post(
    "/{source_id}/reindex",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Scan a source now (only what changed is processed)",
)
def reindex(source_id: int, service: ServiceDep, _: AdminKey) -> JobOut:
    try:
        return JobOut(**service.sources.queue_scan(source_id))
    except SourceNotFound as exc:
        raise _not_found(exc) from exc
    except SourcePaused as exc:
        raise HTTPException(409, str(exc)) from exc


@router.delete(
    "/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a source and everything indexed from it (files are not touched)",
)
def remove_source(source_id: int, service: ServiceDep, _: AdminKey) -> None:
    try:
        service.sources.remove(source_id)
    except SourceNotFound as exc:
        raise _not_found(exc) from exc
