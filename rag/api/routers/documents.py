"""/v1/documents: what is indexed (each caller sees only what its groups allow), the original
files, uploads into the managed uploads source, and removal."""

from __future__ import annotations

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

from rag.access import Caller
from rag.api.deps import AdminKey, ReaderKey, ServiceDep, get_api_key, get_rate_limited_key
from rag.api.originals import TICKET_TTL_S, TicketSigner, check_allowed, delivery
from rag.api.routers.jobs import JobOut
from rag.api.routers.web import ChatKey
from rag.service import RagService
from rag.use_cases.documents import (
    DocumentNotFound,
    DocumentView,
    FolderDocument,
    OriginalUnavailable,
    UnsupportedUpload,
    UploadTooLarge,
)

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


def _out(doc: DocumentView) -> DocumentOut:
    # The view's fields by name; raw_path (admins, on request) is not one of the response's.
    return DocumentOut.model_validate(doc, from_attributes=True)


def get_ticket_signer(request: Request, service: RagService) -> TicketSigner:
    signer = getattr(request.app.state, "ticket_signer", None)
    if signer is None:
        signer = TicketSigner(service.secret())
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
        key = service.keys.active(key_id)
        if key is None:
            raise HTTPException(401, "the key this file link was made for is revoked")
    return Caller.from_key(get_rate_limited_key(request, key))


FileCaller = Annotated[Caller, Depends(file_caller)]


def _not_found(exc: LookupError) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("", response_model=list[DocumentOut], summary="Documents the caller may see")
def list_documents(
    service: ServiceDep,
    key: ReaderKey,
    source_id: int | None = None,
    status_filter: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[DocumentOut]:
    documents = service.documents.list(
        Caller.from_key(key),
        source_id=source_id,
        status=status_filter,
        limit=max(1, min(limit, 10_000)),
        offset=max(0, offset),
    )
    return [_out(doc) for doc in documents]


@router.get("/{document_id}", response_model=DocumentOut, summary="One document")
def get_document(document_id: int, service: ServiceDep, key: ReaderKey) -> DocumentOut:
    try:
        return _out(service.documents.get(document_id, Caller.from_key(key)))
    except DocumentNotFound as exc:
        raise _not_found(exc) from exc


@router.get(
    "/{document_id}/file",
    response_class=FileResponse,
    summary="The original file: PDFs and text shown (a PDF at #page=N), the rest downloaded",
)
def get_file(document_id: int, service: ServiceDep, caller: FileCaller) -> FileResponse:
    """With a key, or with the ticket of a file link. Who may download is `api.originals`;
    only inert types are shown inline, anything else is an attachment (docs/security.md)."""
    check_allowed(service.settings.api.originals, caller)
    try:
        original = service.documents.original_file(document_id, caller)
    except (DocumentNotFound, OriginalUnavailable) as exc:
        raise _not_found(exc) from exc
    how = delivery(original.format)
    return FileResponse(
        original.path,
        media_type=how.media_type,
        headers=how.headers,
        content_disposition_type=how.disposition,
        filename=original.name,
    )


@router.post(
    "/{document_id}/file-link",
    response_model=FileLink,
    summary="A short-lived link to the original file, for a browser that cannot send a key",
)
def file_link(document_id: int, request: Request, service: ServiceDep, key: ChatKey) -> FileLink:
    caller = Caller.from_key(key)
    check_allowed(service.settings.api.originals, caller)
    try:
        doc = service.documents.get(document_id, caller)
    except DocumentNotFound as exc:
        raise _not_found(exc) from exc
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
    try:
        return _out(service.documents.set_groups(document_id, body.groups))
    except DocumentNotFound as exc:
        raise _not_found(exc) from exc


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
    group_list = [g.strip() for g in groups.split(",") if g.strip()]
    try:
        doc, job = service.documents.upload(file.filename or "", file.file, group_list)
    except UnsupportedUpload as exc:
        raise HTTPException(400, str(exc)) from exc
    except UploadTooLarge as exc:
        raise HTTPException(413, str(exc)) from exc
    return UploadAccepted(document=_out(doc), job=JobOut(**job))


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an uploaded document (folder documents: remove the file from its folder)",
)
def delete_document(document_id: int, service: ServiceDep, _: AdminKey) -> None:
    try:
        service.documents.delete(document_id)
    except DocumentNotFound as exc:
        raise _not_found(exc) from exc
    except FolderDocument as exc:
        raise HTTPException(409, str(exc)) from exc
