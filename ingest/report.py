"""What a scan or a re-processing run reports: files indexed, unchanged, moved, failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Failure:
    path: str  # as shown: file and folder names anonymized
    reason: str
    document_id: int | None = None  # an admin reads the raw path through it


@dataclass
class IngestReport:
    source_id: int
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    skipped: list[Failure] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    deleted: int = 0
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    stopped: bool = False  # cancelled before every file was processed


# Called before each file and once at the end: (files done, files to do, current file as
# shown, report).
ProgressCallback = Callable[[int, int, str, IngestReport], None]
