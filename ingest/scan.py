"""Folder scan: which files are new, changed, unchanged or deleted since the last ingest."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

from ingest.contained import lies_inside, sha256_inside
from rag.db.models import Document

HASH_BLOCK = 1 << 20
# How ingest/pipeline.py words failures that may pass by themselves.
TRANSIENT_FAILURES = (
    "permission denied",
    "file disappeared",
    "file changed while being read",
    "could not read file",
    "internal error",
)


@dataclass(frozen=True)
class FileEntry:
    relative_path: str
    absolute_path: Path
    size_bytes: int
    mtime_ns: int
    # A link to a file outside the source folder: listed so its refusal is recorded, never read.
    refused: bool = False


@dataclass
class ScanPlan:
    new: list[FileEntry] = field(default_factory=list)
    changed: list[tuple[FileEntry, Document]] = field(default_factory=list)
    unchanged: list[tuple[FileEntry, Document]] = field(default_factory=list)
    deleted: list[Document] = field(default_factory=list)
    # Same content at a new path: (the file now, the document it was): update the path only.
    moved: list[tuple[FileEntry, Document]] = field(default_factory=list)


class SourceUnavailable(RuntimeError):
    """The folder itself is gone (unmounted, moved): nothing may be deleted because of it."""


def walk(root: Path) -> list[FileEntry]:
    """Every regular file below root, hidden files and folders left out, in a stable order.
    A link to a file outside root is listed as refused, with the link's own size and mtime."""
    if not root.is_dir():
        # Not the path: a folder's name may be a person's, and this text is stored and logged.
        raise SourceUnavailable("the source folder is not available (unmounted or moved?)")
    entries: list[FileEntry] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            refused = path.is_symlink() and not lies_inside(root, path)
            try:
                stat = path.lstat() if refused else path.stat()
            except OSError:
                continue  # vanished between listing and stat
            if not refused and not S_ISREG(stat.st_mode):
                continue
            entries.append(
                FileEntry(
                    relative_path=path.relative_to(root).as_posix(),
                    absolute_path=path,
                    size_bytes=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    refused=refused,
                )
            )
    return entries


def sha256_of(path: Path, root: Path | None = None) -> str:
    """The file's SHA-256; with `root`, only when the file opened lies below it."""
    if root is not None:
        return sha256_inside(root, path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def plan_scan(
    entries: list[FileEntry],
    known: list[Document],
    path_hash: Callable[[str], str],
    root: Path | None = None,
    adopt_new: bool = True,
) -> ScanPlan:
    """Compare the folder with what SQL knows, which knows a path only by its keyed hash
    (path_hash). A file counts as unchanged when its size and mtime match the last ingest;
    otherwise its content hash decides. Files are hashed only from inside `root` when it is
    given. Without `adopt_new` a file no row names is left alone: in the uploads folder only
    the upload route makes rows, with the upload's groups."""
    by_path = {doc.path_hash: doc for doc in known if doc.status != "deleted"}
    plan = ScanPlan()
    for entry in entries:
        doc = by_path.pop(path_hash(entry.relative_path), None)
        if doc is None:
            if adopt_new:
                plan.new.append(entry)
        elif doc.status == "queued" or _may_pass_now(doc):
            plan.changed.append((entry, doc))
        elif doc.size_bytes == entry.size_bytes and doc.mtime_ns == entry.mtime_ns:
            plan.unchanged.append((entry, doc))
        elif _hash_or_none(root, entry) == doc.sha256:
            plan.unchanged.append((entry, doc))  # touched, same content
        else:
            plan.changed.append((entry, doc))
    plan.deleted = list(by_path.values())
    _find_moves(plan, root)
    return plan


def _may_pass_now(doc: Document) -> bool:
    """A failure caused by the moment (a lock, a write in progress) is tried again at every
    scan; one caused by the file's content only once the file changes."""
    return doc.status == "failed" and (doc.error or "").startswith(TRANSIENT_FAILURES)


def _find_moves(plan: ScanPlan, root: Path | None) -> None:
    """A new file with the content of a deleted document is that document, moved."""
    gone = [doc for doc in plan.deleted if doc.status == "indexed" and doc.sha256]
    if not gone or not plan.new:
        return
    sizes = {doc.size_bytes for doc in gone}
    by_hash = {doc.sha256: doc for doc in gone}
    still_new = []
    for entry in plan.new:
        # Only a file of a matching size can match; the rest are not hashed here.
        matching_size = entry.size_bytes in sizes
        doc = by_hash.pop(_hash_or_none(root, entry), None) if matching_size else None
        if doc is None:
            still_new.append(entry)
        else:
            plan.moved.append((entry, doc))
            plan.deleted.remove(doc)
    plan.new = still_new


def _hash_or_none(root: Path | None, entry: FileEntry) -> str | None:
    """The file's content hash; None for a refused link or a file that cannot be read now."""
    if entry.refused:
        return None
    try:
        return sha256_of(entry.absolute_path, root)
    except OSError:
        return None
