"""The `reprocess` job: stored documents made again from their files when the pipeline version
(ingest/pipeline_version.py) changes; the whole story is in docs/architecture.md ("Asking",
re-processing). One transaction per document, so a reader never sees half a document; resumable
without bookkeeping (a document done carries the new version). Documents of a source whose
folder is unavailable wait (the job lists them); its next successful scan queues the job again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.prepared import LoadedFile
from ingest.read_ahead import Outcome
from ingest.report import Failure, IngestReport, ProgressCallback
from ingest.scan import FileEntry
from rag.db.chunk_writes import delete_chunks
from rag.db.models import Chunk, Document, Source, StoreMeta
from rag.db.scrub import purge_deleted_text
from rag.db.session import insert_unless_present, transaction
from rag.privacy.operators.pseudonymize import LEGACY_PSEUDONYM_CHARS

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline

log = logging.getLogger(__name__)

PSEUDONYM_CHARS_KEY = "pseudonym_chars"
FILE_GONE = (
    "the file is gone, so it could not be re-processed by the current pipeline; "
    "its passages were removed"
)
SOURCE_UNAVAILABLE = (
    "its source folder is unavailable; it is re-processed after the folder is back and scanned"
)


def _stale(version: str):
    """Indexed documents that another pipeline made (None: before versions were recorded),
    except those of a source known to be unavailable: they wait for it."""
    unavailable = select(Source.id).where(Source.status == "unavailable")
    return (
        Document.status == "indexed",
        or_(Document.pipeline_version.is_(None), Document.pipeline_version != version),
        Document.source_id.not_in(unavailable),
    )


def check_pipeline(
    session_factory: sessionmaker[Session], version: str, pseudonym_chars: int
) -> bool:
    """True when every indexed document was made by `version`; otherwise queues one reprocess
    job (asking again returns the queued one) and returns False. Records the pseudonym length
    the stored documents use the first time it is asked, and the configured one once none is
    left to re-process."""
    from rag.jobs import enqueue

    with transaction(session_factory) as session:
        any_stale = session.scalar(select(exists().where(*_stale(version))))
        recorded = session.get(StoreMeta, PSEUDONYM_CHARS_KEY)
        if recorded is None:
            # Documents without a recorded version were made before 64-bit pseudonyms.
            legacy = session.scalar(select(exists().where(Document.pipeline_version.is_(None))))
            value = str(LEGACY_PSEUDONYM_CHARS if legacy else pseudonym_chars)
            # A worker starting at the same moment may record it first: from the same
            # documents, so the same value.
            insert_unless_present(session, StoreMeta(key=PSEUDONYM_CHARS_KEY, value=value))
        elif not any_stale and recorded.value != str(pseudonym_chars):
            recorded.value = str(pseudonym_chars)
        if not any_stale:
            return True
        job = enqueue(session, "reprocess")
        log.info("the pipeline changed: stored documents are re-processed by job %d", job.id)
        return False


def stored_pseudonym_chars(session: Session) -> int | None:
    """The pseudonym length of the stored documents, for questions; None: nothing stored says
    (a store that is empty or not yet checked), so the configured length applies."""
    recorded = session.get(StoreMeta, PSEUDONYM_CHARS_KEY)
    if recorded is not None:
        return int(recorded.value)
    legacy = session.scalar(
        select(exists().where(Document.status == "indexed", Document.pipeline_version.is_(None)))
    )
    return LEGACY_PSEUDONYM_CHARS if legacy else None


@dataclass(frozen=True)
class _Planned:
    """A stale document and its file, as found when the run starts: `entry` when the file is
    there to read, else `reason` (its folder is unavailable, or the file is gone)."""

    document_id: int
    source: Source
    shown: str
    entry: FileEntry | None = None
    reason: str | None = None


def reprocess_all(
    pipeline: IngestPipeline,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> IngestReport:
    """Run every document of another pipeline version through `pipeline` again, one
    transaction per document. `on_progress` as for a scan (documents done, to do, current
    path, report); `should_stop` is asked before each document (report.stopped then True).
    The file workers read the next files while one is embedded, as in a scan
    (`pipeline.read_ahead`); a stop drops what was read ahead."""
    version = pipeline.version
    factory = pipeline.session_factory
    plans = _plan(pipeline, version)
    readable = [plan for plan in plans if plan.entry is not None]
    report = IngestReport(source_id=0)  # 0: documents of every source
    with pipeline.read_ahead([(Path(p.source.path), p.entry) for p in readable]) as ahead:
        taken = 0
        for done, plan in enumerate(plans):
            if should_stop and should_stop():
                report.stopped = True
                log.info("re-processing stopped after %d of %d documents", done, len(plans))
                return report
            loaded = None
            if plan.entry is not None:
                loaded = ahead.take(taken)  # taken even when no longer needed: in order
                taken += 1
            with factory() as session:
                doc = session.get(Document, plan.document_id)
                if doc is None or doc.status != "indexed" or doc.pipeline_version == version:
                    continue  # deleted, or made again by a scan meanwhile
            if on_progress:
                on_progress(done, len(plans), plan.shown, report)
            outcome = _reprocess_one(pipeline, plan, loaded, report)
            if outcome is not None:
                report.failed.append(Failure(plan.shown, outcome, plan.document_id))
    if on_progress:
        on_progress(len(plans), len(plans), "", report)
    check_pipeline(factory, version, pipeline.anonymizer.pseudonym_chars)
    with factory() as session:
        engine = session.get_bind()
    purge_deleted_text(engine)  # the replaced text must not linger in the files
    log.info("re-processed %d documents (%d failed)", report.indexed, len(report.failed))
    return report


def _plan(pipeline: IngestPipeline, version: str) -> list[_Planned]:
    """Every stale document, with its file (found by its real path; jobs and logs see the
    anonymized one) or the reason it cannot be read."""
    with pipeline.session_factory() as session:
        docs = list(session.scalars(select(Document).where(*_stale(version)).order_by("id")))
        sources = {doc.source_id: session.get(Source, doc.source_id) for doc in docs}
        session.expunge_all()
    return [_planned(pipeline, doc, sources[doc.source_id]) for doc in docs]


def _planned(pipeline: IngestPipeline, doc: Document, source: Source) -> _Planned:
    root = Path(source.path)
    if not root.is_dir():
        return _Planned(doc.id, source, doc.path, reason=SOURCE_UNAVAILABLE)
    relative = pipeline.vault.open(doc.path_encrypted)
    if relative is None:  # no readable path was kept (another service secret)
        return _Planned(doc.id, source, doc.path, reason=FILE_GONE)
    path = root / relative
    try:
        stat = path.stat()
    except FileNotFoundError:
        return _Planned(doc.id, source, doc.path, reason=FILE_GONE)
    except OSError:
        stat = None  # unreadable: the pipeline records why, as a scan would
    entry = FileEntry(relative, path, stat.st_size if stat else 0, stat.st_mtime_ns if stat else 0)
    return _Planned(doc.id, source, doc.path, entry=entry)


def _reprocess_one(
    pipeline: IngestPipeline,
    plan: _Planned,
    loaded: Outcome[LoadedFile] | None,
    report: IngestReport,
) -> str | None:
    """Make one document again; the reason it could not be, or None."""
    if plan.reason == SOURCE_UNAVAILABLE:
        _mark_source_unavailable(pipeline.session_factory, plan.source.id)
        return SOURCE_UNAVAILABLE
    if plan.reason == FILE_GONE:
        _fail_gone(pipeline, plan.document_id)
        return FILE_GONE
    failures = len(report.failed) + len(report.skipped)
    pipeline.process_file(plan.source, plan.entry, plan.shown, report, loaded)
    if len(report.failed) + len(report.skipped) > failures:
        # Failed now: no chunk is left, but the title was made by the old pipeline.
        _reanonymize_title(pipeline, plan.document_id)
    return None


def _fail_gone(pipeline: IngestPipeline, document_id: int) -> None:
    with transaction(pipeline.session_factory) as session:
        delete_chunks(session, Chunk.document_id == document_id)
        doc = session.get(Document, document_id)
        doc.status, doc.error, doc.chunk_count = "failed", FILE_GONE, 0
        doc.title = pipeline.anonymizer.anonymize(doc.title or "").text
        doc.pipeline_version = pipeline.version


def _reanonymize_title(pipeline: IngestPipeline, document_id: int) -> None:
    with transaction(pipeline.session_factory) as session:
        doc = session.get(Document, document_id)
        doc.title = pipeline.anonymizer.anonymize(doc.title or "").text


def _mark_source_unavailable(session_factory: sessionmaker[Session], source_id: int) -> None:
    with transaction(session_factory) as session:
        source = session.get(Source, source_id)
        if source.status != "paused":
            source.status = "unavailable"
        source.error = "the folder is unavailable; its documents are kept until it is back"
