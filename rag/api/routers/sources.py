"""/v1/sources: admins register, list, pause, re-index and remove document folders."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from rag import jobs
from rag.api.deps import AdminKey, ServiceDep
from rag.api.routers.jobs import JobOut
from rag.db.models import Document, Source
from rag.db.session import transaction

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


def _out(session, source: Source) -> SourceOut:
    documents, chunks = session.execute(
        select(func.count(), func.coalesce(func.sum(Document.chunk_count), 0)).where(
            Document.source_id == source.id, Document.status == "indexed"
        )
    ).one()
    return SourceOut(
        id=source.id,
        name=source.name,
        path=source.path,
        groups=source.groups,
        status=source.status,
        managed=source.managed,
        scan_interval_s=source.scan_interval_s,
        last_scan_at=jobs.as_utc(source.last_scan_at),
        error=source.error,
        documents=documents,
        chunks=chunks,
    )


def _get(session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise HTTPException(404, f"no source with id {source_id}")
    return source


@router.get("", response_model=list[SourceOut], summary="List sources")
def list_sources(service: ServiceDep, _: AdminKey) -> list[SourceOut]:
    with service.session_factory() as session:
        return [_out(session, s) for s in session.scalars(select(Source).order_by(Source.id))]


@router.post(
    "", response_model=SourceCreated, status_code=status.HTTP_201_CREATED, summary="Add a source"
)
def add_source(body: SourceIn, service: ServiceDep, _: AdminKey) -> SourceCreated:
    from ingest.sources import SourceError, add_source, validate_folder

    try:
        folder = validate_folder(body.path, service.settings.ingest.allowed_roots)
        with transaction(service.session_factory) as session:
            source = add_source(
                session,
                folder,
                name=body.name,
                groups=body.groups,
                scan_interval_s=body.scan_interval_s,
            )
            job = jobs.enqueue(session, "scan", source_id=source.id) if body.scan else None
            created = SourceCreated(
                source=_out(session, source), job=JobOut(**jobs.job_as_dict(job)) if job else None
            )
    except SourceError as exc:
        raise HTTPException(400, str(exc)) from exc
    return created


@router.get("/{source_id}", response_model=SourceOut, summary="One source")
def get_source(source_id: int, service: ServiceDep, _: AdminKey) -> SourceOut:
    with service.session_factory() as session:
        return _out(session, _get(session, source_id))


@router.patch("/{source_id}", response_model=SourceOut, summary="Pause, resume, set interval")
def change_source(source_id: int, body: SourcePatch, service: ServiceDep, _: AdminKey) -> SourceOut:
    with transaction(service.session_factory) as session:
        source = _get(session, source_id)
        if body.status:
            source.status, source.error = body.status, None
        if "scan_interval_s" in body.model_fields_set:
            source.scan_interval_s = body.scan_interval_s
        session.flush()
        return _out(session, source)


@router.post(
    "/{source_id}/reindex",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Scan a source now (only what changed is processed)",
)
def reindex(source_id: int, service: ServiceDep, _: AdminKey) -> JobOut:
    with transaction(service.session_factory) as session:
        source = _get(session, source_id)
        if source.status == "paused":
            raise HTTPException(409, f"source '{source.name}' is paused; resume it first")
        return JobOut(**jobs.job_as_dict(jobs.enqueue(session, "scan", source_id=source.id)))


@router.delete(
    "/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a source and everything indexed from it (files are not touched)",
)
def remove_source(source_id: int, service: ServiceDep, _: AdminKey) -> None:
    from ingest.sources import remove_source

    with transaction(service.session_factory) as session:
        remove_source(session, _get(session, source_id))
