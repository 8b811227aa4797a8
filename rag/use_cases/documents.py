"""Documents: list for a caller, read one, its original file, upload into the managed uploads
source, set groups, delete (for the API and the CLI). A caller sees only what its groups allow;
a document it may not see is reported missing, so it cannot tell which."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.pipeline import IngestPipeline
from rag import jobs
from rag.access import SYSTEM, Caller, document_visible
from rag.config import Settings
from rag.db.models import Document, Source
from rag.db.session import transaction
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.path_vault import PathVault
from rag.private_files import FILE_MODE, private_folder


class DocumentNotFound(LookupError):
    pass


class OriginalUnavailable(LookupError):
    pass


class UnsupportedUpload(ValueError):
    pass


class UploadTooLarge(ValueError):
    pass


class FolderDocument(RuntimeError):
    """Only uploads are deleted here; a folder's document goes with its file."""


@dataclass(frozen=True)
class DocumentView:
    id: int
    source_id: int
    path: str  # relative to its source folder, names anonymized
    title: str
    format: str
    status: str
    pages: int
    chunk_count: int
    groups: list[str]
    pii_counts: dict[str, int]  # per type, never values
    error: str | None
    raw_path: str | None = None  # as on disk: only when asked for (admins)


@dataclass(frozen=True)
class OriginalFile:
    path: Path  # on disk, inside its source folder
    format: str
    name: str  # anonymized: the raw name may be a person's


class Documents:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        *,
        vault: Callable[[], PathVault],
        anonymizer: Callable[[], Anonymizer],
        pipeline: Callable[[], IngestPipeline],
    ) -> None:
        self._sessions = session_factory
        self._settings = settings
        self._vault = vault
        self._anonymizer = anonymizer
        self._pipeline = pipeline

    def list(
        self,
        caller: Caller,
        *,
        source_id: int | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
        by_path: bool = False,
        reveal_paths: bool = False,
    ) -> list[DocumentView]:
        """The documents `caller` may see, by id (`by_path`: by source, then path);
        `reveal_paths` adds each one's raw path."""
        query = select(Document).where(document_visible(caller))
        if not include_deleted:
            query = query.where(Document.status != "deleted")
        if source_id is not None:
            query = query.where(Document.source_id == source_id)
        if status:
            query = query.where(Document.status == status)
        order = (Document.source_id, Document.path) if by_path else (Document.id,)
        query = query.order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self._sessions() as session:
            rows = list(session.scalars(query))
        vault = self._vault() if reveal_paths else None
        return [_view(doc, vault.open(doc.path_encrypted) if vault else None) for doc in rows]

    def get(self, document_id: int, caller: Caller) -> DocumentView:
        """One document `caller` may see (DocumentNotFound)."""
        with self._sessions() as session:
            return _view(_visible(session, document_id, caller))

    def original_file(self, document_id: int, caller: Caller) -> OriginalFile:
        """Where the document's file lies, inside its source folder (DocumentNotFound;
        OriginalUnavailable when the file is gone)."""
        with self._sessions() as session:
            doc = _visible(session, document_id, caller)
            root = Path(session.get(Source, doc.source_id).path).resolve()
        raw = self._vault().open(doc.path_encrypted)
        path = (root / (raw or "")).resolve()
        if raw is None or not path.is_relative_to(root) or not path.is_file():
            raise OriginalUnavailable("the original file is not available any more")
        return OriginalFile(path, doc.format, Path(doc.path).name)

    def set_groups(self, document_id: int, groups: list[str]) -> DocumentView:
        with transaction(self._sessions) as session:
            doc = _visible(session, document_id, SYSTEM)
            doc.groups = sorted(set(groups))
            return _view(doc)

    def upload(
        self, filename: str, content: BinaryIO, groups: list[str]
    ) -> tuple[DocumentView, dict[str, Any]]:
        """Save a file into the uploads folder and queue its scan: the document and the job.
        UnsupportedUpload for a type no loader reads, UploadTooLarge past the limit."""
        from ingest.loaders import SUPPORTED_EXTENSIONS

        name = Path(filename).name.strip()
        suffix = Path(name).suffix.lower()
        if not name or suffix not in SUPPORTED_EXTENSIONS:
            raise UnsupportedUpload(
                f"unsupported file type '{suffix or name or '(no name)'}'; "
                f"supported: {', '.join(sorted(SUPPORTED_EXTENSIONS))}"
            )
        settings = self._settings
        # An upload over the per-file ingest limit would only fail later, in the worker.
        limit_mb = min(settings.api.max_upload_mb, settings.ingest.max_file_mb)
        relative = f"{uuid.uuid4().hex[:12]}/{name}"
        target = settings.upload_dir / relative
        private_folder(settings.upload_dir)
        private_folder(target.parent)
        try:
            _save(content, target, int(limit_mb * 1024 * 1024))
        except _TooLarge as exc:
            _remove_upload(settings.upload_dir, relative)
            raise UploadTooLarge(f"file is larger than the {limit_mb:g} MB upload limit") from exc
        # A scan that runs now leaves the file alone: in the uploads folder only a row made
        # here, with the upload's groups, makes a file indexable (ingest.scan.plan_scan).
        try:
            return self._commit_upload(relative, suffix, sorted(set(groups)))
        except BaseException:
            _remove_upload(settings.upload_dir, relative)
            raise

    def _commit_upload(
        self, relative: str, suffix: str, groups: list[str]
    ) -> tuple[DocumentView, dict[str, Any]]:
        from ingest.sources import upload_source
        from rag.privacy.path_names import anonymize_path

        shown = anonymize_path(self._anonymizer(), relative)
        vault = self._vault()
        with transaction(self._sessions) as session:
            source = upload_source(session, self._settings.upload_dir)
            doc = Document(
                source_id=source.id,
                path=shown,
                path_hash=vault.digest(relative),
                path_encrypted=vault.seal(relative),
                sha256="",
                format=suffix.lstrip("."),
                title=Path(shown).name,
                status="queued",
                groups=groups,
            )
            session.add(doc)
            session.flush()
            job = jobs.enqueue(session, "scan", source_id=source.id)
            return _view(doc), jobs.job_as_dict(job)

    def delete(self, document_id: int) -> None:
        """Remove an uploaded document and its file (DocumentNotFound; FolderDocument for a
        document of a folder source)."""
        with self._sessions() as session:
            doc = _visible(session, document_id, SYSTEM)
            source = session.get(Source, doc.source_id)
        if not source.managed:
            raise FolderDocument(
                f"document {document_id} comes from the folder of source '{source.name}': "
                "remove the file there (the next scan drops it) or remove the source"
            )
        self._pipeline().remove_document(document_id)
        raw = self._vault().open(doc.path_encrypted)
        if raw:
            _remove_upload(Path(source.path), raw)


def _visible(session: Session, document_id: int, caller: Caller) -> Document:
    doc = session.scalar(
        select(Document).where(Document.id == document_id, document_visible(caller))
    )
    if doc is None or doc.status == "deleted":
        raise DocumentNotFound(f"no document with id {document_id}")
    return doc


def _view(doc: Document, raw_path: str | None = None) -> DocumentView:
    return DocumentView(
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
        raw_path=raw_path,
    )


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


def _save(content: BinaryIO, target: Path, limit_bytes: int) -> None:
    written = 0
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb") as out:
        while block := content.read(1 << 20):
            written += len(block)
            if written > limit_bytes:
                raise _TooLarge
            out.write(block)
