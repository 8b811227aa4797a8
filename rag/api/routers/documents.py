"""/v1/documents: what is indexed (each caller sees only what its groups allow), the original
files, uploads into the managed uploads source, and removal."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from rag import jobs
from rag.access import SYSTEM, Caller, document_visible
from rag.api.deps import AdminKey, ReaderKey, ServiceDep
from rag.api.routers.jobs import JobOut
from rag.db.models import Document, Source
from rag.db.session import transaction

router = APIRouter(prefix="/v1/documents", tags=["documents"])

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html",
    "htm": "text/html",
    "md": "text/markdown",
    "txt": "text/plain",
}


class DocumentOut(BaseModel):
    id: int
    source_id: int
    path: str = Field(description="Relative to its source folder, names anonymized.")
    title: str
    format: str
    status: str = Field(description="queued, indexed, failed, skipped or deleted")
    pages: int
    chunk_count: int
    groups: list[str]
    pii_counts: dict[str, int] = Field(description="Personal data found, per type (no values).")
    error: str | None


class DocumentGroups(BaseModel):
    groups: list[str] = Field(description="Access groups; empty: every key may see it.")


class UploadAccepted(BaseModel):
    document: DocumentOut
    job: JobOut


def _out(doc: Document) -> DocumentOut:
    return DocumentOut(
        id=doc.id,
        source_id=doc.source_id,
        path=doc.path,
        title=doc.title,
        format=doc.format,
        status=doc.status,
        pages=doc.pages,
        chunk_count=doc.chunk_count,
        groups=doc.groups,
        pii_counts=doc.pii_counts or {},
        error=doc.error,
    )


def _visible(session, document_id: int, caller: Caller) -> Document:
    """The document, or 404 whether it is missing or hidden: a caller cannot tell which."""
    doc = session.scalar(
        select(Document).where(Document.id == document_id, document_visible(caller))
    )
    if doc is None or doc.status == "deleted":
        raise HTTPException(404, f"no document with id {document_id}")
    return doc


@router.get("", response_model=list[DocumentOut], summary="Documents the caller may see")
def list_documents(
    service: ServiceDep,
    key: ReaderKey,
    source_id: int | None = None,
    status_filter: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[DocumentOut]:
    query = (
        select(Document)
        .where(document_visible(Caller.from_key(key)), Document.status != "deleted")
        .order_by(Document.id)
        .limit(max(1, min(limit, 10_000)))
        .offset(max(0, offset))
    )
    if source_id is not None:
        query = query.where(Document.source_id == source_id)
    if status_filter:
        query = query.where(Document.status == status_filter)
    with service.session_factory() as session:
        return [_out(doc) for doc in session.scalars(query)]


@router.get("/{document_id}", response_model=DocumentOut, summary="One document")
def get_document(document_id: int, service: ServiceDep, key: ReaderKey) -> DocumentOut:
    with service.session_factory() as session:
        return _out(_visible(session, document_id, Caller.from_key(key)))


@router.get(
    "/{document_id}/file",
    response_class=FileResponse,
    summary="The original file (a PDF opens at #page=N in a browser)",
)
def get_file(document_id: int, service: ServiceDep, key: ReaderKey) -> FileResponse:
    with service.session_factory() as session:
        doc = _visible(session, document_id, Caller.from_key(key))
        root = Path(session.get(Source, doc.source_id).path).resolve()
    raw = service.path_vault.open(doc.path_encrypted)
    path = (root / (raw or "")).resolve()
    if raw is None or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "the original file is not available any more")
    media_type = MEDIA_TYPES.get(doc.format, "application/octet-stream")
    # inline: the browser shows it (and honours #page=N) instead of downloading it.
    return FileResponse(path, media_type=media_type, content_disposition_type="inline",
                        filename=Path(doc.path).name)  # fmt: skip


@router.patch("/{document_id}", response_model=DocumentOut, summary="Set a document's groups")
def set_groups(
    document_id: int, body: DocumentGroups, service: ServiceDep, _: AdminKey
) -> DocumentOut:
    with transaction(service.session_factory) as session:
        doc = _visible(session, document_id, SYSTEM)
        doc.groups = sorted(set(body.groups))
        return _out(doc)


@router.post(
    "",
    response_model=UploadAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Upload a file; the worker indexes it",
)
def upload(
    service: ServiceDep,
    _: AdminKey,
    file: UploadFile = File(description="PDF, Word, HTML, Markdown or text."),
    groups: str = Form(default="", description="Comma-separated access groups."),
) -> UploadAccepted:
    from ingest.loaders import SUPPORTED_EXTENSIONS
    from ingest.sources import upload_source

    name = Path(file.filename or "").name.strip()
    suffix = Path(name).suffix.lower()
    if not name or suffix not in SUPPORTED_EXTENSIONS:
        raise HTTPException(
            400,
            f"unsupported file type '{suffix or name or '(no name)'}'; "
            f"supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))}",
        )
    # An upload over the per-file ingest limit would only fail later, in the worker.
    limit_mb = min(service.settings.api.max_upload_mb, service.settings.ingest.max_file_mb)
    relative = f"{uuid.uuid4().hex[:12]}/{name}"
    target = service.settings.upload_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _save(file, target, int(limit_mb * 1024 * 1024))
    except _TooLarge as exc:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise HTTPException(413, f"file is larger than the {limit_mb:g} MB upload limit") from exc
    group_list = sorted({g.strip() for g in groups.split(",") if g.strip()})
    from ingest.path_names import anonymize_path

    shown = anonymize_path(service.anonymizer, relative)
    with transaction(service.session_factory) as session:
        source = upload_source(session, service.settings.upload_dir)
        doc = Document(
            source_id=source.id,
            path=shown,
            path_hash=service.path_vault.digest(relative),
            path_encrypted=service.path_vault.seal(relative),
            sha256="",
            format=suffix.lstrip("."),
            title=Path(shown).name,
            status="queued",
            groups=group_list,
        )
        session.add(doc)
        session.flush()
        job = jobs.enqueue(session, "scan", source_id=source.id)
        return UploadAccepted(document=_out(doc), job=JobOut(**jobs.job_as_dict(job)))


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an uploaded document (folder documents: remove the file from its folder)",
)
def delete_document(document_id: int, service: ServiceDep, _: AdminKey) -> None:
    with service.session_factory() as session:
        doc = _visible(session, document_id, SYSTEM)
        source = session.get(Source, doc.source_id)
    if not source.managed:
        raise HTTPException(
            409,
            f"document {document_id} comes from the folder of source '{source.name}': remove "
            "the file there (the next scan drops it) or remove the source",
        )
    service.pipeline.remove_document(document_id)
    raw = service.path_vault.open(doc.path_encrypted)
    uploaded = (Path(source.path) / (raw or "")).resolve()
    if raw and uploaded.is_relative_to(Path(source.path).resolve()):
        shutil.rmtree(uploaded.parent, ignore_errors=True)


class _TooLarge(Exception):
    pass


def _save(upload: UploadFile, target: Path, limit_bytes: int) -> None:
    written = 0
    with target.open("wb") as out:
        while block := upload.file.read(1 << 20):
            written += len(block)
            if written > limit_bytes:
                raise _TooLarge
            out.write(block)
