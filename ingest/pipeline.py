"""load -> anonymize -> chunk -> embed -> store, for one document, and for a whole folder."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.anonymize import Anonymizer
from ingest.chunk import TextChunk, chunk_pages
from ingest.loaders import LoaderError, Page, UnsupportedFormat, load_document
from ingest.scan import FileEntry, plan_scan, sha256_of, walk
from rag.config import Settings
from rag.db.models import Chunk, Document, IndexLog, Source
from rag.db.session import lock_index_log, transaction
from rag.embed import Embedder

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class Failure:
    path: str
    reason: str


@dataclass
class IngestReport:
    source_id: int
    indexed: int = 0
    unchanged: int = 0
    skipped: list[Failure] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    deleted: int = 0
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0


@dataclass
class _Prepared:
    title: str
    pages: int
    chunks: list[TextChunk]
    vectors: object
    pii_counts: Counter


class IngestPipeline:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        embedder: Embedder,
        anonymizer: Anonymizer,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.embedder = embedder
        self.anonymizer = anonymizer

    # -- a folder --------------------------------------------------------------------------

    def ingest_folder(
        self,
        root: Path,
        groups: list[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        root = root.resolve()
        source = self._source_for(root, groups or [])
        entries = walk(root)
        with self.session_factory() as session:
            known = list(session.scalars(select(Document).where(Document.source_id == source.id)))
        plan = plan_scan(entries, known)
        report = IngestReport(source_id=source.id, unchanged=len(plan.unchanged))
        self._refresh_unchanged(plan.unchanged)
        for doc in plan.deleted:
            self.remove_document(doc.id)
            report.deleted += 1

        work = [(entry, None) for entry in plan.new] + plan.changed
        for done, (entry, _) in enumerate(work):
            if on_progress:
                on_progress(done, len(work), entry.relative_path)
            self._ingest_file(source, entry, report)
        if on_progress:
            on_progress(len(work), len(work), "")
        report.seconds = time.perf_counter() - started
        return report

    def _source_for(self, root: Path, groups: list[str]) -> Source:
        with transaction(self.session_factory) as session:
            source = session.scalar(select(Source).where(Source.path == str(root)))
            if source is None:
                name = root.name or str(root)
                taken = set(session.scalars(select(Source.name)))
                suffix = 2
                while name in taken:
                    name, suffix = f"{root.name}-{suffix}", suffix + 1
                source = Source(name=name, path=str(root), groups=groups, status="active")
                session.add(source)
                session.flush()
            return source

    def _refresh_unchanged(self, unchanged: list[tuple[FileEntry, Document]]) -> None:
        stale = [
            (e, d) for e, d in unchanged if (e.size_bytes, e.mtime_ns) != (d.size_bytes, d.mtime_ns)
        ]
        if not stale:
            return
        with transaction(self.session_factory) as session:
            for entry, doc in stale:
                row = session.get(Document, doc.id)
                row.size_bytes, row.mtime_ns = entry.size_bytes, entry.mtime_ns

    # -- one file --------------------------------------------------------------------------

    def _ingest_file(self, source: Source, entry: FileEntry, report: IngestReport) -> None:
        limit_mb = self.settings.ingest.max_file_mb
        try:
            if entry.size_bytes > limit_mb * 1024 * 1024:
                raise LoaderError(
                    f"file is larger than the {limit_mb:g} MB limit (ingest.max_file_mb)"
                )
            sha256 = sha256_of(entry.absolute_path)
            prepared = self._prepare(entry.absolute_path)
        except UnsupportedFormat as exc:
            self._record(source, entry, None, status="skipped", error=str(exc))
            report.skipped.append(Failure(entry.relative_path, str(exc)))
            return
        except (LoaderError, OSError) as exc:
            reason = str(exc) if isinstance(exc, LoaderError) else _os_reason(exc)
            self._record(source, entry, None, status="failed", error=reason)
            report.failed.append(Failure(entry.relative_path, reason))
            return
        except Exception as exc:  # one bad file must never stop the folder
            reason = f"internal error while indexing ({type(exc).__name__})"
            log.error("document %s: %s", entry.relative_path, reason)
            self._record(source, entry, None, status="failed", error=reason)
            report.failed.append(Failure(entry.relative_path, reason))
            return
        self._record(source, entry, prepared, status="indexed", sha256=sha256)
        report.indexed += 1
        report.pages += prepared.pages
        report.chunks += len(prepared.chunks)

    def _prepare(self, path: Path) -> _Prepared:
        loaded = load_document(path)
        pii_counts: Counter = Counter()
        pages: list[Page] = []
        for page in loaded.pages:
            result = self.anonymizer.anonymize(page.text)
            pii_counts.update(result.counts)
            pages.append(Page(page.number, result.text, page.heading))
        title = self.anonymizer.anonymize(loaded.title).text
        chunks = chunk_pages(
            pages,
            self.embedder.tokenizer,
            self.settings.chunking.chunk_tokens,
            self.settings.chunking.overlap_tokens,
        )
        # The title travels with every chunk's embedding so a chunk knows what it is part of.
        vectors = self.embedder.embed([f"{title}\n{chunk.text}" for chunk in chunks])
        return _Prepared(title, len(loaded.pages), chunks, vectors, pii_counts)

    def _record(
        self,
        source: Source,
        entry: FileEntry,
        prepared: _Prepared | None,
        status: str,
        error: str | None = None,
        sha256: str = "",
    ) -> None:
        """Write the document and its chunks in one transaction: never half a document."""
        with transaction(self.session_factory) as session:
            lock_index_log(session)
            doc = session.scalar(
                select(Document).where(
                    Document.source_id == source.id, Document.path == entry.relative_path
                )
            )
            if doc is None:
                doc = Document(source_id=source.id, path=entry.relative_path, groups=source.groups)
                session.add(doc)
            else:
                _remove_chunks(session, doc.id)
            doc.sha256 = sha256 or doc.sha256 or ""
            doc.size_bytes, doc.mtime_ns = entry.size_bytes, entry.mtime_ns
            doc.format = entry.absolute_path.suffix.lower().lstrip(".")[:20]
            doc.status, doc.error = status, error
            doc.title = (
                prepared.title if prepared else (doc.title or Path(entry.relative_path).name)
            )
            doc.pages = prepared.pages if prepared else 0
            doc.pii_counts = dict(prepared.pii_counts) if prepared else {}
            doc.chunk_count = len(prepared.chunks) if prepared else 0
            session.flush()
            if prepared:
                _add_chunks(session, doc.id, prepared)

    def remove_document(self, document_id: int) -> None:
        with transaction(self.session_factory) as session:
            lock_index_log(session)
            _remove_chunks(session, document_id)
            doc = session.get(Document, document_id)
            doc.status, doc.chunk_count, doc.error = "deleted", 0, None


def _add_chunks(session: Session, document_id: int, prepared: _Prepared) -> None:
    rows = [
        Chunk(
            document_id=document_id,
            ordinal=chunk.ordinal,
            page_start=chunk.page_start,
            page_end=chunk.page_end,
            text=chunk.text,
            token_count=chunk.token_count,
            embedding=vector.tobytes(),
        )
        for chunk, vector in zip(prepared.chunks, prepared.vectors, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    session.add_all(IndexLog(op="add", chunk_id=row.id) for row in rows)


def _remove_chunks(session: Session, document_id: int) -> None:
    ids = list(session.scalars(select(Chunk.id).where(Chunk.document_id == document_id)))
    if ids:
        session.add_all(IndexLog(op="remove", chunk_id=chunk_id) for chunk_id in ids)
        session.execute(delete(Chunk).where(Chunk.document_id == document_id))


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied: the service cannot read this file"
    if isinstance(exc, FileNotFoundError):
        return "file disappeared while being read"
    return f"could not read file ({exc.strerror or type(exc).__name__})"
