"""load -> anonymize -> chunk -> embed -> store, for one document, and for a whole folder."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.chunk import chunk_context, chunk_pages
from ingest.contained import (
    FileChanged,
    FileChangedWhileReading,
    OutsideRoot,
    read_failure_reason,
    read_inside,
)
from ingest.file_workers import (
    FileWorkerPool,
    PreparedText,
    WorkerConfig,
    shared_pool,
    worker_count,
)
from ingest.loaders import LoaderError, UnsupportedFormat
from ingest.pipeline_version import pipeline_version
from ingest.prepared import LoadedFile, PreparedFile, ReadFile, add_chunks
from ingest.protect_paths import protect_stored_paths
from ingest.read_ahead import Outcome, ReadAhead, outcome_of
from ingest.reembed import check_vectors, embedding_fingerprint
from ingest.report import Failure, IngestReport, ProgressCallback
from ingest.reprocess import check_pipeline
from ingest.scan import FileEntry, SourceUnavailable, plan_scan, walk
from ingest.sources import add_source
from rag.config import Settings
from rag.conversation_access import purge_citations
from rag.db.chunk_writes import delete_chunks
from rag.db.models import Chunk, Document, Source, utcnow
from rag.db.session import lock_index_log, transaction
from rag.embed import Embedder
from rag.privacy.anonymizer import Anonymizer
from rag.privacy.name_parts import parts_in
from rag.privacy.path_names import anonymize_path
from rag.privacy.path_vault import PathVault
from rag.privacy.secret import load_or_create_secret

log = logging.getLogger(__name__)

# Read-ahead (ingest/read_ahead.py): the file workers prepare the next files while a batch is
# embedded, up to this many files, or about two batches of text, ahead of the embedding.
READ_AHEAD_FILES = 64
CHARS_PER_TOKEN = 4  # rough, for prose: only sizes the read-ahead


class IngestPipeline:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        embedder: Embedder,
        anonymizer: Anonymizer,
        path_vault: PathVault | None = None,
        file_workers: FileWorkerPool | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.embedder = embedder
        self.anonymizer = anonymizer
        self.vault = path_vault or PathVault(
            load_or_create_secret(settings.anonymize.secret_key, settings.data_dir)
        )
        self._file_workers = file_workers
        self._version: str | None = None

    @property
    def file_workers(self) -> FileWorkerPool:
        """The worker processes that parse and anonymize files (shared by the process's
        pipelines of the same configuration; started on first use)."""
        if self._file_workers is None:
            config = WorkerConfig.for_ingest(
                self.anonymizer.settings,
                self.anonymizer.secret,
                self.settings.ingest,
                self.anonymizer.pseudonym_chars,
            )
            self._file_workers = shared_pool(config, worker_count(self.settings.ingest))
        return self._file_workers

    @property
    def version(self) -> str:
        """The pipeline version each document written records (ingest/pipeline_version.py)."""
        if self._version is None:
            self._version = pipeline_version(self.settings, self.anonymizer)
        return self._version

    def check_version(self) -> bool:
        """Whether every stored document was made by this pipeline; if not, the reprocess job
        is queued (ingest/reprocess.py)."""
        return check_pipeline(self.session_factory, self.version, self.anonymizer.pseudonym_chars)

    # -- a folder --------------------------------------------------------------------------

    def ingest_folder(
        self,
        root: Path,
        groups: list[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Register `root` as a source if it is not one yet (no allowed-root check: callers
        facing users go through ingest.sources.validate_folder), then scan it."""
        root = root.resolve()
        with transaction(self.session_factory) as session:
            source = session.scalar(select(Source).where(Source.path == str(root)))
            if source is None:
                source = add_source(session, root, groups=groups)
            source_id = source.id
        return self.ingest_source(source_id, on_progress)

    def ingest_source(
        self,
        source_id: int,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> IngestReport:
        """Bring the index in line with the folder: new and changed files are processed,
        deleted ones removed, moved ones re-pathed. A missing folder removes nothing."""
        started = time.perf_counter()
        protect_stored_paths(self.session_factory, self.vault, self.anonymizer)
        with self.session_factory() as session:
            source = session.get(Source, source_id)
            known = list(session.scalars(select(Document).where(Document.source_id == source_id)))
        root = Path(source.path)
        try:
            entries = walk(root)
        except SourceUnavailable as exc:
            kept = sum(1 for doc in known if doc.status == "indexed")
            reason = (
                f"source {source_id}: {exc}; its {kept} indexed documents are kept until it is back"
            )
            self._set_source_state(source_id, "unavailable", reason)
            raise SourceUnavailable(reason) from exc
        self.check_version()
        plan = plan_scan(entries, known, self.vault.digest, root, adopt_new=not source.managed)
        if plan.new or plan.changed:
            # Records which model makes the vectors (first ingest), or queues a re-embed when
            # the store holds another model's.
            check_vectors(
                self.session_factory, embedding_fingerprint(self.embedder.settings, self.embedder)
            )
        report = IngestReport(source_id=source_id, unchanged=len(plan.unchanged))
        self._refresh_unchanged(plan.unchanged)
        self._apply_moves(plan.moved)
        report.moved = len(plan.moved)
        for doc in plan.deleted:
            self.remove_document(doc.id)
            report.deleted += 1

        work = plan.new + [entry for entry, _ in plan.changed]
        waiting: list[ReadFile] = []
        batch_chunks = self.settings.ingest.embed_batch_chunks
        with self.read_ahead([(root, entry) for entry in work]) as ahead:
            for done, entry in enumerate(work):
                # Asked before each file, as before read-ahead: a stop writes the files reached
                # so far; those only read ahead are dropped, and the next scan reads them.
                if should_stop and should_stop():
                    report.stopped = True
                    break
                shown = anonymize_path(self.anonymizer, entry.relative_path)
                if on_progress:
                    on_progress(done, len(work), shown, report)
                read = self._settle(source, entry, shown, ahead.take(done), report)
                if read is not None:
                    waiting.append(read)
                # One length-sorted call for several files pads less and makes fewer small
                # batches than one call per file (bench/RESULTS.md, issue 19); each file is
                # still written in a transaction of its own. Meanwhile the file workers read on.
                if sum(len(r.prepared.chunks) for r in waiting) >= batch_chunks:
                    self._embed_and_record(source, waiting, report)
                    waiting = []
        # Files already read are written even when stopping: their work is done.
        self._embed_and_record(source, waiting, report)
        if on_progress and not report.stopped:
            on_progress(len(work), len(work), "", report)
        self._set_source_state(source_id, "active", None, scanned=True)
        report.seconds = time.perf_counter() - started
        return report

    def read_ahead(self, files: Sequence[tuple[Path, FileEntry]]) -> ReadAhead:
        """The file workers parsing and anonymizing `files` (source folder, file) in order,
        ahead of the embedding (ingest/read_ahead.py): up to READ_AHEAD_FILES files, or about
        two embedding batches of text, ahead. Taken in order with `take(i)`: an Outcome."""
        batch_chunks = self.settings.ingest.embed_batch_chunks
        text_ahead = 2 * batch_chunks * self.settings.chunking.chunk_tokens * CHARS_PER_TOKEN
        return ReadAhead(
            files,
            lambda file: self._load(*file),
            threads=self.file_workers.size,
            max_items=READ_AHEAD_FILES,
            max_weight=text_ahead,
            weight=LoadedFile.chars,
        )

    def _set_source_state(
        self, source_id: int, status: str, error: str | None, scanned: bool = False
    ) -> None:
        with transaction(self.session_factory) as session:
            source = session.get(Source, source_id)
            if source.status != "paused":
                source.status = status
            source.error = error
            if scanned:
                source.last_scan_at = utcnow()

    def _apply_moves(self, moved: list[tuple[FileEntry, Document]]) -> None:
        if not moved:
            return
        with transaction(self.session_factory) as session:
            for entry, doc in moved:
                # A document deleted earlier may still hold the new path: it makes way.
                path_hash = self.vault.digest(entry.relative_path)
                session.execute(
                    delete(Document).where(
                        Document.source_id == doc.source_id,
                        Document.path_hash == path_hash,
                        Document.status == "deleted",
                    )
                )
                row = session.get(Document, doc.id)
                row.path = anonymize_path(self.anonymizer, entry.relative_path)
                row.path_hash, row.path_encrypted = path_hash, self.vault.seal(entry.relative_path)
                row.size_bytes, row.mtime_ns = entry.size_bytes, entry.mtime_ns

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

    def process_file(
        self,
        source: Source,
        entry: FileEntry,
        shown: str,
        report: IngestReport,
        loaded: Outcome[LoadedFile] | None = None,
    ) -> None:
        """Make one file's document again, as a scan would (the reprocess job). `shown` is the
        path as logs, jobs and readers see it (names anonymized); `loaded`: the file already
        read (`read_ahead`), else it is read now."""
        if loaded is None:
            loaded = outcome_of(partial(self._load, Path(source.path)), entry)
        read = self._settle(source, entry, shown, loaded, report)
        if read is not None:
            self._embed_and_record(source, [read], report)

    def _load(self, root: Path, entry: FileEntry) -> LoadedFile:
        """Read one file from inside its source folder (ingest/contained.py) and have a file
        worker parse and anonymize it, making sure it did not change meanwhile (one retry).
        Runs in read-ahead threads: it touches neither the database nor the report."""
        limit_mb = self.settings.ingest.max_file_mb
        if entry.refused:
            raise OutsideRoot
        if entry.size_bytes > limit_mb * 1024 * 1024:
            raise LoaderError(f"file is larger than the {limit_mb:g} MB limit (ingest.max_file_mb)")
        path = entry.absolute_path
        for attempt in range(2):
            try:
                contents = read_inside(root, path)
            except FileChanged:
                continue
            signature = (contents.size_bytes, contents.mtime_ns)
            sha256 = hashlib.sha256(contents.data).hexdigest()  # of exactly what is indexed
            text = self._prepare(path, contents.data)
            if _signature(path) == signature:
                return LoadedFile(sha256, text, reread=attempt > 0)
        raise FileChangedWhileReading("file changed while being read (it is being written?)")

    def _settle(
        self,
        source: Source,
        entry: FileEntry,
        shown: str,
        outcome: Outcome[LoadedFile],
        report: IngestReport,
    ) -> ReadFile | None:
        """Chunk a file read (in this thread: the tokenizer is not shared with the readers),
        or record why it could not be read (None)."""
        try:
            loaded = outcome.get()
            if loaded.reread:
                log.info("document %s changed while being read; it was read again", shown)
            prepared = self._chunk(loaded.text)
        except UnsupportedFormat as exc:
            doc_id = self._record(source, entry, shown, None, status="skipped", error=str(exc))
            report.skipped.append(Failure(shown, str(exc), doc_id))
            return None
        except (LoaderError, OSError) as exc:
            reason = str(exc) if isinstance(exc, LoaderError) else read_failure_reason(exc)
            self._record_failure(source, entry, shown, reason, report)
            return None
        except Exception as exc:  # one bad file must never stop the folder
            self._record_internal_error(source, entry, shown, exc, report)
            return None
        return ReadFile(entry, shown, loaded.sha256, prepared)

    def _embed_and_record(
        self, source: Source, reads: list[ReadFile], report: IngestReport
    ) -> None:
        """Embed the chunks of `reads` in one call, then write each file in its own
        transaction. If the joint call fails, each file is embedded alone, so a failure stays
        with the file that caused it."""
        if not reads:
            return
        try:
            vectors = self.embedder.embed([text for r in reads for text in r.prepared.passages()])
        except Exception:
            vectors = None
        start = 0
        for read in reads:
            prepared, count = read.prepared, len(read.prepared.chunks)
            if vectors is not None:
                prepared.vectors = vectors[start : start + count]
                start += count
            else:
                try:
                    prepared.vectors = self.embedder.embed(prepared.passages())
                except Exception as exc:  # one bad file must never stop the folder
                    self._record_internal_error(source, read.entry, read.shown, exc, report)
                    continue
            self._record(
                source, read.entry, read.shown, prepared, status="indexed", sha256=read.sha256
            )
            report.indexed += 1
            report.pages += prepared.pages
            report.chunks += count

    def _record_failure(
        self, source: Source, entry: FileEntry, shown: str, reason: str, report: IngestReport
    ) -> None:
        doc_id = self._record(source, entry, shown, None, status="failed", error=reason)
        report.failed.append(Failure(shown, reason, doc_id))

    def _record_internal_error(
        self, source: Source, entry: FileEntry, shown: str, exc: Exception, report: IngestReport
    ) -> None:
        # The type only: an exception's text may quote the document.
        reason = f"internal error while indexing ({type(exc).__name__})"
        log.error("document %s: %s", shown, reason)
        self._record_failure(source, entry, shown, reason, report)

    def _prepare(self, path: Path, data: bytes) -> PreparedText:
        # Parsed and anonymized in a worker process, within the file's time and memory limits.
        return self.file_workers.prepare(path, data)

    def _chunk(self, text: PreparedText) -> PreparedFile:
        chunks = chunk_pages(
            text.pages,
            self.embedder.tokenizer,
            self.settings.chunking.chunk_tokens,
            self.settings.chunking.overlap_tokens,
            pseudonym_stand_ins=self.settings.chunking.pseudonym_stand_ins,
            overlap_always=self.settings.chunking.overlap_always,
        )
        contexts = [
            chunk_context(text.title, chunk, parts_in(chunk.text, text.name_parts))
            for chunk in chunks
        ]
        return PreparedFile(text.title, len(text.pages), chunks, contexts, text.pii_counts)

    def _record(
        self,
        source: Source,
        entry: FileEntry,
        shown: str,
        prepared: PreparedFile | None,
        status: str,
        error: str | None = None,
        sha256: str = "",
    ) -> int:
        """Write the document and its chunks in one transaction: never half a document.
        Returns the document's id."""
        path_hash = self.vault.digest(entry.relative_path)
        with transaction(self.session_factory) as session:
            lock_index_log(session)
            doc = session.scalar(
                select(Document).where(
                    Document.source_id == source.id, Document.path_hash == path_hash
                )
            )
            if doc is None:
                doc = Document(
                    source_id=source.id,
                    path_hash=path_hash,
                    path_encrypted=self.vault.seal(entry.relative_path),
                    groups=source.groups,
                )
                session.add(doc)
            else:
                delete_chunks(session, Chunk.document_id == doc.id)
            doc.path = shown
            doc.sha256 = sha256 or doc.sha256 or ""
            doc.size_bytes, doc.mtime_ns = entry.size_bytes, entry.mtime_ns
            doc.format = entry.absolute_path.suffix.lower().lstrip(".")[:20]
            doc.status, doc.error = status, error
            doc.title = prepared.title if prepared else (doc.title or Path(shown).name)
            doc.pages = prepared.pages if prepared else 0
            doc.pii_counts = dict(prepared.pii_counts) if prepared else {}
            doc.chunk_count = len(prepared.chunks) if prepared else 0
            doc.pipeline_version = self.version
            session.flush()
            if prepared:
                add_chunks(session, doc.id, prepared)
            return doc.id

    def remove_document(self, document_id: int) -> None:
        with transaction(self.session_factory) as session:
            delete_chunks(session, Chunk.document_id == document_id)
            purge_citations(session, [document_id])
            doc = session.get(Document, document_id)
            doc.status, doc.chunk_count, doc.error = "deleted", 0, None


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
