"""Folder scan: which files are new, changed, unchanged or deleted since the last ingest."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from rag.db.models import Document

HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    relative_path: str
    absolute_path: Path
    size_bytes: int
    mtime_ns: int


@dataclass
class ScanPlan:
    new: list[FileEntry] = field(default_factory=list)
    changed: list[tuple[FileEntry, Document]] = field(default_factory=list)
    unchanged: list[tuple[FileEntry, Document]] = field(default_factory=list)
    deleted: list[Document] = field(default_factory=list)

    @property
    def to_process(self) -> int:
        return len(self.new) + len(self.changed)


class SourceUnavailable(RuntimeError):
    """The folder itself is gone (unmounted, moved): nothing may be deleted because of it."""


def walk(root: Path) -> list[FileEntry]:
    """Every regular file below root, hidden files and folders left out, in a stable order."""
    if not root.is_dir():
        raise SourceUnavailable(f"source folder is not available: {root}")
    entries: list[FileEntry] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:
                continue  # vanished between listing and stat
            if not path.is_file():
                continue
            entries.append(
                FileEntry(
                    relative_path=path.relative_to(root).as_posix(),
                    absolute_path=path,
                    size_bytes=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                )
            )
    return entries


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def plan_scan(entries: list[FileEntry], known: list[Document]) -> ScanPlan:
    """Compare the folder with what SQL knows. A file counts as unchanged when its size and
    mtime match the last ingest; otherwise its content hash decides."""
    by_path = {doc.path: doc for doc in known if doc.status != "deleted"}
    plan = ScanPlan()
    for entry in entries:
        doc = by_path.pop(entry.relative_path, None)
        if doc is None:
            plan.new.append(entry)
        elif doc.status == "failed" or doc.status == "queued":
            plan.changed.append((entry, doc))  # try again: the cause may have been fixed
        elif (
            doc.size_bytes == entry.size_bytes
            and doc.mtime_ns == entry.mtime_ns
            or _hash_or_none(entry.absolute_path) == doc.sha256
        ):
            plan.unchanged.append((entry, doc))
        else:
            plan.changed.append((entry, doc))
    plan.deleted = list(by_path.values())
    return plan


def _hash_or_none(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None
