"""Registered folders: where they may lie, and adding, pausing and removing them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rag.conversation_access import purge_citations
from rag.db.chunk_writes import delete_chunks
from rag.db.models import Chunk, Document, Job, Source
from rag.private_files import private_folder

UPLOAD_SOURCE_NAME = "uploads"


class SourceError(ValueError):
    """A source cannot be registered or changed; the message says why."""


class SourceNotFound(LookupError):
    pass


def validate_folder(path: Path | str, allowed_roots: list[Path]) -> Path:
    """The folder's real path, if it is a folder below an allowed root; else SourceError.

    The check runs on the resolved path, so `..` and symlinks that leave the root are caught
    by the same rule as any other outside path.
    """
    raw = Path(path).expanduser()
    if ".." in raw.parts:
        raise SourceError(f"'..' is not allowed in a source path: {path}")
    try:
        mode = os.stat(raw).st_mode
    except FileNotFoundError as exc:
        raise SourceError(f"folder not found: {path}") from exc
    except PermissionError as exc:
        raise SourceError(f"permission denied: the service cannot open {path}") from exc
    if not stat.S_ISDIR(mode):
        kind = "a device file" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a folder"
        raise SourceError(f"{path} is {kind}: a source must be a folder")
    resolved = raw.resolve()
    roots = [Path(root).expanduser().resolve() for root in allowed_roots]
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots) or "(none configured)"
        via_link = " (through a symbolic link)" if resolved != raw.absolute() else ""
        raise SourceError(
            f"{path} lies outside the allowed roots{via_link}; allowed: {allowed} "
            "(setting ingest.allowed_roots)"
        )
    return resolved


def find_source(session: Session, ref: str | int) -> Source:
    """A source by id, name or path."""
    text = str(ref)
    query = select(Source).where(
        (Source.name == text)
        | (Source.path == text)
        | (Source.id == (int(text) if text.isdigit() else -1))
    )
    source = session.scalar(query)
    if source is None:
        raise SourceNotFound(f"no source named '{ref}' (see `rag sources list`)")
    return source


def add_source(
    session: Session,
    folder: Path,
    *,
    name: str | None = None,
    groups: list[str] | None = None,
    scan_interval_s: int | None = None,
    managed: bool = False,
) -> Source:
    """Register an already validated folder. Registering it twice is an error."""
    path = str(folder)
    existing = session.scalar(select(Source).where(Source.path == path))
    if existing is not None:
        raise SourceError(f"{path} is already registered as source '{existing.name}'")
    name = name or _free_name(session, folder.name or "root")
    if session.scalar(select(Source).where(Source.name == name)) is not None:
        raise SourceError(f"a source named '{name}' exists already")
    source = Source(
        name=name,
        path=path,
        groups=sorted(set(groups or [])),
        status="active",
        managed=managed,
        scan_interval_s=scan_interval_s,
    )
    session.add(source)
    session.flush()
    return source


def upload_source(session: Session, upload_dir: Path) -> Source:
    """The source uploads land in, made on first use."""
    private_folder(upload_dir)
    path = str(upload_dir.resolve())
    source = session.scalar(select(Source).where(Source.path == path))
    if source is None:
        name = UPLOAD_SOURCE_NAME
        if session.scalar(select(Source).where(Source.name == name)) is not None:
            name = _free_name(session, name)
        source = add_source(session, upload_dir.resolve(), name=name, managed=True)
    return source


def set_status(session: Session, source: Source, status: str) -> None:
    if status not in ("active", "paused"):
        raise SourceError(f"status must be active or paused, not '{status}'")
    source.status, source.error = status, None


def remove_source(session: Session, source: Source) -> int:
    """Remove a source, its documents and their chunks (from SQL and, through the log, from
    every index). Its active jobs are cancelled. Returns how many chunks went."""
    session.execute(
        update(Job)
        .where(Job.source_id == source.id, Job.status.in_(("queued", "running")))
        .values(cancel_requested=True)
    )
    doc_ids = select(Document.id).where(Document.source_id == source.id)
    removed = delete_chunks(session, Chunk.document_id.in_(doc_ids))
    purge_citations(session, session.scalars(doc_ids))
    session.execute(delete(Document).where(Document.source_id == source.id))
    session.delete(source)
    return removed


def _free_name(session: Session, base: str) -> str:
    taken = set(session.scalars(select(Source.name)))
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}-{suffix}", suffix + 1
    return name
