"""Sources: register, list, pause or resume, queue a scan, remove (for the API and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.sources import (
    SourceNotFound,
    add_source,
    find_source,
    remove_source,
    set_status,
    validate_folder,
)
from rag import jobs
from rag.db.models import Document, Source
from rag.db.session import transaction


class SourcePaused(RuntimeError):
    pass


@dataclass(frozen=True)
class SourceView:
    id: int
    name: str
    path: str
    groups: list[str]
    status: str
    managed: bool
    scan_interval_s: int | None
    last_scan_at: datetime | None
    error: str | None
    documents: int  # indexed documents
    chunks: int  # their chunks


_UNSET: Any = object()


class Sources:
    def __init__(self, session_factory: sessionmaker[Session], allowed_roots: list[Path]) -> None:
        self._sessions = session_factory
        self._allowed_roots = allowed_roots

    def list(self) -> list[SourceView]:
        with self._sessions() as session:
            return [_view(session, s) for s in session.scalars(select(Source).order_by(Source.id))]

    def get(self, source: int | str) -> SourceView:
        """`source`: an id (int), or a name, id or path as typed (str). SourceNotFound."""
        with self._sessions() as session:
            return _view(session, _find(session, source))

    def add(
        self,
        path: Path | str,
        *,
        name: str | None,
        groups: list[str],
        scan_interval_s: int | None,
        scan: bool,
    ) -> tuple[SourceView, dict[str, Any] | None]:
        """Register a folder (SourceError when it may not be one) and, with `scan`, queue its
        first scan: the source and the job (None without)."""
        folder = validate_folder(path, self._allowed_roots)
        with transaction(self._sessions) as session:
            row = add_source(
                session, folder, name=name, groups=groups, scan_interval_s=scan_interval_s
            )
            job = jobs.enqueue(session, "scan", source_id=row.id) if scan else None
            return _view(session, row), jobs.job_as_dict(job) if job else None

    def for_folder(self, path: Path | str, *, groups: list[str]) -> SourceView:
        """The source of this folder (SourceError when it may not be one), registered with
        `groups` when it is not one yet (`rag ingest`: no scan job, it indexes at once)."""
        folder = validate_folder(path, self._allowed_roots)
        with transaction(self._sessions) as session:
            row = session.scalar(select(Source).where(Source.path == str(folder)))
            return _view(session, row or add_source(session, folder, groups=groups))

    def change(
        self, source: int | str, *, status: str | None = None, scan_interval_s: Any = _UNSET
    ) -> SourceView:
        """Pause or resume (`status`), and set the re-scan interval when given (None: the
        configured default)."""
        with transaction(self._sessions) as session:
            row = _find(session, source)
            if status:
                set_status(session, row, status)
            if scan_interval_s is not _UNSET:
                row.scan_interval_s = scan_interval_s
            session.flush()
            return _view(session, row)

    def queue_scan(self, source: int | str, *, refuse_paused: bool = True) -> dict[str, Any]:
        """Queue a scan of the source now: its job. SourcePaused for a paused source unless
        `refuse_paused` is False."""
        with transaction(self._sessions) as session:
            row = _find(session, source)
            if refuse_paused and row.status == "paused":
                raise SourcePaused(f"source '{row.name}' is paused; resume it first")
            return jobs.job_as_dict(jobs.enqueue(session, "scan", source_id=row.id))

    def remove(self, source: int | str) -> tuple[str, int]:
        """Remove a source and everything indexed from it: (its name, chunks removed)."""
        with transaction(self._sessions) as session:
            row = _find(session, source)
            name = row.name
            return name, remove_source(session, row)


def _find(session: Session, source: int | str) -> Source:
    if isinstance(source, str):
        return find_source(session, source)
    row = session.get(Source, source)
    if row is None:
        raise SourceNotFound(f"no source with id {source}")
    return row


def _view(session: Session, source: Source) -> SourceView:
    documents, chunks = session.execute(
        select(func.count(), func.coalesce(func.sum(Document.chunk_count), 0)).where(
            Document.source_id == source.id, Document.status == "indexed"
        )
    ).one()
    return SourceView(
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
