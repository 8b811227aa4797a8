"""/v1/documents: what is indexed (each caller sees only what its groups allow), the original
files, uploads into the managed uploads source, and removal."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import select

from rag import jobs
from rag.access import SYSTEM, Caller, document_visible
from rag.api.deps import AdminKey, ReaderKey, ServiceDep, get_api_key, get_rate_limited_key
from rag.api.originals import TICKET_TTL_S, TicketSigner, check_allowed, delivery
from rag.api.routers.jobs import JobOut
from rag.api.routers.web import ChatKey
from rag.db.models import ApiKey, Document, Source
from rag.db.session import transaction
from rag.privacy.secret import load_or_create_secret
from rag.private_files import FILE_MODE, private_folder
from rag.service import RagService

router = APIRouter(prefix="/v1/documents", tags=["documents"])
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rag_…`")


class FileLink(BaseModel):
    url: str = Field(description="The file's URL with a ticket; no key needed, valid briefly.")
    inline: bool = Field(description="true: the browser shows it (PDF, text); false: download.")
    expires_in_s: int


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


def get_ticket_signer(request: Request, service: RagService) -> TicketSigner:
    signer = getattr(request.app.state, "ticket_signer", None)
    if signer is None:
        settings = service.settings
        secret = load_or_create_secret(settings.anonymize.secret_key, settings.data_dir)
        signer = TicketSigner(secret)
        request.app.state.ticket_signer = signer
    return signer


def file_caller(
    document_id: int,
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(description="From POST .../file-link.")] = None,
) -> Caller:
    """The caller of a file request: its Bearer key, or the key a valid ticket was issued to
    (still unrevoked). Either counts against the key's rate limit."""
    if ticket is None:
        key = get_api_key(service, credentials)
    else:
        key_id = get_ticket_signer(request, service).verify(ticket, document_id)
        with service.session_factory() as session:
            key = session.get(ApiKey, key_id)
        if key is None or key.revoked:
            raise HTTPException(401, "the key this file link was made for is revoked")
    return Caller.from_key(get_rate_limited_key(request, key))


FileCaller = Annotated[Caller, Depends(file_caller)]


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
    summary="The original file: PDFs and text shown (a PDF at #page=N), the rest downloaded",
)
def get_file(document_id: int, service: ServiceDep, caller: FileCaller) -> FileResponse:
    """With a key, or with the ticket of a file link. Who may download is `api.originals`;
    only inert types are shown inline, anything else is an attachment (docs/security.md)."""
    check_allowed(service.settings.api.originals, caller)
    with service.session_factory() as session:
        doc = _visible(session, document_id, caller)
        root = Path(session.get(Source, doc.source_id).path).resolve()
    raw = service.path_vault.open(doc.path_encrypted)
    path = (root / (raw or "")).resolve()
    if raw is None or not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404, "the original file is not available any more")
    how = delivery(doc.format)
    return FileResponse(
        path,
        media_type=how.media_type,
        headers=how.headers,
        content_disposition_type=how.disposition,
        filename=Path(doc.path).name,  # anonymized: the raw name may be a person's
    )


@router.post(
    "/{document_id}/file-link",
    response_model=FileLink,
    summary="A short-lived link to the original file, for a browser that cannot send a key",
)
def file_link(document_id: int, request: Request, service: ServiceDep, key: ChatKey) -> FileLink:
    caller = Caller.from_key(key)
    check_allowed(service.settings.api.originals, caller)
    with service.session_factory() as session:
        doc = _visible(session, document_id, caller)
    ticket = get_ticket_signer(request, service).issue(key.id, document_id)
    return FileLink(
        url=f"/v1/documents/{document_id}/file?ticket={ticket}",
        inline=delivery(doc.format).inline,
        expires_in_s=TICKET_TTL_S,
    )


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
    private_folder(service.settings.upload_dir)
    private_folder(target.parent)
    try:
        _save(file, target, int(limit_mb * 1024 * 1024))
    except _TooLarge as exc:
        _remove_upload(service.settings.upload_dir, relative)
        raise HTTPException(413, f"file is larger than the {limit_mb:g} MB upload limit") from exc
    group_list = sorted({g.strip() for g in groups.split(",") if g.strip()})
    # A scan that runs now leaves the file alone: in the uploads folder only a row made here,
    # with the upload's groups, makes a file indexable (ingest.scan.plan_scan, adopt_new).
    try:
        return _commit_upload(service, relative, name, suffix, group_list)
    except BaseException:
        _remove_upload(service.settings.upload_dir, relative)
        raise


def _commit_upload(
    service: RagService, relative: str, name: str, suffix: str, group_list: list[str]
) -> UploadAccepted:
    from ingest.sources import upload_source
    from rag.privacy.path_names import anonymize_path

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
    if raw:
        _remove_upload(Path(source.path), raw)


def _remove_upload(upload_dir: Path, relative: str) -> None:
    """The uploaded file and its own folder, never the uploads folder or anything outside it."""
    root = upload_dir.resolve()
    uploaded = root / relative
    if not uploaded.resolve().is_relative_to(root) or uploaded.resolve() == root:
        return
    uploaded.unlink(missing_ok=True)
    folder = uploaded.parent
    if folder.resolve() != root and folder.resolve().is_relative_to(root):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty


class _TooLarge(Exception):
    pass


def _save(upload: UploadFile, target: Path, limit_bytes: int) -> None:
    written = 0
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
        while block := upload.file.read(1 << 20):
            written += len(block)
            if written > limit_bytes:
                raise _TooLarge
            out.write(block)
